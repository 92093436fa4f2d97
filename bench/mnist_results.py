"""Every figure of the MNIST results page (docs/results.md), from one command.

For the bundled ``mnist`` network (or ``--network``):

1. accuracy, events and spikes per layer on the full 10,000-image test set (golden model);
2. Verilator co-simulation of the first ``--cosim`` test images at ``--lanes``: checked bit-exact
   against the golden model (every layer's events, the scores, the predictions), measured cycles;
3. cycles per image at every lane count of ``--sweep`` (cycle model on ``--samples`` test images);
4. UltraScale+ (Yosys), ECP5 (Yosys + nextpnr) and ASAP7 (Yosys + OpenSTA) at ``--lanes``;
5. ``--out/results.json`` and ``--out/results.md`` (the tables of the results page).

    python bench/mnist_results.py [--network mnist] [--lanes 16] [--sweep 1,4,16,64] [--cosim 100]
                                  [--targets xcup,ecp5,asap7] [--out bench-mnist]

Measured on the 2-core VM with the defaults (16 lanes): golden model 1 s, Verilator 29 s with its
build cached, the flows 107 s (UltraScale+), 212 s (ECP5) and 64 s (ASAP7).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from snnhw.datasets import load_dataset
from snnhw.engines import run_engine
from snnhw.evaluate import evaluate
from snnhw.model.trace import first_divergence
from snnhw.netfile import resolve_network
from snnhw.rtl.build import resolve_build
from snnhw.rtl.cycles import event_bound, input_events_from_trace, sample_cycles, steady_cycles
from snnhw.synth import synthesize

#: The reference result (a LIF-only accelerator with differential-time encoding and a learned encoder).
REFERENCE = {"accuracy": 0.99, "xcup_latency_us": 290.0, "asap7_latency_us": 170.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="mnist", help="network file or bundled name")
    parser.add_argument("--data", default=None, help="MNIST directory")
    parser.add_argument("--lanes", type=int, default=16, help="lanes of the synthesized and co-simulated build")
    parser.add_argument("--sweep", default="1,4,16,64", help="lane counts for the cycle model")
    parser.add_argument("--samples", type=int, default=500, help="test images for the cycle model")
    parser.add_argument("--cosim", type=int, default=100, help="test images co-simulated on Verilator")
    parser.add_argument("--targets", default="xcup,ecp5,asap7")
    parser.add_argument("--out", default="bench-mnist")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    network = resolve_network(args.network)
    test = load_dataset("mnist", "test", args.data)
    results: dict[str, Any] = {"network": {"name": network.name, "sha256": network.content_hash(),
                                           "shape": [network.input.size] + [la.size for la in network.layers],
                                           "time_steps": network.time_steps}, "reference": REFERENCE}

    start = time.monotonic()
    report, _ = evaluate(network, test)
    results["golden"] = {k: report[k] for k in ("samples", "correct", "accuracy", "layers")}
    results["golden"]["seconds"] = round(time.monotonic() - start, 1)
    print(f"golden model: {100 * report['accuracy']:.2f} % on {report['samples']} test images "
          f"({results['golden']['seconds']} s)", flush=True)

    build = resolve_build(network, lanes=args.lanes)
    if args.cosim:
        x = test.x[: args.cosim]
        start = time.monotonic()
        hw = run_engine("verilator", network, x, build=build)
        golden = run_engine("golden", network, x)
        where = first_divergence(network, golden, hw)
        if where is not None:
            print(f"MISMATCH: {where}", file=sys.stderr)
            return 1
        results["cosim"] = {"samples": len(x), "lanes": args.lanes, "bit_exact": True,
                            "accuracy": float((hw.predictions == test.y[: len(x)]).mean()),
                            "cycles_per_sample_back_to_back": float(hw.extras["cycles_total"][0]) / len(x),
                            "cycles_per_sample_steady": steady_cycles(hw.extras["sample_end"],
                                                                      float(hw.extras["cycles_total"][0])),
                            "event_bound_cycles": float(event_bound(
                                network, build, input_events_from_trace(network, golden.events, len(x))).mean()),
                            "latency_cycles_mean": float(hw.extras["cycles"].mean()),
                            "seconds": round(time.monotonic() - start, 1)}
        print(f"verilator: {json.dumps(results['cosim'])}", flush=True)

    x = test.x[: args.samples]
    from snnhw.model.golden import simulate

    events = input_events_from_trace(network, simulate(network, x).events, len(x))
    sweep = []
    for lanes in (int(v) for v in args.sweep.split(",")):
        b2b, alone = sample_cycles(network, resolve_build(network, lanes=lanes), events, x)
        sweep.append({"lanes": lanes, "cycles_per_sample": b2b, "latency_cycles": alone})
        print(f"cycle model, {lanes} lanes: {b2b:.0f} cycles/image back to back, {alone:.0f} for one image", flush=True)
    results["sweep"] = sweep

    flows = {}
    for target in (t for t in args.targets.split(",") if t):
        start = time.monotonic()
        rep = synthesize(network, build, target, out / f"{target}_l{args.lanes}", inputs=x, progress=sys.stderr.isatty())
        flows[target] = {"fpga": {k: v for k, v in rep["fpga"].items() if v is not None},
                         "asic": {k: v for k, v in rep["asic"].items() if v is not None},
                         "performance": rep["performance"], "seconds": round(time.monotonic() - start, 1)}
        print(f"{target}: {json.dumps(flows[target])}", flush=True)
    results["flows"] = flows
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(_markdown(results))
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


def _markdown(r: dict[str, Any]) -> str:
    g = r["golden"]
    lines = [f"# {r['network']['name']}: {' → '.join(map(str, r['network']['shape']))}, T = {r['network']['time_steps']}",
             "", f"Accuracy (golden model, {g['samples']} test images): **{100 * g['accuracy']:.2f} %**", "",
             "| layer | size | events/image | spikes/image | saturations |", "|---|---|---|---|---|"]
    for la in g["layers"]:
        lines.append(f"| {la['name']} | {la['size']} | {la['events_per_sample']:.1f} | {la['spikes_per_sample']:.1f} | "
                     f"{la['saturations']} |")
    if "cosim" in r:
        c = r["cosim"]
        lines += ["", f"Verilator, {c['lanes']} lanes, {c['samples']} images: bit-exact, accuracy "
                  f"{100 * c['accuracy']:.2f} %, {c['cycles_per_sample_back_to_back']:.0f} cycles/image back to back "
                  f"(steady state {c['cycles_per_sample_steady']:.0f}; event bound {c['event_bound_cycles']:.0f}), "
                  f"mean latency {c['latency_cycles_mean']:.0f} cycles (first pixel accepted → prediction, images streamed "
                  "back to back)."]
    lines += ["", "| lanes | cycles/image (back to back) | cycles for one image |", "|---|---|---|"]
    lines += [f"| {s['lanes']} | {s['cycles_per_sample']:,.0f} | {s['latency_cycles']:,.0f} |" for s in r["sweep"]]
    lines += ["", "| target | figures | clock | latency/image | flow time |", "|---|---|---|---|---|"]
    for target, f in r["flows"].items():
        p = f["performance"]
        figures = ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}"
                            for k, v in (f["fpga"] or f["asic"]).items())
        lines.append(f"| {target} | {figures} | {p['clock_mhz']:.1f} MHz ({p['clock_source']}) | "
                     f"{p['latency_us']:.1f} µs | {f['seconds']:.0f} s |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
