"""Random valid networks, for trying the flow and for testing.

:func:`random_network` builds a :class:`~snnhw.ir.Network` from a seed and a
few shape options. Thresholds are scaled to the typical input of each layer
so that the network spikes (a random network that never fires tests little).
With ``vary=True`` every layer draws its own widths, leak, reset, amplitude
bits, bias and threshold (including the extremes θ = 1 and θ = 2^(P−1)−1), which
is what the test suite uses to cover every combination.

A scaled threshold is a guess. :func:`activate` (or ``random_network(…,
active_on=X)``) makes sure instead: it runs the golden model on the given
inputs and, layer by layer, lowers a silent layer's threshold (then, if that is
not enough, turns its weights and biases non-negative) until every layer that
fires emits events on every given batch and the scores are not all zero.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from snnhw.errors import InputError
from snnhw.ir import InputSpec, Layer, LayerKind, Leak, LeakKind, Network, Readout, Reset
from snnhw.model.golden import simulate
from snnhw.model.trace import Trace

__all__ = ["activate", "is_active", "parse_leak", "random_inputs", "random_network", "silent_parts"]


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
    active_on: np.ndarray | Sequence[np.ndarray] | None = None,
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
    active_on:
        Inputs (one batch, or a list of batches) on which the network must be active:
        the drawn network goes through :func:`activate` with them.
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
    network = Network(
        name=name or f"random-{seed}",
        time_steps=time_steps,
        input=InputSpec(input_size, input_bits),
        readout=Readout(readout),
        layers=layers,
    )
    return network if active_on is None else activate(network, active_on)


def silent_parts(network: Network, trace: Trace) -> list[str]:
    """What is silent in ``trace``: ``layers.<i>`` for each firing layer without events, and
    ``scores`` when every score is zero. Empty for an active trace."""
    parts = [f"layers.{i}" for i in range(len(network.layers)) if network.fires(i) and len(trace.events[i]) == 0]
    if trace.scores.size == 0 or not trace.scores.any():
        parts.append("scores")
    return parts


def is_active(network: Network, trace: Trace) -> bool:
    """Whether every layer that fires emitted events in ``trace`` and the scores are not all zero."""
    return not silent_parts(network, trace)


def _batches(inputs: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(inputs, np.ndarray) and inputs.ndim == 2:
        return [inputs]
    return [np.asarray(x) for x in inputs]


def activate(network: Network, inputs: np.ndarray | Sequence[np.ndarray], *, rounds: int = 48) -> Network:
    """Calibrate ``network`` so that it is active (:func:`is_active`) on every batch of ``inputs``.

    Layers are taken in order. While layer ``i`` is silent on some batch (no events, or, for a
    ``readout: potential`` last layer, all-zero final potentials), its threshold is halved; at
    θ = 1 its weights become their absolute values (clipped to the weight range), then its
    biases are raised to at least 0 and zero weights to 1. Layers that are already active are
    left as they are, so an active network comes back unchanged.

    Raises
    ------
    InputError
        When the network cannot be made active within ``rounds`` changes per layer (for
        example when a batch is all zeros and no layer has a bias).
    """
    batches = _batches(inputs)
    layers = list(network.layers)

    def build() -> Network:
        return dataclasses.replace(network, layers=layers)

    for i in range(len(layers)):
        boosts = 0
        for _ in range(rounds):
            current = build()
            traces = [simulate(current, x) for x in batches]
            if network.fires(i):
                quiet = any(len(tr.events[i]) == 0 for tr in traces)
            else:
                quiet = any(not tr.scores.any() for tr in traces)
            if not quiet:
                break
            layer = layers[i]
            if network.fires(i) and layer.threshold > 1:
                layers[i] = dataclasses.replace(layer, threshold=max(1, layer.threshold // 2))
                continue
            weight = np.clip(np.abs(layer.weight), 0, layer.w_max)
            bias = layer.bias
            if boosts >= 1:
                weight = np.where(weight == 0, 1, weight)
                bias = None if bias is None else np.clip(bias, 0, None)
            if boosts >= 2:
                break
            layers[i] = dataclasses.replace(layer, weight=weight, bias=bias)
            boosts += 1
        current = build()
        if network.fires(i):
            quiet = any(len(simulate(current, x).events[i]) == 0 for x in batches)
        else:
            quiet = any(not simulate(current, x).scores.any() for x in batches)
        if quiet:
            raise InputError("cannot be made active on the given inputs", key=f"layers.{i}",
                             value=network.name)
    return build()


def random_inputs(network: Network, samples: int, seed: int | Sequence[int]) -> np.ndarray:
    """``(samples, input.size)`` int64 inputs drawn uniformly from ``[0, 2^input.bits)`` (same seed, same array)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, network.input.max_value + 1, size=(samples, network.input.size), dtype=np.int64)
