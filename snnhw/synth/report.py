"""Synthesis reports: one run as markdown, several runs as a table and plots (``snnhw report``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snnhw._io import atomic_write_text
from snnhw.errors import InputError

__all__ = ["COLUMNS", "compare", "fmt", "layout_markdown", "load_report", "plot_reports", "power_markdown", "render_markdown",
           "table"]

#: Columns of the comparison table: (header, section, key).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("LUT", "fpga", "lut"), ("FF", "fpga", "ff"), ("carry", "fpga", "carry"), ("DSP", "fpga", "dsp"),
    ("BRAM36", "fpga", "bram36_equiv"), ("EBR", "fpga", "ebr"), ("depth", "fpga", "logic_depth"),
    ("FPGA Fmax MHz", "fpga", "fmax_mhz"), ("area µm²", "asic", "area_um2"), ("macro µm²", "asic", "macro_area_um2"),
    ("WNS ps", "asic", "wns_ps"), ("ASIC Fmax MHz", "asic", "fmax_mhz"),
    ("post-route MHz", "layout", "fmax_mhz"), ("die µm²", "layout", "die_area_um2"),
    ("cycles/sample", "performance", "cycles_per_sample"), ("event bound", "performance", "event_bound_cycles"),
    ("clock MHz", "performance", "clock_mhz"),
    ("latency µs", "performance", "latency_us"), ("samples/s", "performance", "samples_per_s"),
    ("nJ/sample", "power", "energy_per_sample_nj"), ("pJ/SOP", "power", "pj_per_sop"), ("mW", "power", "power_mw"),
)


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e9:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _lanes(report: dict[str, Any]) -> str:
    return "/".join(str(layer["lanes"]) for layer in report["build"]["layers"])


def render_markdown(report: dict[str, Any]) -> str:
    """One run's ``report.md``: every figure with its unit and source, then the notes."""
    lines = [f"# snnhw synthesis report: {report['network']['name']} on {report['target']}", "",
             f"- network sha256 `{report['network']['sha256'][:16]}…`, layers {report['network']['layers']}, "
             f"T {report['network']['time_steps']}",
             f"- build: lanes {_lanes(report)} per layer, build sha256 `{report['build']['sha256'][:16]}…`",
             f"- target clock {report['target_clock_mhz']:g} MHz; tools: "
             + ", ".join(f"{k} {v}" for k, v in report["tools"].items()), ""]
    units, sources = report["units"], report["sources"]
    for section in ("fpga", "asic", "performance"):
        rows = [(k, v) for k, v in report[section].items() if v is not None and not isinstance(v, dict | list)]
        if not rows:
            continue
        lines += [f"## {section}", "", "| figure | value | unit | source |", "|---|---|---|---|"]
        for key, value in rows:
            name = f"{section}.{key}"
            lines.append(f"| {key} | {fmt(value)} | {units.get(name, '')} | {sources.get(name, '')} |")
        lines.append("")
    if report.get("layout"):
        lines += layout_markdown(report["layout"])
    if report.get("power"):
        lines += power_markdown(report["power"])
    if report.get("orfs"):
        lines += ["## OpenROAD-flow-scripts", "", f"- design configuration: `{report['orfs']['config']}`",
                  f"- ran: {'yes' if report['orfs']['ran'] else 'no (FLOW_HOME not set)'}", ""]
        for key, value in (report["orfs"].get("metrics") or {}).items():
            lines.append(f"- {key}: {fmt(value)}")
    if report.get("notes"):
        lines += ["## Notes", ""] + [f"- {note}" for note in report["notes"]] + [""]
    lines.append(f"Wall time of the flow: {report.get('runtime_s')} s (timing noise; not a result).")
    return "\n".join(lines) + "\n"


