"""Random valid networks, for trying the flow and for testing.

:func:`random_network` builds a :class:`~snnhw.ir.Network` from a seed and a
few shape options. Thresholds are scaled to the typical input of each layer
so that the network spikes (a random network that never fires tests little).
With ``vary=True`` every layer draws its own widths, leak, reset, amplitude
bits, bias and threshold (including the extremes θ = 1 and θ = 2^(P−1)−1), which
is what the test suite uses to cover every combination.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from snnhw.errors import InputError
from snnhw.ir import InputSpec, Layer, LayerKind, Leak, LeakKind, Network, Readout, Reset

__all__ = ["parse_leak", "random_inputs", "random_network"]


def parse_leak(text: str) -> Leak:
    """Parse ``none``, ``shift:K`` or ``pow2:K`` into a :class:`Leak`."""
    kind, _, shift = text.partition(":")
    try:
        if kind == "none" and not shift:
            return Leak(LeakKind.NONE)
        if kind in ("shift", "pow2") and shift.isdigit():
            return Leak(LeakKind(kind), int(shift))
    except ValueError:
        pass
    raise InputError("must be 'none', 'shift:K' or 'pow2:K' with an integer K ≥ 1", key="leak", value=text)


def _threshold(rng: np.random.Generator, typical: float, vmax: int, vary: bool) -> int:
    if vary:
        pick = rng.random()
        if pick < 0.08:
            return 1
        if pick < 0.16:
            return vmax
    return int(min(vmax, max(1, round(typical * rng.uniform(0.3, 1.2)))))


def random_network(
    seed: int,
    *,
    input_size: int = 16,
    input_bits: int = 8,
    sizes: Sequence[int] = (12, 8, 4),
    time_steps: int = 8,
    weight_bits: int = 6,
    potential_bits: int = 16,
    amplitude_bits: int = 2,
    leak: Leak | str = "shift:2",
    reset: Reset | str = Reset.SUBTRACT,
    readout: Readout | str = Readout.SPIKE_COUNT,
    bias: bool = True,
    density: float = 1.0,
    vary: bool = False,
    name: str | None = None,
) -> Network:
    """Build a random, valid network.

    Parameters
    ----------
    seed:
        Seed of the random generator; the same arguments give the same network.
    input_size, input_bits:
        The input vector.
    sizes:
        Layer sizes, the encoder first.
    time_steps:
        T.
    weight_bits, potential_bits, amplitude_bits, leak, reset, bias:
        Per-layer settings used for every layer (unless ``vary``).
    readout:
        ``spike_count`` or ``potential``.
    density:
        Fraction of non-zero weights (each weight independently).
    vary:
        Draw every layer's settings at random instead (widths, leak, reset,
        amplitude bits, bias, extreme thresholds), for tests.
    name:
        Network name (default ``random-<seed>``).
    """
    if not sizes:
        raise InputError("at least one layer size is needed", key="sizes", value=list(sizes))
    if not isinstance(seed, int) or seed < 0:
        raise InputError("must be an integer ≥ 0", key="seed", value=seed)
    if not 0.0 < density <= 1.0:
        raise InputError("density must be in (0, 1]", key="density", value=density)
    rng = np.random.default_rng(seed)
    leak_obj = parse_leak(leak) if isinstance(leak, str) else leak
    layers = []
    n_in = input_size
    in_amp = (1 << input_bits) - 1
    in_rate = 0.5
    for i, size in enumerate(sizes):
        if vary:
            w_bits = int(rng.choice([2, 3, 4, 6, 8, 12, 16]))
            p_bits = int(rng.choice([4, 5, 6, 8, 10, 12, 16, 24, 32]))
            a_bits = int(rng.integers(1, 9))
            kind = rng.choice(["none", "shift", "pow2"])
            lk = Leak(LeakKind.NONE) if kind == "none" else Leak(LeakKind(kind), int(rng.integers(1, p_bits)))
            rs = Reset(rng.choice(["subtract", "zero"]))
            has_bias = bool(rng.random() < 0.5)
        else:
            w_bits, p_bits, a_bits, lk, rs, has_bias = weight_bits, potential_bits, amplitude_bits, leak_obj, Reset(reset), bias
        w_max = (1 << (w_bits - 1)) - 1
        w_min = -(1 << (w_bits - 1))
        v_max = (1 << (p_bits - 1)) - 1
        weight = rng.integers(w_min, w_max + 1, size=(size, n_in))
        if density < 1.0:
            weight = weight * (rng.random((size, n_in)) < density)
        # Typical |input| per step: random-sign sum of active inputs (√n scaling),
        # with a positive drift so that the layer fires.
        active = max(1.0, n_in * density * in_rate)
        typical = math.sqrt(active) * max(1, w_max) * 0.6 * (in_amp if i == 0 else in_amp * 0.6)
        theta = _threshold(rng, typical, v_max, vary)
        b = None
        if has_bias:
            span = max(1, min(v_max, theta // 2 + 1))
            b = rng.integers(-span, span + 1, size=size)
            if vary and rng.random() < 0.2:
                b = rng.integers(-(v_max + 1), v_max + 1, size=size)
            if i == 0:
                b = b + span // 2  # a mild positive drift keeps the encoder alive
                b = np.clip(b, -(v_max + 1), v_max)
        layers.append(
            Layer(
                name="encoder" if i == 0 else f"dense{i}",
                kind=LayerKind.ENCODER if i == 0 else LayerKind.DENSE,
                size=int(size),
                weight_bits=w_bits,
                potential_bits=p_bits,
                threshold=theta,
                leak=lk,
                reset=rs,
                amplitude_bits=a_bits,
                weight=weight,
                bias=b,
            )
        )
        n_in = size
        in_amp = layers[-1].max_amplitude
        in_rate = 0.3
    return Network(
        name=name or f"random-{seed}",
        time_steps=time_steps,
        input=InputSpec(input_size, input_bits),
        readout=Readout(readout),
        layers=layers,
    )


def random_inputs(network: Network, samples: int, seed: int | Sequence[int]) -> np.ndarray:
    """``(samples, input.size)`` int64 inputs drawn uniformly from ``[0, 2^input.bits)`` (same seed, same array)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, network.input.max_value + 1, size=(samples, network.input.size), dtype=np.int64)
