"""The end-to-end demo: a trained network from data to silicon figures.

:func:`run_demo` takes a bundled (or any) network and a data set and:

1. evaluates it on the test split through the golden model (accuracy, events);
2. generates the accelerator's Verilog;
3. simulates the first samples on the generated Verilog (Verilator, the batch
   engine: a compiled C++ harness) and checks every
   layer's events, the scores and the predictions against the golden model;
4. synthesizes it for UltraScale+ and ECP5 (Yosys, nextpnr) and for ASAP7
   (Yosys + OpenSTA) when the PDK is found, and measures energy per sample
   from the ASAP7 netlist's own switching activity on the first test samples
   (TT corner, ``snnhw power``);
5. writes a report directory: ``report.md``, ``report.json``, ``raster.png``
   (one sample through every layer) and each flow's own run directory.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from snnhw import __version__
from snnhw._io import atomic_write_text
from snnhw.datasets import load_dataset
from snnhw.errors import SnnhwError, ToolError
from snnhw.evaluate import check_fits, evaluate, evaluation_report
from snnhw.ir import Network
from snnhw.model.trace import first_divergence

__all__ = ["DEMO_TARGETS", "run_demo"]

log = logging.getLogger(__name__)

#: Flows the demo runs, in order.
DEMO_TARGETS = ("xcup", "ecp5", "asap7")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def run_demo(
    network: Network,
    dataset: str,
    out: str | os.PathLike[str],
    *,
    samples: int = 300,
    lanes: int = 8,
    targets: tuple[str, ...] = DEMO_TARGETS,
    data: str | os.PathLike[str] | None = None,
    power_samples: int = 10,
    say: Callable[[str], None] = log.info,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the demo and write its report directory.

    Parameters
    ----------
    network:
        A network that fits ``dataset``.
    dataset:
        ``digits`` or ``mnist``.
    out:
        Report directory (created; files in it are replaced).
    samples:
        Test samples to co-simulate on Verilator.
    lanes:
        Lanes of the build that is simulated and synthesized.
    targets:
        Flows to run (a subset of :data:`DEMO_TARGETS`); ASAP7 is skipped, with
        the reason in the report, when its PDK is not found.
    power_samples:
        Test samples simulated on the ASAP7 gate-level netlist for energy per
        sample (TT corner); 0 skips it. Runs when ASAP7 is among the targets
        and found. With it, the ASAP7 flow synthesizes at the TT corner (the
        energy's corner) and the energy step reuses that run (``synth_asap7/``);
        without it, at FF (the pre-layout best case).
    say:
        Receives one line per step.

    Returns
    -------
    dict
        The summary written to ``report.json``.

    Raises
    ------
    SnnhwError
        A co-simulation mismatch against the golden model, or a tool failure.
    """
    from snnhw.engines import run_engine
    from snnhw.rtl.build import resolve_build, silicon_config
    from snnhw.rtl.generate import generate

    started = time.monotonic()
    split = load_dataset(dataset, "test", data)
    check_fits(network, split)  # before anything is written
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)

    say(f"[1/5] golden model: {network.name} on the {len(split.x)} {dataset} test samples")
    golden_report, golden = evaluate(network, split)
    say(f"      accuracy {100 * golden_report['accuracy']:.2f} % ({golden_report['correct']}/{golden_report['samples']})")

    build = resolve_build(network, lanes=lanes)
    asic = resolve_build(network, silicon_config(None), lanes=lanes)  # ASAP7: the loadable design, loaded first
    say(f"[2/5] Verilog: {lanes}-lane build → {out_dir / 'rtl'}")
    generate(network, build, out_dir / "rtl")

    n = min(samples, len(split.x))
    x, y = split.x[:n], split.y[:n]
    say(f"[3/5] co-simulation: {n} test samples on Verilator (compiled harness), checked against the golden model")
    t0 = time.monotonic()
    if progress:
        from tqdm import tqdm

        with tqdm(total=n, desc="verilator", unit="sample", disable=None, leave=False) as bar:
            hw = run_engine("verilator", network, x, build=build, progress=bar.update)
    else:
        hw = run_engine("verilator", network, x, build=build)
    cosim_s = time.monotonic() - t0
    reference = run_engine("golden", network, x)
    where = first_divergence(network, reference, hw)
    if where is not None:
        raise SnnhwError(f"co-simulation differs from the golden model: {where}")
    hw_report = evaluation_report(network, split, hw, y)
    cycles = hw.extras["cycles"]
    back_to_back = float(hw.extras["cycles_total"][0]) / n if n else 0.0
    say(f"      bit-exact: {n} samples, every layer's events, scores and predictions ({cosim_s:.0f} s); "
        f"hardware accuracy {100 * hw_report['accuracy']:.2f} %; {back_to_back:.0f} cycles per sample back to back")

    from snnhw.plots import raster_plot

    raster_plot(network, golden, 0, out_dir / "raster.png", image=split.x[0], label=int(split.y[0]))

    flows: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    chosen = [t for t in DEMO_TARGETS if t in targets]
    for k, target in enumerate(chosen, 1):
        from snnhw.synth.flow import synthesize

        if target == "asap7":
            from snnhw.synth.asap7 import find_fakeram, find_liberty

            try:
                find_fakeram(find_liberty())
            except ToolError as err:
                skipped[target] = f"ASAP7 PDK not available ({err.rule.split(';')[0]})"
                say(f"[4/5] synthesis {k}/{len(chosen)}: asap7 skipped: {skipped[target]}")
                continue
        say(f"[4/5] synthesis {k}/{len(chosen)}: {target}")
        # one ASAP7 synthesis serves the flow and the energy step: at TT, the corner of the power tables
        corner = "TT" if power_samples and target == "asap7" else "FF"  # FF: the default (FPGA flows ignore it)
        report = synthesize(network, asic if target == "asap7" else build, target, out_dir / f"synth_{target}",
                            inputs=x, progress=progress, corner=corner)
        flows[target] = report
        perf = report["performance"]
        say(f"      {_flow_line(target, report)}; {perf['latency_us']:.2f} µs per sample "
            f"({perf['clock_mhz']:.1f} MHz, {perf['clock_source']})" if perf["latency_us"] is not None else
            f"      {_flow_line(target, report)}")

    power: dict[str, Any] | None = None
    if power_samples == 0:
        skipped["power"] = "--power-samples 0"
    elif "asap7" not in flows:
        skipped["power"] = "needs the ASAP7 flow"
    else:
        from snnhw.power.flow import run_power

        m = min(power_samples, len(split.x))
        say(f"[4/5] energy: {m} test samples through the ASAP7 TT netlist (gate-level Verilator, checked against "
            "the golden model)")
        power = run_power(network, asic, out_dir / "synth_asap7", split.x[:m],
                          inputs_label=f"the first {m} {dataset} test samples", progress=progress)
        from snnhw.synth.report import fmt

        say(f"      {fmt(power['energy_per_sample_nj'])} nJ per sample ({fmt(power['energy_split_nj']['sram'])} of it "
            f"SRAM, assumed), {fmt(power['pj_per_sop'])} pJ per SOP, {fmt(power['power_mw'])} mW at "
            f"{fmt(power['clock_mhz'])} MHz ({power['clock_source']})")

    summary: dict[str, Any] = {
        "schema": "snnhw.demo-report/1",
        "snnhw": __version__,
        "network": {"name": network.name, "sha256": network.content_hash(),
                    "shape": [network.input.size] + [layer.size for layer in network.layers],
                    "time_steps": network.time_steps},
        "dataset": dataset,
        "lanes": lanes,
        "build": build.to_json(),
        "asic_build": asic.to_json(),
        "golden": {k: golden_report[k] for k in ("samples", "correct", "accuracy", "layers", "confusion")},
        "cosim": {"simulator": "verilator", "samples": n, "bit_exact": True, "accuracy": hw_report["accuracy"],
                  "cycles_per_sample_back_to_back": back_to_back, "latency_cycles_min": int(cycles.min()) if n else 0,
                  "latency_cycles_mean": float(cycles.mean()) if n else 0.0,
                  "latency_cycles_max": int(cycles.max()) if n else 0, "seconds": round(cosim_s, 1)},
        "flows": {t: {"fpga": r["fpga"], "asic": r["asic"], "performance": r["performance"], "runtime_s": r["runtime_s"]}
                  for t, r in flows.items()},
        "power": power,
        "skipped": skipped,
        "runtime_s": None,
    }
    say("[5/5] report")
    summary["runtime_s"] = round(time.monotonic() - started, 1)
    atomic_write_text(out_dir / "report.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out_dir / "report.md", _markdown(summary))
    say(f"      wrote {out_dir / 'report.md'}, report.json and raster.png ({summary['runtime_s']:.0f} s in all)")
    return summary


def _flow_line(target: str, report: dict[str, Any]) -> str:
    fpga, asic = report["fpga"], report["asic"]
    if target == "xcup":
        return f"{fpga['lut']:,} LUT, {fpga['ff']:,} FF, {fpga['bram36_equiv']} RAMB36 eq., {fpga['dsp']} DSP"
    if target == "ecp5":
        return f"{fpga['lut']:,} LUT4, {fpga['ff']:,} FF, {fpga['ebr']} EBR, routed Fmax {fpga['fmax_mhz']:.1f} MHz"
    return f"{asic['area_um2']:,.0f} µm², Fmax {asic['fmax_mhz']:.1f} MHz ({asic['corner']}, pre-layout)"


def _markdown(s: dict[str, Any]) -> str:
    net, cos = s["network"], s["cosim"]
    lines = [
        f"# snnhw demo: `{net['name']}` on {s['dataset']}",
        "",
        f"Network `{net['name']}` ({' → '.join(map(str, net['shape']))}, T = {net['time_steps']}, "
        f"sha256 `{net['sha256'][:16]}`), {s['lanes']}-lane build (ASAP7: the loadable design, empty at start-up "
        f"and loaded over its configuration stream). snnhw {s['snnhw']}.",
        "",
        "## Accuracy",
        "",
        "| engine | samples | accuracy |",
        "|---|---|---|",
        f"| golden model | {s['golden']['samples']} | {100 * s['golden']['accuracy']:.2f} % |",
        f"| Verilator co-simulation (bit-exact with the golden model) | {cos['samples']} | {100 * cos['accuracy']:.2f} % |",
        "",
        "## Activity per sample (golden model, test set)",
        "",
        "| layer | size | events/sample | spikes/sample | saturations |",
        "|---|---|---|---|---|",
    ]
    for la in s["golden"]["layers"]:
        lines.append(f"| {la['name']} | {la['size']} | {la['events_per_sample']:.1f} | {la['spikes_per_sample']:.1f} | "
                     f"{_fmt(la['saturations'])} |")
    lines += [
        "",
        "## Cycles (Verilator)",
        "",
        f"- back to back: {cos['cycles_per_sample_back_to_back']:.1f} cycles per sample",
        f"- latency of one sample (first input accepted → prediction): {cos['latency_cycles_min']} … "
        f"{cos['latency_cycles_max']} cycles, mean {cos['latency_cycles_mean']:.1f}",
        "",
        "## Synthesis",
        "",
        "| target | resources | clock | latency / sample | samples/s | flow time |",
        "|---|---|---|---|---|---|",
    ]
    for target, r in s["flows"].items():
        perf = r["performance"]
        lines.append(f"| {target} | {_flow_line(target, r)} | {_fmt(perf['clock_mhz'])} MHz ({perf['clock_source']}) | "
                     f"{_fmt(perf['latency_us'], 2)} µs | {_fmt(perf['samples_per_s'], 0)} | {_fmt(r['runtime_s'])} s |")
    for target, why in s["skipped"].items():
        if target in DEMO_TARGETS:
            lines.append(f"| {target} | skipped: {why} | | | | |")
    lines += [
        "",
        "Latency uses the cycle model on the co-simulated samples at the clock shown: `assumed` is the target "
        "clock (UltraScale+, no place and route here), `measured:nextpnr` the routed ECP5 Fmax, `measured:opensta` "
        "the pre-layout ASAP7 Fmax. Each flow's own `report.md` is in its `synth_<target>/` folder.",
        "",
    ]
    if s.get("power"):
        from snnhw.synth.report import power_markdown

        lines += power_markdown(s["power"])
        lines += ["The gate-level run's own `report.md` and `power.json` are in `synth_asap7/`; see docs/power.md.", ""]
    elif "power" in s["skipped"]:
        lines += [f"Energy per sample: not measured ({s['skipped']['power']}).", ""]
    lines += [
        "![spike raster](raster.png)",
        "",
        f"Run time {s['runtime_s']:.0f} s.",
        "",
    ]
    return "\n".join(lines)