def layout_markdown(lay: dict[str, Any]) -> list[str]:
    """The lines of a ``layout`` section (``snnhw synth --layout``): sign-off after routing."""
    by = lay["fmax_mhz_by_corner"]
    r2r = lay.get("fmax_mhz_reg2reg_by_corner") or {}
    path = lay.get("limiting_path") or {}
    steps = ", ".join(f"{k} {fmt(v)}" for k, v in lay["runtime_s"].items())
    return [
        f"## layout (OpenROAD, last step: {lay['stage']})", "",
        f"- **Fmax {fmt(lay['fmax_mhz'])} MHz at {lay['corner']}** after routing, with parasitics "
        f"({lay.get('parasitics')}), propagated clock and {lay['settings']['uncertainty']:.0%} clock uncertainty; "
        f"SS {fmt(by['SS'])} MHz, FF {fmt(by['FF'])} MHz; constraint clock {fmt(lay['clock_mhz'])} MHz",
        f"- register to register (without the I/O budget): SS {fmt(r2r.get('SS'))}, TT {fmt(r2r.get('TT'))}, "
        f"FF {fmt(r2r.get('FF'))} MHz; worst hold slack {fmt(lay.get('hold_wns_ps_reg2reg'))} ps",
        f"- worst hold slack {fmt(lay['hold_wns_ps'])} ps (over SS, TT, FF); clock skew {fmt(lay['clock_skew_ps'])} ps; "
        f"{fmt(lay['clock_buffers'])} clock-tree buffers",
        f"- die {fmt(lay['die_area_um2'])} µm² ({' × '.join(fmt(v) for v in lay['die_size_um'])} µm), core utilisation "
        f"{fmt(lay['core_utilization'])}, {fmt(lay['macros'])} SRAM macros, {fmt(lay['instances'])} instances "
        f"({fmt(lay['buffers'])} buffers), wire {fmt(lay['wirelength_um'])} µm",
        f"- DRC violations {fmt(lay['drc_violations'])}, unrouted nets {fmt(lay['unrouted_nets'])}, slew violations "
        f"{fmt(lay['max_slew_violations'])}, load violations {fmt(lay['max_cap_violations'])}",
        f"- limiting path ({lay['corner']}): {path.get('startpoint')} → {path.get('endpoint')}, "
        f"{fmt(path.get('stages'))} stages",
        f"- power at TT (OpenSTA, {lay.get('power_activity')} activity): {fmt(lay['power_mw'])} mW",
        f"- run time (s): {steps}", "",
    ]


