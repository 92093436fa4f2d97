"""Power from the standard tool: OpenSTA 2.7 (inside OpenROAD) with ``read_saif`` and ``report_power``.

:func:`opensta_power` runs ``flows/power/report_power.tcl`` in the OpenROAD process
(:mod:`snnhw.layout.runtime`) on a netlist, or on a routed database with its SPEF,
under the SAIF of a gate-level simulation, and returns ``report_power``'s table.

The simulation clocks at :data:`~snnhw.power.flow.SIM_PERIOD_PS`; the script
defines the clock with that period, so that the clock's activity and every net's
(from the SAIF) describe the same run. Dynamic power × the SAIF's duration is
then the run's dynamic energy, which does not depend on the clock; leakage power
× the run's cycles at the real clock is its leakage energy (:func:`energies`).
"""

from __future__ import annotations

import re
from pathlib import Path

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError
from snnhw.synth.common import template_text
from snnhw.synth.tools import run_tool

__all__ = ["GROUPS", "energies", "opensta_power", "parse_report_power"]

#: Row groups of OpenSTA's ``report_power``.
GROUPS = ("Sequential", "Combinational", "Clock", "Macro", "Pad")


def parse_report_power(text: str) -> dict[str, dict[str, float]]:
    """``report_power``'s rows: group → internal, switching, leakage and total power (W)."""
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] in (*GROUPS, "Total"):
            try:
                values = [float(v) for v in parts[1:5]]
            except ValueError:
                continue
            out[parts[0].lower()] = dict(zip(("internal_w", "switching_w", "leakage_w", "total_w"), values))
    if "total" not in out:
        raise ToolError("no Total row in the OpenSTA power report")
    return out


def _readable_saif(saif: Path, out: Path) -> Path:
    """A copy of ``saif`` that OpenSTA's parser reads: Verilator's ``$rootio`` instance (top-level ports,
    a name with ``$`` that OpenSTA rejects, STA-0169) is left out; the design's instance stays."""
    text = saif.read_text(errors="replace")
    start = text.find(" (INSTANCE $rootio")
    if start >= 0:
        end = text.find("\n (INSTANCE ", start + 1)
        if end >= 0:
            text = text[:start] + text[end + 1:]
    atomic_write_text(out, text)
    return out


def opensta_power(work: Path, *, saif: Path, scope: str, lib_files: list[Path], macro_lib: Path, sim_period_ps: float,
                  netlist: Path | None = None, odb: Path | None = None, spef: Path | None = None,
                  name: str = "opensta_power", progress: bool = True) -> dict[str, dict[str, float]]:
    """Run OpenSTA's ``report_power`` on ``netlist`` (or ``odb`` with ``spef``) under ``saif``; its rows in W."""
    from snnhw.layout.runtime import find_openroad, tcl_value

    if (netlist is None) == (odb is None):
        raise ValueError("give a netlist or a routed database")
    openroad = find_openroad()
    work.mkdir(parents=True, exist_ok=True)
    settings = {
        "DESIGN_NAME": "snnhw_top", "NETLIST": str(netlist.resolve()) if netlist else "",
        "ODB": str(odb.resolve()) if odb else "", "SPEF": str(spef.resolve()) if spef else "",
        "LIB_FILES": [str(p.resolve()) for p in lib_files], "MACRO_LIB": str(macro_lib.resolve()),
        "SAIF": str(_readable_saif(saif, work / f"{name}.saif").resolve()), "SAIF_SCOPE": scope, "SIM_PERIOD_PS": f"{sim_period_ps:g}",
        "POWER_REPORT": str((work / f"{name}.rpt").resolve()),
    }
    atomic_write_text(work / "power_config.tcl", "".join(f"set ::env({k}) {tcl_value(v)}\n" for k, v in settings.items()))
    atomic_write_text(work / "report_power.tcl", template_text("power/report_power.tcl"))
    run_tool("openroad", ["report_power.tcl"], work, f"{name}.log", label="OpenSTA report_power (SAIF)",
             progress=progress, command=openroad.argv(), env=openroad.env)
    text = (work / f"{name}.log").read_text(errors="replace")
    if "SNNHW_TCL_ERROR" in text or "SNNHW_POWER_DONE" not in text:
        match = re.search(r"SNNHW_TCL_ERROR (.*)", text)
        raise ToolError(f"OpenSTA power run failed: {match.group(1) if match else 'no result'}",
                        source=str(work / f"{name}.log"))
    return parse_report_power((work / f"{name}.rpt").read_text(errors="replace"))


def energies(rows: dict[str, dict[str, float]], *, sim_duration_ps: float, cycles: float,
             clock_period_ps: float) -> dict[str, float]:
    """Energy (fJ) of a run from ``report_power`` rows: dynamic per group over the SAIF's duration,
    leakage over ``cycles`` at ``clock_period_ps``."""
    out = {}
    for group in ("sequential", "combinational", "clock", "macro"):
        row = rows.get(group)
        if row:
            out[group] = (row["internal_w"] + row["switching_w"]) * sim_duration_ps * 1e-12 * 1e15
    out["leakage"] = rows["total"]["leakage_w"] * cycles * clock_period_ps * 1e-12 * 1e15
    return out
