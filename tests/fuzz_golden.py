"""Long cross-check of the golden model against the naive reference (not part of the suite).

Runs many random networks (1–4 layers, every option randomised, awkward sizes,
random chunk budgets, sometimes all-max inputs) through both models and
reports any difference. The test suite runs a few hundred such cases; this
script runs as many as asked::

    .venv/bin/python -m tests.fuzz_golden 0 3000
"""

from __future__ import annotations

import sys

import numpy as np

from snnhw.model import simulate
from snnhw.netgen import random_network
from tests.naive import naive_run


def check(seed: int) -> str | None:
    """Compare both models on the case drawn from ``seed``; return the first differing key."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 16)) for _ in range(int(rng.integers(1, 5)))]
    network = random_network(
        seed,
        input_size=int(rng.integers(1, 20)),
        input_bits=int(rng.integers(1, 17)),
        sizes=sizes,
        time_steps=int(rng.integers(1, 20)),
        vary=True,
        density=float(rng.choice([1.0, 0.3])),
        readout=str(rng.choice(["spike_count", "potential"])),
    )
    x = rng.integers(0, network.input.max_value + 1, (int(rng.integers(0, 7)), network.input.size))
    if rng.random() < 0.2:
        x[:] = network.input.max_value
    expected = naive_run(network, x)
    got = simulate(network, x, budget=int(rng.choice([1, 3, 50, 1 << 20]))).arrays()
    for key, value in expected.items():
        if got[key].shape != value.shape or not np.array_equal(got[key], value):
            return key
    return None


def main(argv: list[str]) -> int:
    first, last = (int(a) for a in argv[:2]) if len(argv) >= 2 else (0, 1000)
    bad = [(seed, key) for seed in range(first, last) if (key := check(seed)) is not None]
    for seed, key in bad:
        print(f"seed {seed}: {key} differs")
    print(f"{last - first} random networks, {len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
