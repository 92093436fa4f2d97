"""Activity as a checked property: a co-simulation case means something only where its layers spike.

Every co-simulation helper calls :func:`assert_active` on the golden trace of the
case before comparing: each layer that fires must emit events, and the scores must
not all be zero. A case that is meant to be silent names what is silent
(``silent=("layers.2", "scores")``), and that claim is checked too.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from snnhw.ir import Network
from snnhw.model.trace import Trace
from snnhw.netgen import silent_parts


def inputs_for(network: Network, n: int, seed: int) -> np.ndarray:
    """The test inputs of a case: ``n`` uniform samples from ``seed``."""
    return np.random.default_rng(seed).integers(0, network.input.max_value + 1, size=(n, network.input.size))


def assert_active(network: Network, golden: Trace, silent: Iterable[str] = ()) -> None:
    """Every firing layer emits events and the scores are not all zero, except the parts named ``silent``
    (which must then really be silent)."""
    quiet = set(silent_parts(network, golden))
    named = set(silent)
    assert quiet == named, (f"{network.name}: silent parts {sorted(quiet)}, expected {sorted(named)}; "
                            "a case must exercise every layer or name what is silent")


def loaded_weights_case() -> tuple[np.ndarray, Network, Network]:
    """Inputs, the network the hardware is built for, and another weight set of its structure to load
    through the ``wl_*`` ports: both active on the inputs."""
    import dataclasses

    from snnhw.model import simulate
    from snnhw.netgen import activate, random_network

    x = np.random.default_rng(9).integers(0, 8, size=(4, 6))
    built_for = random_network(32, input_size=6, input_bits=3, sizes=[5, 4, 3], time_steps=4, readout="potential")
    rng = np.random.default_rng(9)
    layers = [built_for.layers[0]] + [
        dataclasses.replace(layer, weight=rng.integers(layer.w_min, layer.w_max + 1, size=layer.weight.shape))
        for layer in built_for.layers[1:]]
    trained = activate(Network("trained", built_for.time_steps, built_for.input, built_for.readout, layers), x)
    assert_active(trained, simulate(trained, x))
    assert_active(built_for, simulate(built_for, x))
    return x, built_for, trained
