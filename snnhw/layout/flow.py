"""``snnhw synth --target asap7 --layout``: place and route with OpenROAD, then sign-off after routing.

The flow continues from the mapped netlist that OpenSTA timed (``snnhw_top_asap7.v``)
in the run directory, and writes into ``<run>/layout/``:

* ``config.tcl`` — every setting, under ORFS's variable names where ORFS has one;
* ``constraint.sdc`` — the clock with uncertainty, input and output delays as a
  fraction of the period, slew and load limits (ORFS's asap7 kind);
* ``macros.lef`` (:mod:`snnhw.layout.lef`) and ``macros.tcl`` (the placement of
  :mod:`snnhw.layout.floorplan`);
* the OpenROAD run (``flows/layout/flow.tcl``): floorplan, tie-cell fan-out, macro
  placement, tap cells, power grid, pins, global placement, repair, detailed
  placement, clock tree, setup and hold repair, global and detailed routing,
  fillers, RC extraction (``rcx_patterns.rules``);
* the sign-off run (``flows/layout/signoff.tcl``): setup and hold at SS, TT and FF
  with the SPEF, the limiting path, slew and load checks, clock skew, power at TT;
* ``results/`` — routed DEF and ODB, routed netlist, SPEF; ``reports/`` — DRC and
  congestion; ``layout.png`` — the die (:mod:`snnhw.layout.picture`).

One SPEF (RCX at its one rule set) serves all three corners: the corners differ in
the cells, not in the wires.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snnhw._io import atomic_write_text
from snnhw.errors import InputError, ToolError
from snnhw.layout.floorplan import Floorplan, plan
from snnhw.layout.lef import macro_views, write_macro_lef
from snnhw.layout.runtime import find_openroad, tcl_value
from snnhw.power.opensta import parse_report_power
from snnhw.synth.asap7 import critical_path, find_fakeram, find_liberty, liberty_files
from snnhw.synth.common import render, template_text
from snnhw.synth.macros import MACRO_HALO_UM, read_fakerams
from snnhw.synth.tools import run_tool

__all__ = [
    "CORNERS",
    "DEFAULTS",
    "LAYOUT_SOURCES",
    "LAYOUT_UNITS",
    "STEPS",
    "UNTIL",
    "LayoutOptions",
    "find_platform",
    "parse_markers",
    "run_layout",
    "tcl_value",
    "update_signoff",
    "write_sdc",
]

log = logging.getLogger(__name__)

#: The steps of the OpenROAD run, in order (``SNNHW_STEP`` markers).
STEPS = ("read", "floorplan", "macro_place", "tapcell", "pdn", "io_placement", "global_place", "resize",
         "detailed_place", "cts", "global_route", "detailed_route", "fillers", "extraction")
#: Where ``--until`` may stop the flow; ``detailed_route`` runs fillers and extraction too.
UNTIL = ("global_place", "cts", "global_route", "detailed_route")
#: Sign-off corners, slowest first.
CORNERS = ("SS", "TT", "FF")
#: Layout settings (ORFS names) and their defaults. CORE_UTILIZATION is a fraction here (ORFS: per cent).
DEFAULTS: dict[str, Any] = {
    "CORE_UTILIZATION": 0.40,
    "PLACE_DENSITY": 0.60,
    "MACRO_PLACE_HALO": MACRO_HALO_UM,
    "MACRO_ROWS_HALO_X": 2.0,
    "MACRO_ROWS_HALO_Y": 2.0,
    "CELL_PAD_IN_SITES_GLOBAL_PLACEMENT": 0,
    "CELL_PAD_IN_SITES_DETAIL_PLACEMENT": 0,
    "TIE_SEPARATION": 0,
    # Corners of place and route: setup repaired at the first (TT), hold at both.
    "FLOW_CORNERS": "TT FF",
    # ps of hold margin kept by hold repair at every corner of FLOW_CORNERS: the detailed-routing
    # parasitics cost a few ps of hold against the global-routing estimate, at SS too
    "HOLD_SLACK_MARGIN": 15,
    "CTS_BUF_CELL": "BUFx4_ASAP7_75t_R",
    "MIN_ROUTING_LAYER": "M2",
    "MIN_CLK_ROUTING_LAYER": "M4",
    "MAX_ROUTING_LAYER": "M7",
    "ROUTING_LAYER_ADJUSTMENT": 0.25,
    "IO_PLACER_H": "M4",
    "IO_PLACER_V": "M5",
    "PLACE_SITE": "asap7sc7p5t",
    "TAP_CELL_NAME": "TAPCELL_ASAP7_75t_R",
    "TIEHI_CELL_AND_PORT": "TIEHIx1_ASAP7_75t_R H",
    "TIELO_CELL_AND_PORT": "TIELOx1_ASAP7_75t_R L",
    "DONT_USE_CELLS": "*x1p*_ASAP7* *xp*_ASAP7* SDF* ICG*",
    "FILL_CELLS": ("FILLERxp5_ASAP7_75t_R FILLER_ASAP7_75t_R DECAPx1_ASAP7_75t_R DECAPx2_ASAP7_75t_R "
                   "DECAPx4_ASAP7_75t_R DECAPx6_ASAP7_75t_R DECAPx10_ASAP7_75t_R"),
}
#: Constraints (ORFS asap7 kind): clock uncertainty and I/O delays as fractions of the period, limits.
CONSTRAINTS = {"uncertainty": 0.10, "io_fraction": 0.20, "max_transition_ps": 320, "output_load_ff": 1.0}
#: Platform files the flow reads from ``../shared/pdk/asap7/platform`` (by path, never copied).
PLATFORM_FILES = {
    "TECH_LEF": "asap7_tech_1x_201209.lef",
    "SC_LEF": "asap7sc7p5t_28_R_1x_220121a.lef",
    "MAKE_TRACKS": "openRoad/make_tracks.tcl",
    "TAPCELL_TCL": "openRoad/tapcell.tcl",
    "PDN_TCL": "openRoad/pdn/grid_strategy-M1-M2-M5-M6.tcl",
    "SET_RC_TCL": "setRC.tcl",
    "FASTROUTE_TCL": "fastroute.tcl",
    "RCX_RULES": "rcx_patterns.rules",
}
#: Units and sources of the ``layout`` section's figures.
LAYOUT_UNITS = {
    "layout.fmax_mhz": "MHz", "layout.fmax_mhz_by_corner": "MHz", "layout.hold_wns_ps": "ps",
    "layout.fmax_mhz_reg2reg_by_corner": "MHz", "layout.hold_wns_ps_reg2reg": "ps",
    "layout.die_area_um2": "um2", "layout.core_area_um2": "um2", "layout.core_utilization": "fraction",
    "layout.wirelength_um": "um", "layout.power_mw": "mW", "layout.clock_skew_ps": "ps",
    "layout.drc_violations": "violations", "layout.unrouted_nets": "nets", "layout.runtime_s": "s",
}
LAYOUT_SOURCES = {
    "layout.fmax_mhz": "OpenSTA 2.7 in OpenROAD after routing, TT, RCX parasitics (SPEF), propagated clock, "
                       "clock uncertainty and I/O delays of constraint.sdc: 1 / (period - worst setup slack)",
    "layout.fmax_mhz_by_corner": "as layout.fmax_mhz, at the SS, TT and FF libraries with the same SPEF",
    "layout.hold_wns_ps": "OpenSTA after routing: worst hold slack over SS, TT and FF",
    "layout.fmax_mhz_reg2reg_by_corner": "as layout.fmax_mhz_by_corner, register-to-register paths only (no I/O "
                                         "budget)",
    "layout.hold_wns_ps_reg2reg": "as layout.hold_wns_ps, register-to-register paths only",
    "layout.die_area_um2": "OpenROAD database (floorplan sized from cell and macro area)",
    "layout.core_utilization": "OpenROAD database: cell and macro area / core area (fillers and taps left out)",
    "layout.wirelength_um": "TritonRoute (detailed_route): total routed wire length after its last iteration",
    "layout.drc_violations": "TritonRoute (detailed_route) violations after its last iteration",
    "layout.unrouted_nets": "OpenROAD database: signal and clock nets with two or more pins and no wire",
    "layout.power_mw": "OpenSTA report_power at TT with the SPEF and OpenSTA's default activity "
                       "(snnhw power gives it from simulated activity); SRAM macros have no power data",
    "layout.clock_skew_ps": "OpenSTA report_clock_skew (setup), TT",
}
_MACRO = re.compile(r"^\s*(snnhw_[st]p_\d+x\d+)\s+(\S+)\s*\(", re.MULTILINE)


@dataclass(frozen=True)
class LayoutOptions:
    """What the user chose: utilisation (fraction), where to stop, and the platform directory."""

    utilization: float = DEFAULTS["CORE_UTILIZATION"]
    until: str = "detailed_route"
    platform: str | None = None
    threads: int | None = None  # NUM_CORES: OpenROAD's threads (detailed routing, placement); default all cores


def find_platform(liberty_dir: Path, platform: str | None = None) -> Path:
    """The ORFS asap7 platform directory: ``platform``, else ``SNNHW_ASAP7_PLATFORM``, else ``<liberty>/../platform``."""
    chosen = platform or os.environ.get("SNNHW_ASAP7_PLATFORM")
    path = Path(chosen) if chosen else liberty_dir.parent / "platform"
    missing = [name for name in PLATFORM_FILES.values() if not (path / name).is_file()]
    if missing:
        raise ToolError(f"the ASAP7 platform directory lacks {missing[0]} (place and route needs the ORFS asap7 "
                        "platform files); pass --platform DIR or set SNNHW_ASAP7_PLATFORM", source=str(path))
    return path


def write_sdc(path: Path, top: str, clock_mhz: float) -> Path:
    """The layout and ORFS constraints of ``top`` at ``clock_mhz`` (``flows/asap7/constraint.sdc``)."""
    return render("asap7/constraint.sdc", path, top=top, clock_mhz=f"{clock_mhz:g}",
                  period_ps=f"{1e6 / clock_mhz:.1f}", **{k: f"{v:g}" for k, v in CONSTRAINTS.items()})




def _config(settings: dict[str, Any]) -> str:
    lines = ["# snnhw: layout settings (ORFS variable names where ORFS has one); written by snnhw.layout."]
    lines += [f"set ::env({k}) {tcl_value(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def _macros_tcl(floorplan: Floorplan) -> str:
    lines = ["# snnhw: macro placement (snnhw.layout.floorplan; deterministic), µm -> database units.",
             "set block [ord::get_db_block]", "set dbu [$block getDbUnitsPerMicron]"]
    for p in floorplan.macros:
        lines.append(f"set inst [$block findInst {{{p.instance}}}]")
        lines.append(f"$inst setOrient {p.orient}")
        lines.append(f"$inst setLocation [expr {{round({p.x_um} * $dbu)}}] [expr {{round({p.y_um} * $dbu)}}]")
        lines.append("$inst setPlacementStatus FIRM")
    return "\n".join(lines) + "\n"


def parse_markers(text: str) -> tuple[dict[str, float], dict[str, str]]:
    """``SNNHW_STEP`` seconds and ``SNNHW_METRIC`` values of an OpenROAD log."""
    steps = {m.group(1): float(m.group(2)) for m in re.finditer(r"^SNNHW_STEP (\S+) (\S+)$", text, re.M)}
    metrics = {m.group(1): m.group(2).strip() for m in re.finditer(r"^SNNHW_METRIC (\S+) ?(.*)$", text, re.M)}
    return steps, metrics


def _number(metrics: dict[str, str], key: str) -> float | None:
    try:
        return float(metrics[key])
    except (KeyError, ValueError):
        return None


def limiting_path(report: str) -> dict[str, Any]:
    """Start, end (:func:`snnhw.synth.asap7.critical_path`) and the number of cell stages of the worst path
    in a ``report_checks`` text."""
    body = report.split("data arrival time")[0]
    # the data path starts at the launching register's clock pin; the clock tree lines come before it
    lines = body.splitlines()
    launch = next((i for i, line in enumerate(lines) if re.search(r"/CLK \(", line)), 0)
    stages = len({m.group(1) for line in lines[launch:]
                  if (m := re.search(r"\s(\S+)/\w+ \((?!net)[A-Za-z]\w*\)", line))})
    return critical_path(report) | {"stages": stages}


def _skew_ps(report: str) -> float | None:
    match = re.search(r"^\s*(-?\d+(?:\.\d+)?)\s+setup skew", report, re.M)
    return float(match.group(1)) if match else None


def run_layout(run_dir: Path, report: dict[str, Any], options: LayoutOptions, *, pdk: str | None = None,
               fakeram: str | None = None, clock_mhz: float | None = None, progress: bool = True) -> dict[str, Any]:
    """Place and route the run's mapped netlist and sign it off; the ``layout`` section of the report.

    ``clock_mhz`` is the constraint's clock; by default the pre-layout Fmax of the netlist at TT
    (or its corner), the clock a designer would aim for.
    """
    if options.until not in UNTIL:
        raise InputError(f"choose one of {', '.join(UNTIL)}", key="--until", value=options.until)
    if not 0.05 <= options.utilization <= 0.90:
        raise InputError("must be between 0.05 and 0.90 (a fraction of the core)", key="--utilization",
                         value=options.utilization)
    openroad = find_openroad()
    top = "snnhw_top"
    netlist = run_dir / f"{top}_asap7.v"
    lib_dir = find_liberty(pdk)
    platform = find_platform(lib_dir, options.platform)
    ram_dir = find_fakeram(lib_dir, fakeram)
    models = read_fakerams(ram_dir)
    libs = {corner: liberty_files(lib_dir, corner) for corner in CORNERS}
    out = run_dir / "layout"
    for sub in ("results", "reports"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    views = {v.name: v for v in macro_views(models, ram_dir)}
    write_macro_lef(list(views.values()), out / "macros.lef")
    text = netlist.read_text(errors="replace")
    instances = [(inst.lstrip("\\"), master, views[master].width_um, views[master].height_um)
                 for master, inst in _MACRO.findall(text)]
    asic = report["asic"]
    stdcell_area = float(asic["area_um2"]) - float(asic.get("macro_area_um2") or 0.0)
    floorplan = plan(stdcell_area, instances, utilization=options.utilization,
                     halo_um=DEFAULTS["MACRO_PLACE_HALO"])
    atomic_write_text(out / "macros.tcl", _macros_tcl(floorplan))
    clock = float(clock_mhz or asic["fmax_mhz"])
    write_sdc(out / "constraint.sdc", top, clock)
    settings: dict[str, Any] = dict(DEFAULTS) | {
        "DESIGN_NAME": top,
        "NUM_CORES": options.threads or os.cpu_count() or 1,
        "CORE_UTILIZATION": options.utilization,
        "NETLIST": str(netlist.resolve()),
        "SDC_FILE": str((out / "constraint.sdc").resolve()),
        "MACRO_LEF": str((out / "macros.lef").resolve()),
        "MACRO_PLACEMENT_TCL": str((out / "macros.tcl").resolve()),
        "DIE_AREA": list(floorplan.die),
        "CORE_AREA": list(floorplan.core),
        "RESULTS_DIR": str((out / "results").resolve()),
        "REPORTS_DIR": str((out / "reports").resolve()),
        "UNTIL": options.until if options.until != "detailed_route" else "",
    }
    settings |= {f"LIB_FILES_{c}": [str(p.resolve()) for p in libs[c].values()] for c in CORNERS}
    # OpenSTA refuses a second library of the same name: one copy of the macro models per corner
    # (the macro timing is fakeram7's one TT point at every corner).
    macro_lib = (run_dir / "macros.lib").read_text()
    for corner in CORNERS:
        path = out / f"macros_{corner}.lib"
        atomic_write_text(path, macro_lib.replace("library(snnhw_macros)", f"library(snnhw_macros_{corner})", 1))
        settings[f"MACRO_LIB_{corner}"] = str(path.resolve())
    settings |= {k: str((platform / v).resolve()) for k, v in PLATFORM_FILES.items()}
    atomic_write_text(out / "config.tcl", _config(settings))
    atomic_write_text(out / "flow.tcl", template_text("layout/flow.tcl"))
    atomic_write_text(out / "signoff.tcl", template_text("layout/signoff.tcl"))
    started = time.monotonic()
    run_tool("openroad", ["flow.tcl"], out, "openroad.log", label="OpenROAD place and route", progress=progress,
             command=openroad.argv(), env=openroad.env)
    flow_log = (out / "openroad.log").read_text(errors="replace")
    if "SNNHW_TCL_ERROR" in flow_log:
        raise ToolError(f"OpenROAD stopped: {flow_log.split('SNNHW_TCL_ERROR', 1)[1].splitlines()[0].strip()}",
                        source=str(out / "openroad.log"))
    steps, metrics = parse_markers(flow_log)
    # TritonRoute's own total after its last iteration (the database's wire objects have no length in Tcl)
    lengths = re.findall(r"^Total wire length = (\d+(?:\.\d+)?) um", flow_log, re.M)
    if lengths and metrics.get("stage") == "detailed_route":
        metrics["wirelength_um"] = lengths[-1]
    stage = metrics.get("stage", "")
    routed = stage == "detailed_route"
    spef = metrics.get("spef") if routed else None
    sign = signoff(out, openroad, odb=metrics["odb"], spef=spef, progress=progress)
    layout = _layout_section(settings, floorplan, options, clock, steps, metrics, sign, openroad.kind)
    layout["runtime_s"]["total"] = round(time.monotonic() - started, 1)
    from snnhw.layout.picture import draw_layout

    try:
        draw_layout(Path(metrics["def"]), run_dir / "layout.png", title=f"{top}: {stage}")
        layout["files"]["picture"] = str((run_dir / "layout.png").resolve())
    except (OSError, ValueError) as err:
        log.warning("layout.png not drawn: %s", err)
    atomic_write_text(out / "layout.json", json.dumps(layout, indent=2) + "\n")
    return layout


def signoff(out: Path, openroad: Any, *, odb: str, spef: str | None, progress: bool = True,
            log_name: str = "signoff.log", power_report: str = "signoff_power.rpt") -> dict[str, Any]:
    """Run ``signoff.tcl`` on a layout directory: timing at every corner, skew, checks and power at TT
    (default activity). Its settings beyond ``config.tcl`` go to ``signoff_config.tcl``."""
    extra = {"SIGNOFF_ODB": odb, "SIGNOFF_SPEF": spef or "", "POWER_REPORT": power_report}
    atomic_write_text(out / "signoff_config.tcl", _config(extra))
    run_tool("openroad", ["signoff.tcl"], out, log_name, label="OpenSTA sign-off (SS, TT, FF)", progress=progress,
             command=openroad.argv(), env=openroad.env)
    text = (out / log_name).read_text(errors="replace")
    if "SNNHW_TCL_ERROR" in text:
        raise ToolError(f"sign-off stopped: {text.split('SNNHW_TCL_ERROR', 1)[1].splitlines()[0].strip()}",
                        source=str(out / log_name))
    _, metrics = parse_markers(text)
    reports = out / "reports"
    paths = {c: limiting_path(_read(reports / f"signoff_setup_{c}.rpt")) for c in CORNERS}
    rows = parse_report_power(_read(reports / power_report))
    return {"metrics": metrics, "paths": paths, "power": {k: v["total_w"] * 1e3 for k, v in rows.items()},
            "skew_ps": _skew_ps(_read(reports / "signoff_skew.rpt"))}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _signoff_fields(sign: dict[str, Any], period: float) -> dict[str, Any]:
    """The figures of the ``layout`` section that come from sign-off (timing, hold, skew, checks, power)."""
    sm = sign["metrics"]

    def fmax(key: str) -> dict[str, float | None]:
        out = {}
        for corner in CORNERS:
            ws = _number(sm, f"{key}_{corner}")
            # the period at which the worst setup slack (uncertainty included) would be zero
            out[corner] = round(1e6 / (period - ws), 1) if ws is not None and period - ws > 0 else None
        return out

    def worst(key: str) -> float | None:
        return min((v for c in CORNERS if (v := _number(sm, f"{key}_{c}")) is not None), default=None)

    by_corner = fmax("setup_ws_ps")
    power = sign["power"] or {}
    return {
        "fmax_mhz": by_corner["TT"],
        "fmax_mhz_by_corner": by_corner,
        "setup_wns_ps_by_corner": {c: _number(sm, f"setup_ws_ps_{c}") for c in CORNERS},
        "setup_tns_ps_by_corner": {c: _number(sm, f"setup_tns_ps_{c}") for c in CORNERS},
        "hold_wns_ps": worst("hold_ws_ps"),
        "hold_wns_ps_by_corner": {c: _number(sm, f"hold_ws_ps_{c}") for c in CORNERS},
        "fmax_mhz_reg2reg_by_corner": fmax("setup_ws_ps_reg2reg"),
        "hold_wns_ps_reg2reg": worst("hold_ws_ps_reg2reg"),
        "parasitics": sm.get("parasitics"),
        "clock_skew_ps": sign["skew_ps"],
        "max_slew_violations": _int(sm, "max_slew_violations"),
        "max_cap_violations": _int(sm, "max_cap_violations"),
        "limiting_path": sign["paths"]["TT"],
        "power_mw": power.get("total"),
        "power_split_mw": {k: v for k, v in power.items() if k != "total"},
        "power_activity": sm.get("activity"),
    }


def _layout_section(settings: dict[str, Any], floorplan: Floorplan, options: LayoutOptions, clock: float,
                    steps: dict[str, float], metrics: dict[str, str], sign: dict[str, Any], kind: str) -> dict[str, Any]:
    period = 1e6 / clock
    return {
        "stage": metrics.get("stage"),
        "corner": "TT",
        "clock_mhz": clock,
        "clock_period_ps": round(period, 1),
        **_signoff_fields(sign, period),
        "die_area_um2": _number(metrics, "die_area_um2"),
        "die_size_um": [_number(metrics, "die_width_um"), _number(metrics, "die_height_um")],
        "core_area_um2": _number(metrics, "core_area_um2"),
        "core_utilization": _number(metrics, "core_utilization"),
        "stdcell_area_um2": _number(metrics, "stdcell_area_um2"),
        "macro_area_um2": _number(metrics, "macro_area_um2"),
        "macros": len(floorplan.macros),
        "wirelength_um": _number(metrics, "wirelength_um"),
        "instances": _int(metrics, "instances"),
        "buffers": _int(metrics, "buffers"),
        "clock_buffers": _int(metrics, "clock_buffers"),
        "drc_violations": _int(metrics, "drc_violations"),
        "unrouted_nets": _int(metrics, "unrouted_nets"),
        "runtime_s": {k: round(v, 1) for k, v in steps.items()},
        "settings": {k: settings[k] for k in ("CORE_UTILIZATION", "PLACE_DENSITY", "MACRO_PLACE_HALO",
                                                "CTS_BUF_CELL", "MIN_ROUTING_LAYER", "MAX_ROUTING_LAYER")}
                    | {"until": options.until} | {k: v for k, v in CONSTRAINTS.items()},
        "openroad": kind,
        "files": {k: metrics.get(k) for k in ("def", "odb", "netlist", "spef")},
    }


def update_signoff(run_dir: Path, *, progress: bool = True) -> dict[str, Any]:
    """Sign off a finished layout run of ``run_dir`` again with this version's ``signoff.tcl``.

    The routed database and its SPEF are kept; the sign-off figures of ``layout.json`` and of the
    ``layout`` section of ``report.json`` and ``report.md`` are replaced. Returns the new section.
    """
    from snnhw.synth.report import render_markdown

    out = run_dir / "layout"
    try:
        layout = json.loads((out / "layout.json").read_text())
    except (OSError, ValueError) as err:
        raise ToolError(f"no finished layout run here ({err})", source=str(out / "layout.json")) from None
    atomic_write_text(out / "signoff.tcl", template_text("layout/signoff.tcl"))
    sign = signoff(out, find_openroad(), odb=layout["files"]["odb"],
                   spef=layout["files"]["spef"] if layout.get("parasitics") == "spef" else None, progress=progress)
    layout |= _signoff_fields(sign, 1e6 / float(layout["clock_mhz"]))
    atomic_write_text(out / "layout.json", json.dumps(layout, indent=2) + "\n")
    report_path = run_dir / "report.json"
    if report_path.is_file():
        report = json.loads(report_path.read_text())
        report["layout"] = layout
        report["units"] = report.get("units", {}) | LAYOUT_UNITS
        report["sources"] = dict(sorted((report.get("sources", {}) | LAYOUT_SOURCES).items()))
        atomic_write_text(report_path, json.dumps(report, indent=2) + "\n")
        atomic_write_text(run_dir / "report.md", render_markdown(report))
    return layout


def _int(metrics: dict[str, str], key: str) -> int | None:
    value = _number(metrics, key)
    return int(value) if value is not None else None

