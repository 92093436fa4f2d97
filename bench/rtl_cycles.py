"""Cycles per sample of the generated accelerator on the reference MNIST-sized network.

The reference network is the one of ``bench/golden_model.py`` (784 → patch
encoder 784 → 256 → 10, T 16). For each lane count the analytical cycle model
is evaluated on the golden model's real event counts for MNIST test images;
with ``--cosim N`` the accelerator is also generated, built on Verilator and
simulated on N images at ``--cosim-lanes`` lanes, and the measured cycles are
printed beside the model (that build takes minutes: the weights are baked into
the Verilog).

    python bench/rtl_cycles.py [--samples 200] [--lanes 1,4,16,64] [--cosim 100 --cosim-lanes 16]
    python bench/rtl_cycles.py --model-check      # the test network of the cycle-model test, on Icarus
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_model import reference_network

from snnhw.datasets import load_mnist
from snnhw.model import simulate
from snnhw.rtl.build import resolve_build
from snnhw.rtl.cycles import input_events_from_trace, predict_cycles, predict_total


def model_check() -> None:
    """Measured against modelled cycles on the network of tests/test_cosim.py's cycle-model test."""
    from snnhw.sim.runner import cosim

    from snnhw.netgen import random_network

    network = random_network(41, input_size=48, input_bits=4, sizes=[40, 24, 10], time_steps=12, density=0.5)
    x = np.random.default_rng(7).integers(0, network.input.max_value + 1, size=(6, network.input.size))
    golden = simulate(network, x)
    events = input_events_from_trace(network, golden.events, len(x))
    for config in ({"lanes": 1}, {"lanes": 2, "cores": 2}, {"lanes": 4, "cores": 2}):
        build = resolve_build(network, config)
        _, counters = cosim(network, build, x, simulator="icarus")
        measured = float(counters["total"]) / len(x)
        model = predict_total(network, build, events, x) / len(x)
        print(f"{config}: {measured:.0f} cycles/sample measured, {model:.0f} modelled "
              f"({100 * (model - measured) / measured:+.1f} %)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--lanes", default="1,4,16,64")
    parser.add_argument("--data", default=None)
    parser.add_argument("--cosim", type=int, default=0, help="also co-simulate N samples on Verilator")
    parser.add_argument("--cosim-lanes", default="16", help="comma-separated lane counts to co-simulate")
    parser.add_argument("--json", default=None)
    parser.add_argument("--model-check", action="store_true", help="only the cycle-model check on Icarus")
    args = parser.parse_args()
    if args.model_check:
        model_check()
        return 0
    x, _ = load_mnist("test", args.data)
    x = x.reshape(len(x), -1)[: args.samples].astype(np.int64)
    network = reference_network(x)
    golden = simulate(network, x)
    events = input_events_from_trace(network, golden.events, len(x))
    rows = []
    for lanes in (int(v) for v in args.lanes.split(",")):
        build = resolve_build(network, lanes=lanes)
        busy = predict_cycles(network, build, events, x)
        total = predict_total(network, build, events, x) / len(x)
        rows.append({"lanes": lanes, "model_cycles_per_sample": total,
                     "busy_per_layer": [float(b) for b in busy.mean(axis=1)]})
        print(f"lanes {lanes:3d}: model {total:10.0f} cycles/sample back to back; busy per layer "
              + ", ".join(f"{b:.0f}" for b in busy.mean(axis=1)))
    if args.cosim:
        from snnhw.sim.runner import cosim

        from snnhw.model.trace import first_divergence

        xs = x[: args.cosim]
        reference = simulate(network, xs)
        for lanes in (int(v) for v in args.cosim_lanes.split(",")):
            build = resolve_build(network, lanes=lanes)
            t0 = time.perf_counter()
            trace, counters = cosim(network, build, xs, simulator="verilator")
            wall = time.perf_counter() - t0
            exact = first_divergence(network, reference, trace) is None
            measured = float(counters["total"]) / len(xs)
            model = predict_total(network, build, events[:, : len(xs)], xs) / len(xs)
            print(f"verilator, {lanes} lanes, {len(xs)} samples: {measured:.0f} cycles/sample measured, "
                  f"{model:.0f} modelled, bit-exact {exact}, {wall:.0f} s wall (generate + build + simulate)",
                  flush=True)
            rows.append({"cosim_lanes": lanes, "samples": len(xs), "measured_cycles_per_sample": measured,
                         "model_cycles_per_sample": model, "bit_exact": exact, "wall_s": wall})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
