"""Folding the flip-flops behind an ECP5 block RAM into its output register (``snnhw.synth.ebr``).

Small hand-made Yosys netlists: the fold happens exactly where the register behaves as the
flip-flops did (same clock, one shared enable, no reset, power-up 0, nothing else reading the
outputs), and nowhere else. ``tests/test_synth.py::test_ecp5_real_run`` runs it on a real design
through nextpnr, whose flip-flop count must then match the report's.
"""

from __future__ import annotations

import copy
from typing import Any

from snnhw.synth.ebr import absorb_output_registers

CLK, CE, CE2 = 2, 3, 4


def _ram(pdp: bool = True) -> dict[str, Any]:
    width = format(36 if pdp else 18, "032b")
    conns: dict[str, list[Any]] = {"CLKA": ["0"] if pdp else [CLK], "CLKB": [CLK], "CEB": [5], "OCEA": ["0"],
                                   "OCEB": ["1"], "RSTA": ["0"], "RSTB": ["0"]}
    dirs = {p: "input" for p in conns}
    for k in range(4):
        conns[f"DOA{k}"], conns[f"DOB{k}"] = [100 + k], [200 + k]
        dirs[f"DOA{k}"] = dirs[f"DOB{k}"] = "output"
    return {"type": "DP16KD", "parameters": {"DATA_WIDTH_A": width, "DATA_WIDTH_B": width, "REGMODE_A": "NOREG",
                                             "REGMODE_B": "NOREG", "CLKAMUX": "CLKA", "CLKBMUX": "CLKB"},
            "port_directions": dirs, "connections": conns}


def _ff(d: int, q: int, *, ce: int | None = CE, clk: int = CLK, regset: str = "RESET", lsr: Any = "0") -> dict[str, Any]:
    conns: dict[str, list[Any]] = {"CLK": [clk], "DI": [d], "Q": [q], "LSR": [lsr]}
    params = {"CLKMUX": "CLK", "GSR": "DISABLED", "REGSET": regset, "SRMODE": "LSR_OVER_CE", "LSRMUX": "LSR",
              "CEMUX": "CE" if ce is not None else "1 "}
    if ce is not None:
        conns["CE"] = [ce]
    dirs = {p: ("output" if p == "Q" else "input") for p in conns}
    return {"type": "TRELLIS_FF", "parameters": params, "port_directions": dirs, "connections": conns}


def _netlist(pdp: bool = True, **ff_options: Any) -> dict[str, Any]:
    cells: dict[str, Any] = {"ram": _ram(pdp)}
    for k in range(4):
        cells[f"qa{k}"] = _ff(100 + k, 300 + k, **(ff_options if k == 2 else {}))
        cells[f"qb{k}"] = _ff(200 + k, 400 + k)
    nets = {"ram_out": {"bits": [100, 101, 102, 103]}, "q": {"bits": [300, 301, 302, 303]}}
    return {"modules": {"top": {"ports": {"clk": {"direction": "input", "bits": [CLK]}}, "cells": cells,
                                "netnames": nets}}}


def test_pseudo_dual_port_outputs_fold_into_the_read_ports_register() -> None:
    netlist = _netlist()
    stats = absorb_output_registers(netlist, "top")
    assert stats == {"ports": 1, "flip_flops": 8, "skipped": 0}
    cells = netlist["modules"]["top"]["cells"]
    assert set(cells) == {"ram"}
    ram = cells["ram"]
    # every output is read on port B's clock: both halves' registers, enabled by the flip-flops' enable
    assert ram["parameters"]["REGMODE_A"] == ram["parameters"]["REGMODE_B"] == "OUTREG"
    assert ram["connections"]["OCEA"] == ram["connections"]["OCEB"] == [CE]
    assert [ram["connections"][f"DOA{k}"][0] for k in range(4)] == [300, 301, 302, 303]
    assert [ram["connections"][f"DOB{k}"][0] for k in range(4)] == [400, 401, 402, 403]
    assert netlist["modules"]["top"]["netnames"]["ram_out"]["bits"] == ["x"] * 4  # nothing drives them now


def test_true_dual_port_folds_per_port() -> None:
    netlist = _netlist(pdp=False)
    assert absorb_output_registers(netlist, "top")["ports"] == 2
    ram = netlist["modules"]["top"]["cells"]["ram"]
    assert ram["connections"]["OCEA"] == ram["connections"]["OCEB"] == [CE]


def test_always_enabled_flip_flops_fold_with_the_enable_tied_high() -> None:
    netlist = _netlist()
    for cell in netlist["modules"]["top"]["cells"].values():
        if cell["type"] == "TRELLIS_FF":
            cell["parameters"]["CEMUX"] = "1 "
            cell["connections"].pop("CE")
    assert absorb_output_registers(netlist, "top")["ports"] == 1
    assert netlist["modules"]["top"]["cells"]["ram"]["connections"]["OCEB"] == ["1"]


def test_no_fold_where_the_register_would_behave_otherwise() -> None:
    cases = {
        "another enable": {"ce": CE2},
        "another clock": {"clk": 9},
        "power-up 1": {"regset": "SET"},
        "a reset": {"lsr": 7},
    }
    for label, options in cases.items():
        netlist = _netlist(**options)
        before = copy.deepcopy(netlist)
        stats = absorb_output_registers(netlist, "top")
        assert stats == {"ports": 0, "flip_flops": 0, "skipped": 1}, label
        assert netlist == before, label
    # an output read by logic as well as by its flip-flop
    netlist = _netlist()
    netlist["modules"]["top"]["cells"]["lut"] = {"type": "LUT4", "parameters": {}, "port_directions": {"A": "input"},
                                                 "connections": {"A": [101]}}
    before = copy.deepcopy(netlist)
    assert absorb_output_registers(netlist, "top")["ports"] == 0 and netlist == before
    # an output that is also a port of the module
    netlist = _netlist()
    netlist["modules"]["top"]["ports"]["o"] = {"direction": "output", "bits": [100]}
    assert absorb_output_registers(netlist, "top")["ports"] == 0


def test_the_nextpnr_wrapper_folds_a_file_and_refuses_a_bad_one(tmp_path, capsys) -> None:
    """``python -m snnhw.synth.ebr … --json FILE …`` (what a board build runs before nextpnr): the file is
    folded in place and the counts written beside it; a file that is not a netlist is refused in one line."""
    import json

    from snnhw.synth.ebr import main

    netlist = _netlist()
    netlist["modules"]["top"]["attributes"] = {"top": "00000000000000000000000000000001"}
    netlist["modules"]["other"] = {"attributes": {}, "cells": {}, "ports": {}}
    path = tmp_path / "n.json"
    path.write_text(json.dumps(netlist))
    assert main(["--85k", "--json", str(path), "--seed", "1"]) == 0
    assert json.loads((tmp_path / "ebr_output_registers.json").read_text()) == {"ports": 1, "flip_flops": 8,
                                                                               "skipped": 0}
    assert set(json.loads(path.read_text())["modules"]["top"]["cells"]) == {"ram"}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["--json", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: is not a Yosys JSON netlist" in err and "Traceback" not in err
    assert main(["--seed", "1"]) == 2
