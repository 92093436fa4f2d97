"""OpenROAD-flow-scripts driver: a ready ORFS design directory, run where ORFS is installed.

:func:`write_orfs` writes ``orfs/config.mk`` for the netlist that snnhw mapped and timed
(``SYNTH_NETLIST_FILES``: ORFS skips its own synthesis, so the SRAM tiles stay macros),
with the macro abstracts and timing models (``ADDITIONAL_LEFS``, ``ADDITIONAL_LIBS``), the
constraints of ``snnhw synth --layout`` (``orfs/constraint.sdc``), its utilisation, density,
halo and hold margin, and the corner. When ``FLOW_HOME`` names an ORFS ``flow/`` directory,
:func:`run_orfs` runs ``make -C $FLOW_HOME DESIGN_CONFIG=… WORK_HOME=…`` and
:func:`parse_orfs_metrics` reads the final report (``logs/asap7/<nickname>/base/6_report.json``)
into the report schema.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError
from snnhw.synth.asap7 import find_fakeram, find_liberty
from snnhw.synth.common import render
from snnhw.synth.macros import read_fakerams
from snnhw.synth.tools import run_tool

__all__ = ["ORFS_CORNER", "REQUIRED_VARIABLES", "parse_config_mk", "parse_orfs_metrics", "run_orfs", "write_orfs"]

#: snnhw corner → ORFS asap7 ``CORNER``.
ORFS_CORNER = {"FF": "BC", "TT": "TC"}
#: Variables an ORFS design configuration must set (ORFS documentation, "Flow variables").
REQUIRED_VARIABLES = ("DESIGN_NAME", "PLATFORM", "VERILOG_FILES", "SDC_FILE")
#: ORFS metric keys read from the final report, and where they go in the report schema.
METRICS = {
    "finish__timing__setup__ws": "wns_ps",
    "finish__design__instance__area": "area_um2",
    "finish__design__instance__area__macros": "macro_area_um2",
    "finish__design__instance__count": "cells",
    "finish__power__total": "power_w",
}


def write_orfs(run_dir: Path, top: str, *, network: str, network_hash: str, build_hash: str, clock_mhz: float,
               corner: str = "FF", pdk: str | None = None, fakeram: str | None = None) -> dict[str, Path]:
    """Write the ORFS design directory ``run_dir/orfs`` for the mapped netlist ``run_dir/<top>_asap7.v``.

    ``run_dir`` holds a finished ASAP7 synthesis (the netlist and ``macros.lib``); the macro
    abstracts come from the fakeram7 models in ``fakeram`` (or the project's lookup).
    """
    from snnhw.layout.flow import DEFAULTS, write_sdc
    from snnhw.layout.lef import macro_views, write_macro_lef

    orfs = run_dir / "orfs"
    orfs.mkdir(exist_ok=True)
    netlist = (run_dir / f"{top}_asap7.v").resolve()
    if not netlist.is_file():
        raise ToolError("no mapped ASAP7 netlist to hand to ORFS (run the asap7 synthesis first)", source=str(netlist))
    ram_dir = find_fakeram(find_liberty(pdk), fakeram)
    files = {"config": orfs / "config.mk", "sdc": orfs / "constraint.sdc", "macro_lef": orfs / "macros.lef",
             "macro_lib": orfs / "macros.lib"}
    write_macro_lef(macro_views(read_fakerams(ram_dir), ram_dir), files["macro_lef"])
    atomic_write_text(files["macro_lib"], (run_dir / "macros.lib").read_text())
    write_sdc(files["sdc"], top, clock_mhz)
    render("orfs/config.mk", files["config"], top=top, network=network, network_hash=network_hash,
           build_hash=build_hash, nickname=f"snnhw_{network_hash[:8]}", verilog=netlist,
           sdc=files["sdc"].resolve(), macro_lef=files["macro_lef"].resolve(), macro_lib=files["macro_lib"].resolve(),
           utilization=f"{DEFAULTS['CORE_UTILIZATION'] * 100:g}", density=f"{DEFAULTS['PLACE_DENSITY']:.2f}",
           halo=f"{DEFAULTS['MACRO_PLACE_HALO']:g}", hold_margin=DEFAULTS["HOLD_SLACK_MARGIN"],
           orfs_corner=ORFS_CORNER[corner], config=files["config"].resolve(), work_home=orfs.resolve() / "work")
    return files


def parse_config_mk(text: str) -> dict[str, str]:
    """``export NAME = value`` lines of a ``config.mk`` (comments skipped)."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export "):].split("=", 1)
            out[name.strip().rstrip("?:")] = value.strip()
    return out


def parse_orfs_metrics(report: dict[str, Any]) -> dict[str, Any]:
    """The ``asic`` figures of an ORFS final report (``6_report.json``, or ``metadata.json``)."""
    flat: dict[str, Any] = {}
    for key, value in report.items():
        if isinstance(value, dict):  # some ORFS versions group metrics by stage
            flat.update(value)
        else:
            flat[key] = value
    out: dict[str, Any] = {}
    for key, name in METRICS.items():
        if key in flat and flat[key] not in (None, "N/A", "ERR"):
            out[name] = float(flat[key])
    return out


def run_orfs(run_dir: Path, top: str, nickname: str, *, progress: bool = True) -> dict[str, Any] | None:
    """Run ORFS on ``run_dir/orfs`` when ``FLOW_HOME`` is set; ``None`` (and how to run it) otherwise."""
    flow_home = os.environ.get("FLOW_HOME")
    config = (run_dir / "orfs" / "config.mk").resolve()
    work = (run_dir / "orfs" / "work").resolve()
    if not flow_home:
        return None
    if not (Path(flow_home) / "Makefile").is_file():
        raise ToolError("FLOW_HOME does not name an OpenROAD-flow-scripts flow/ directory (no Makefile)",
                        source=flow_home)
    if shutil.which("openroad") is None and not os.environ.get("OPENROAD_EXE"):
        raise ToolError("OpenROAD not found: put openroad on PATH or set OPENROAD_EXE (ORFS's env.sh does)")
    work.mkdir(parents=True, exist_ok=True)
    run_tool("make", ["-C", flow_home, f"DESIGN_CONFIG={config}", f"WORK_HOME={work}"], run_dir / "orfs",
             "orfs.log", label="OpenROAD-flow-scripts (asap7)", progress=progress)
    report = work / "logs" / "asap7" / nickname / "base" / "6_report.json"
    try:
        return parse_orfs_metrics(json.loads(report.read_text()))
    except (OSError, ValueError) as err:
        raise ToolError(f"ORFS final report unreadable ({err})", source=str(report)) from None