def power_markdown(p: dict[str, Any]) -> list[str]:
    """The lines of a ``power`` section (``snnhw power``): energy and its split, mW, pJ per SOP, SRAM,
    sensitivity, and what is measured, modelled and assumed. Shared by ``report.md`` and the demo's report."""
    split = ", ".join(f"{k} {fmt(v)}" for k, v in p["energy_split_nj"].items())
    lines = [f"## power (gate-level activity, {p.get('stage', 'synthesis')} netlist)", "",
             f"- energy per sample: **{fmt(p['energy_per_sample_nj'])} nJ** ({split} nJ), over {p['samples']} "
             f"samples ({p['inputs']}), at {fmt(p['clock_mhz'])} MHz ({p['clock_source']}), {p['corner']} corner",
             f"- average power {fmt(p['power_mw'])} mW; {fmt(p['sops_per_sample'])} SOPs per sample, "
             f"{fmt(p['pj_per_sop'])} pJ per SOP",
             f"- SRAM: {fmt(p['sram_accesses']['reads'])} reads and {fmt(p['sram_accesses']['writes'])} writes over "
             f"the {p['samples']} samples; energy range {fmt(p['sram_range_nj'][0])}–{fmt(p['sram_range_nj'][1])} nJ "
             "per sample",
             "- sensitivity to the assumed input slew: "
             + ", ".join(f"{k} {fmt(v)}" for k, v in p["sensitivity"].items()), ""]
    cross = p.get("cross_check")
    if cross:
        lines += [f"- cross-check on the {cross['netlist']} netlist and the same SAIF: energy model "
                  f"{fmt(cross['model_logic_nj'])} nJ, OpenSTA report_power {fmt(cross['opensta_logic_nj'])} nJ per "
                  f"sample without SRAM (ratio {fmt(cross['ratio'])}; parasitics: {cross['parasitics']})", ""]
    return lines + [f"- {k}: {v}" for k, v in p["provenance"].items()] + [""]


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``report.json`` from a run directory (or the file itself)."""
    p = Path(path)
    file = p / "report.json" if p.is_dir() else p
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise InputError("no report.json here: give directories written by snnhw synth", source=str(p)) from None
    except ValueError as err:
        raise InputError(f"not a JSON report ({err})", source=str(file)) from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("snnhw.synth-report/"):
        raise InputError("not an snnhw synthesis report (schema key missing)", source=str(file), key="schema",
                         value=data.get("schema") if isinstance(data, dict) else None)
    for key in ("target", "network", "build", "fpga", "asic", "performance"):
        if key not in data or (key != "target" and not isinstance(data[key], dict)):
            raise InputError("required section missing or not an object", source=str(file), key=key)
    if not isinstance(data["build"].get("layers"), list) or "name" not in data["network"]:
        raise InputError("required keys missing (network.name, build.layers)", source=str(file), key="build.layers")
    return data


def table(reports: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """A markdown table comparing runs (columns where at least one run has a value)."""
    cols = [c for c in COLUMNS if any((r.get(c[1]) or {}).get(c[2]) is not None for _, r in reports)]
    head = ["run", "target", "network", "lanes", *[c[0] for c in cols]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in reports:
        cells = [name, r["target"], r["network"]["name"], _lanes(r), *[fmt((r.get(c[1]) or {}).get(c[2])) for c in cols]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_reports(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> list[Path]:
    """PNG plots of resources and latency against lanes, one line per target."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def lanes(r: dict[str, Any]) -> int:
        return max(layer["lanes"] for layer in r["build"]["layers"])

    targets = sorted({r["target"] for _, r in reports})
    panels = [("performance", "latency_us", "latency per sample (µs)"),
              ("performance", "cycles_per_sample", "cycles per sample")]
    resource = [("fpga", "lut", "LUTs"), ("fpga", "ff", "FFs"), ("fpga", "bram36_equiv", "RAMB36 equivalents"),
                ("fpga", "ebr", "EBR"), ("asic", "area_um2", "ASAP7 area (µm²)")]
    panels += [p for p in resource if any(r[p[0]].get(p[1]) is not None for _, r in reports)]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    colours = {target: f"C{i}" for i, target in enumerate(("xcup", "ecp5", "asap7"))}
    for ax, (section, key, label) in zip(axes.flat, panels):
        for target in targets:
            pts = sorted((lanes(r), r[section][key]) for _, r in reports
                         if r["target"] == target and r[section].get(key) is not None)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=target,
                        color=colours.get(target))
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("lanes (widest layer)")
        ax.set_title(label, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    name = reports[0][1]["network"]["name"]
    fig.suptitle(f"{name}: resources and latency against lanes", fontsize=11)
    fig.tight_layout()
    path = out / "report_lanes.png"
    tmp = out / ".report_lanes.png.tmp"
    fig.savefig(tmp, dpi=110, format="png", metadata={"Software": None})
    plt.close(fig)
    os.replace(tmp, path)
    return [path]


def compare(dirs: Sequence[str | os.PathLike[str]], out: Path) -> tuple[str, dict[str, Path]]:
    """Write ``out/report.md`` (table) and ``out/report_lanes.png`` comparing the runs in ``dirs``.

    Returns the markdown table and the files written.
    """
    reports = [(Path(d).name or str(d), load_report(d)) for d in dirs]
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    text = table(reports)
    plots = plot_reports(reports, out)
    atomic_write_text(md, "# snnhw synthesis runs compared\n\n" + text + "\n![resources and latency against lanes](report_lanes.png)\n")
    return text, {"markdown": md, "plot": plots[0]}
