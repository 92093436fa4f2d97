"""Random networks × random builds × random stream timing through a simulator, against the golden model.

About a third of the cases run on a loadable design of a random larger capacity, with the case's
network loaded over the configuration stream.

The suite runs a few seeds (``tests/test_cosim.py``); for long runs::

    python -m tests.fuzz_rtl FIRST LAST [--simulator icarus|verilator]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from snnhw.errors import InputError
from snnhw.ir import Network
from snnhw.model import simulate
from snnhw.model.trace import first_divergence
from snnhw.netgen import random_network, silent_parts
from snnhw.rtl.build import resolve_build


@dataclass
class Case:
    """One fuzz case."""

    network: Network
    inputs: np.ndarray
    config: dict[str, Any]
    gaps: float
    backpressure: float
    capacity: dict[str, Any] | None = None  # a loadable design larger than the network, which is loaded into it


def case(seed: int) -> Case:
    """The case of ``seed``: 1–3 layers of 1–8 neurons with every option drawn at random, made active
    on the case's inputs (:func:`snnhw.netgen.activate`)."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 9)) for _ in range(int(rng.integers(1, 4)))]
    input_size, input_bits = int(rng.integers(1, 10)), int(rng.integers(1, 6))
    time_steps = int(rng.integers(1, 7))
    readout = str(rng.choice(["spike_count", "potential"]))
    inputs = rng.integers(0, 1 << input_bits, size=(int(rng.integers(1, 4)), input_size))
    if not inputs.any():  # an all-zero batch can only be active through biases
        inputs[0, 0] = (1 << input_bits) - 1
    kwargs: dict[str, Any] = {"input_size": input_size, "input_bits": input_bits, "sizes": sizes,
                              "time_steps": time_steps, "readout": readout, "vary": True}
    # half the cases get blank runs of pixels, now and then a blank sample (encoder rows that are skipped),
    # from a generator of their own, so that the draws below stay what they were; kept where the network
    # can still be made active on them
    blank = np.random.default_rng([seed, 1])
    network = None
    if blank.random() < 0.5:
        blanked = inputs.copy()
        for row in blanked:
            lo = int(blank.integers(0, input_size))
            row[lo: lo + int(blank.integers(1, input_size // 2 + 2))] = 0
        if len(blanked) > 1 and blank.random() < 0.5:
            blanked[int(blank.integers(0, len(blanked)))] = 0
        try:
            network = random_network(seed, active_on=blanked, **kwargs)
            inputs = blanked
        except InputError:
            pass
    if network is None:
        network = random_network(seed, active_on=inputs, **kwargs)
    config: dict[str, Any] = {"lanes": int(rng.integers(1, 5)), "cores": int(rng.integers(1, 4)),
                              "fifo_depth": int(rng.integers(1, 4))}
    gaps, backpressure = float(rng.random() * 0.5), float(rng.random() * 0.7)
    # drawn last, so that the cases above stay what they were
    config["pipeline_depth"] = ["auto", 4, 5, 6, 8][int(rng.integers(0, 5))]
    if rng.random() < 0.3:
        config["lanes"] = int(rng.choice([8, 64, 128]))  # lanes beyond the layer: one row per core
    config["pixels_per_beat"] = ["auto", 1, 2, 4, 8][int(rng.integers(0, 5))]
    # about a third of the cases run on a loadable design sized for more (capacity), from a generator of
    # their own: more neurons in the hidden layers, inputs and time steps, a larger encoder fan-in
    cap_rng = np.random.default_rng([seed, 2])
    capacity = None
    if cap_rng.random() < 0.35:
        own = max(1, int((network.layers[0].weight != 0).sum(axis=1).max()))
        n_in = input_size + int(cap_rng.integers(0, 4))
        capacity = {"sizes": [s + int(cap_rng.integers(0, 4)) for s in sizes[:-1]] + [sizes[-1]],
                    "time_steps": time_steps + int(cap_rng.integers(0, 3)), "input_size": n_in,
                    "fan_in": int(cap_rng.integers(own, n_in + 1))}
    return Case(network, inputs, config, gaps, backpressure, capacity)


def check(seed: int, simulator: str = "icarus") -> str | None:
    """Run case ``seed``; ``None`` when bit-exact, else where it first differs."""
    from snnhw.sim.runner import cosim

    c = case(seed)
    golden = simulate(c.network, c.inputs)
    silent = silent_parts(c.network, golden)
    if silent:
        return f"the case is not active ({', '.join(silent)} silent)"
    if c.capacity is None:
        trace, _ = cosim(c.network, resolve_build(c.network, c.config), c.inputs, simulator=simulator, seed=seed,
                         gaps=c.gaps, backpressure=c.backpressure)
        return first_divergence(c.network, golden, trace)
    from snnhw.program import capacity_network, embed, load_frames, pad_inputs

    cap = c.capacity
    design = capacity_network(c.network, cap["sizes"], cap["time_steps"], cap["input_size"])
    build = resolve_build(design, {**c.config, "loadable": True, "encoder_fan_in": cap["fan_in"]})
    trace, counters = cosim(design, build, pad_inputs(c.inputs, design), simulator=simulator, seed=seed,
                            gaps=c.gaps, backpressure=c.backpressure, config=load_frames(c.network, design, build),
                            target=embed(c.network, design))
    if not counters["config"]["committed"]:
        return f"the load was not committed ({counters['config']})"
    return first_divergence(c.network, golden, trace)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=int)
    parser.add_argument("last", type=int)
    parser.add_argument("--simulator", default="icarus", choices=["icarus", "verilator"])
    args = parser.parse_args()
    bad = 0
    for seed in range(args.first, args.last):
        where = check(seed, args.simulator)
        print(f"seed {seed}: {'bit-exact' if where is None else where}", flush=True)
        bad += where is not None
    print(f"{args.last - args.first - bad} of {args.last - args.first} bit-exact")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
