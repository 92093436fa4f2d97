"""Benchmark: golden-model throughput on a reference MNIST-sized network.

The network: input 784 (8 bits) → encoder 784 (each neuron sees one 4×4 patch
of the 28×28 image: 16 non-zero weights) → 256 → 10, T = 16, weight bits 6,
potential bits 16, amplitude bits 2, leak shift:3, reset subtract. Weights are
random (seed 0); thresholds are calibrated on the inputs so that about 10 % of
encoder and 5 % of hidden neuron-steps spike. Inputs are the MNIST test images
when they can be found (``--data``, ``SNNHW_MNIST_DIR``, ``../shared/data/mnist``),
else uniform random pixels.

Run::

    .venv/bin/python bench/golden_model.py            # 10,000 samples
    .venv/bin/python bench/golden_model.py --samples 2000 --json out.json
    .venv/bin/python bench/golden_model.py --saturating --samples 1000

``--saturating`` narrows every layer to 10 potential bits (thresholds capped at
300), so that most additions clamp: the worst case, where the model replays
additions one by one.

It prints samples per second, events per sample and peak memory. It is a
benchmark, not a test: the figure depends on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import resource
import sys
import time

import numpy as np

from snnhw.datasets import load_mnist
from snnhw.errors import InputError
from snnhw.ir import InputSpec, Layer, LayerKind, Leak, LeakKind, Network, Readout, Reset
from snnhw.model import simulate


def _patch_encoder_weights(rng: np.random.Generator) -> np.ndarray:
    weight = np.zeros((784, 784), dtype=np.int64)
    for neuron in range(784):
        r, c = divmod(neuron, 28)
        r0, c0 = min(r, 24), min(c, 24)
        for dr in range(4):
            for dc in range(4):
                weight[neuron, (r0 + dr) * 28 + c0 + dc] = rng.integers(-32, 32)
    return weight


def _layer(name: str, kind: LayerKind, weight: np.ndarray, threshold: int, bias: np.ndarray | None = None) -> Layer:
    return Layer(
        name=name,
        kind=kind,
        size=weight.shape[0],
        weight_bits=6,
        potential_bits=16,
        threshold=threshold,
        leak=Leak(LeakKind.SHIFT, 3),
        reset=Reset.SUBTRACT,
        amplitude_bits=2,
        weight=weight,
        bias=bias,
    )


def _network(weights: list[np.ndarray], thresholds: list[int]) -> Network:
    kinds = [LayerKind.ENCODER, LayerKind.DENSE, LayerKind.DENSE]
    names = ["encoder", "hidden", "output"]
    return Network(
        name="bench-mnist-784-784-256-10",
        time_steps=16,
        input=InputSpec(784, 8),
        readout=Readout.SPIKE_COUNT,
        layers=[_layer(n, k, w, t) for n, k, w, t in zip(names, kinds, weights, thresholds)],
    )


def _rate(network: Network, x: np.ndarray, layer: int) -> float:
    trace = simulate(network, x)
    return len(trace.events[layer]) / (len(x) * network.time_steps * network.layers[layer].size)


def reference_network(x: np.ndarray, seed: int = 0) -> Network:
    """Build the benchmark network, thresholds calibrated on ``x`` to the target rates."""
    rng = np.random.default_rng(seed)
    weights = [
        _patch_encoder_weights(rng),
        rng.integers(-32, 32, size=(256, 784)),
        rng.integers(-32, 32, size=(10, 256)),
    ]
    thresholds = [1000, 1000, 100]
    for layer, target in ((0, 0.10), (1, 0.05), (2, 0.05)):
        lo, hi = 1, 32767
        while lo < hi:  # smallest threshold whose event rate is at most the target
            mid = (lo + hi) // 2
            thresholds[layer] = mid
            if _rate(_network(weights, thresholds), x, layer) > target:
                lo = mid + 1
            else:
                hi = mid
        thresholds[layer] = lo
    return _network(weights, thresholds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10000, help="samples to time (default 10,000)")
    parser.add_argument("--data", default=None, help="MNIST directory")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--saturating", action="store_true", help="10-bit potentials: heavy saturation (worst case)")
    args = parser.parse_args()
    try:
        images, _ = load_mnist("test", args.data)
        source = "MNIST test images"
    except InputError:
        images = np.random.default_rng(1).integers(0, 256, size=(10000, 784), dtype=np.uint8)
        source = "uniform random pixels (MNIST not found)"
    reps = -(-args.samples // len(images))
    x = np.tile(images, (reps, 1))[: args.samples]
    network = reference_network(x[:200])
    if args.saturating:
        layers = [dataclasses.replace(la, potential_bits=10, threshold=min(la.threshold, 300)) for la in network.layers]
        network = dataclasses.replace(network, name=network.name + "-p10", layers=layers)
    simulate(network, x[:64])  # warm-up
    times = []
    for _ in range(args.repeat):
        trace = None  # release the previous run's trace before the next
        start = time.perf_counter()
        trace = simulate(network, x)
        times.append(time.perf_counter() - start)
    events_mib = sum(ev.nbytes for ev in trace.events) / 2**20
    best = min(times)
    n = len(x)
    result = {
        "network": network.name,
        "inputs": source,
        "samples": n,
        "seconds_best": round(best, 3),
        "samples_per_second": round(n / best, 1),
        "events_per_sample": [round(len(ev) / n, 1) for ev in trace.events],
        "spike_rate": [
            round(len(ev) / (n * network.time_steps * layer.size), 4) for ev, layer in zip(trace.events, network.layers)
        ],
        "thresholds": [layer.threshold for layer in network.layers],
        "saturations_per_sample": [round(int(v) / n, 1) for v in trace.extras["saturations"]],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "trace_events_mib": round(events_mib, 1),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    print(f"golden model: {result['samples_per_second']:,.0f} samples/s "
          f"({n} samples in {best:.2f} s, best of {args.repeat}; {source})")
    print(f"events/sample per layer: {result['events_per_sample']}; spike rate: {result['spike_rate']}; "
          f"saturated additions/sample: {result['saturations_per_sample']}")
    print(f"peak RSS: {result['peak_rss_mib']} MiB, of which the trace's event arrays: {result['trace_events_mib']} MiB")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
