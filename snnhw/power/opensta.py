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
from collections.abc import Sequence
from pathlib import Path

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError
from snnhw.power.activity import Netlist, Saif, net_resolver
from snnhw.synth.common import template_text
from snnhw.synth.tools import run_tool

__all__ = ["GROUPS", "energies", "opensta_power", "parse_report_power", "pin_saif"]

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


_SAIF_SPECIAL = re.compile(r"([^A-Za-z0-9_.])")


def _saif_name(name: str) -> str:
    """A SAIF identifier: every character other than letters, digits, ``_`` and ``.`` escaped."""
    return _SAIF_SPECIAL.sub(r"\\\1", name)


def pin_saif(netlist: Netlist, saif: Saif, out: Path, *, scope: str = "") -> tuple[Path, int]:
    """Write a SAIF that OpenSTA annotates from: every cell pin's activity, in its instance's scope.

    OpenSTA's ``read_saif`` sets activity on *pins*: a net record inside an ``INSTANCE`` names a
    pin of that instance, as a gate-level simulator's SAIF does. Verilator inlines the cell models
    of a flat netlist, so its SAIF holds the top's nets only (and OpenSTA would annotate the
    ports alone, propagating default activity everywhere else). Each cell pin here gets the record
    of the net it connects to (``scope`` is that net's SAIF path prefix), and the top's ports
    their own. Times are in ps. Returns the file and the number of pin records.
    """
    canon = net_resolver(netlist)
    scale = saif.timescale_ps
    duration = round(saif.duration * scale)

    def record(net: str) -> str | None:
        if net.startswith("1'b"):
            return None
        key = scope + net
        if key not in saif.tc:
            key = scope + canon(net)
            if key not in saif.tc:
                return None
        t1 = round(saif.t1.get(key, 0) * scale)
        return f"(T0 {duration - t1}) (T1 {t1}) (TX 0) (TC {saif.tc[key]})"

    def bits(name: str, nets: list[str]) -> list[tuple[str, str]]:
        if len(nets) == 1 and netlist.widths.get(name, (0, 0)) == (0, 0):
            return [(name, nets[0])]
        return [(f"{name}[{len(nets) - 1 - k}]", net) for k, net in enumerate(nets)]

    count = 0
    lines = ["(SAIFILE", '(SAIFVERSION "2.0")', '(DIRECTION "backward")', '(PROGRAM_NAME "snnhw")',
             "(DIVIDER / )", "(TIMESCALE 1 ps)", f"(DURATION {duration})", f"(INSTANCE {_saif_name(netlist.top)}",
             "  (NET"]
    for port, width in netlist.ports.items():
        hi, lo = netlist.widths.get(port, (0, 0))
        nets = [port] if width == 1 and (hi, lo) == (0, 0) else [f"{port}[{k}]" for k in
                                                                  range(hi, lo + (-1 if hi >= lo else 1), -1 if hi >= lo else 1)]
        for net in nets:
            rec = record(net)
            if rec:
                lines.append(f"    ({_saif_name(net)} {rec})")
                count += 1
    lines.append("  )")
    for inst in netlist.instances:
        pins = [(pin, rec) for name, nets in inst.pins.items() for pin, net in bits(name, nets)
                if (rec := record(net)) is not None]
        if pins:
            lines.append(f"  (INSTANCE {_saif_name(inst.name)} (NET")
            lines += [f"    ({_saif_name(pin)} {rec})" for pin, rec in pins]
            lines.append("  ))")
            count += len(pins)
    lines += [")", ")"]
    atomic_write_text(out, "\n".join(lines) + "\n")
    return out, count


def opensta_power(work: Path, *, saif: Path, lib_files: list[Path], macro_lib: Path, sim_period_ps: float,
                  netlist: Path | None = None, odb: Path | None = None, spef: Path | None = None,
                  lef_files: Sequence[Path] = (), name: str = "opensta_power",
                  progress: bool = True) -> dict[str, dict[str, float]]:
    """Run OpenSTA's ``report_power`` on ``netlist`` (or ``odb`` with ``spef``) under ``saif``.

    ``saif`` is a pin-level SAIF (:func:`pin_saif`) whose top instance is the design. Returns the
    report's rows (W) and, under ``"annotation"``, the pins with activity from the SAIF
    (``saif``) and those without (``unannotated``, which OpenSTA gives propagated activity).

    A ``netlist`` needs ``lef_files`` (technology, cells, macros): OpenROAD links a Verilog netlist
    into its database, which holds only masters it has read from LEF (ORD-2010 otherwise).
    """
    from snnhw.layout.runtime import find_openroad, tcl_value

    if (netlist is None) == (odb is None):
        raise ValueError("give a netlist or a routed database")
    if netlist is not None and not lef_files:
        raise ValueError("a netlist needs the technology, cell and macro LEF files")
    openroad = find_openroad()
    work.mkdir(parents=True, exist_ok=True)
    settings = {
        "DESIGN_NAME": "snnhw_top", "NETLIST": str(netlist.resolve()) if netlist else "",
        "ODB": str(odb.resolve()) if odb else "", "SPEF": str(spef.resolve()) if spef else "",
        "LIB_FILES": [str(p.resolve()) for p in lib_files], "MACRO_LIB": str(macro_lib.resolve()),
        "LEF_FILES": [str(p.resolve()) for p in lef_files],
        "SAIF": str(saif.resolve()), "SAIF_SCOPE": "snnhw_top", "SIM_PERIOD_PS": f"{sim_period_ps:g}",
        "POWER_REPORT": str((work / f"{name}.rpt").resolve()),
        "ACTIVITY_REPORT": str((work / f"{name}_activity.rpt").resolve()),
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
    rows = parse_report_power((work / f"{name}.rpt").read_text(errors="replace"))
    activity = (work / f"{name}_activity.rpt").read_text(errors="replace")
    rows["annotation"] = {key: float(m.group(1)) if (m := re.search(rf"^\s*{key}\s+(\d+)", activity, re.M)) else 0.0
                          for key in ("saif", "unannotated")}
    return rows


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
