"""The golden model: the exact integer semantics of ``snnhw.network/1``.

:func:`simulate` runs a batch of samples through a network and returns the
:class:`~snnhw.model.trace.Trace` (every layer's events, the scores and the
predictions) that every hardware engine must reproduce bit for bit. The
semantics it implements are in ``docs/semantics.md``; the equations are
cited inline as (S1)…(S9).

How it is fast and still exact
------------------------------
* Samples are processed in chunks, the time window in blocks of steps, and a
  whole network is run block by block, so memory stays bounded whatever N and
  T are. Layers need no delay line: layer i consumes layer i−1's events of the
  same step (S6), so a block of layer i−1's spikes feeds layer i's block.
* A dense layer's synaptic input for a block of steps is two matrix products
  through BLAS: ``pos = S·W⁺ᵀ`` and ``neg = S·W⁻ᵀ`` (positive and negative
  weights). Products and all partial sums are integers bounded by
  ``max_amp · max_n Σ_j |W_nj|``; when that bound is below 2^24 (float32) or
  2^53 (float64) the floating-point result is the exact integer, in any
  summation order. Otherwise integer matrix products are used.
* Saturation after every single addition (S8) makes the order of additions
  matter. But every partial sum of step (S8) lies in ``[V + neg, V + pos]``;
  where that interval is inside the potential range no addition can clamp,
  and ``V + pos + neg`` is exact (fast path). The remaining (sample, neuron)
  pairs are replayed input by input in ascending index (exact path). The
  exact path also counts clamped additions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from snnhw.ir import Layer, LeakKind, Network, Reset
from snnhw.model.trace import Trace, check_inputs

__all__ = ["DEFAULT_BUDGET", "simulate"]

log = logging.getLogger(__name__)

#: Elements per working array (samples × steps × neurons) in one block: bounds memory.
DEFAULT_BUDGET = 1 << 21

_F32_EXACT = 1 << 24
_F64_EXACT = 1 << 53


def _matmul_dtype(bound: int) -> type:
    """The cheapest dtype in which sums of absolute value ≤ ``bound`` are exact."""
    if bound < _F32_EXACT:
        return np.float32
    if bound < _F64_EXACT:
        return np.float64
    return np.int64


@dataclass
class _LayerPlan:
    """Per-layer constants prepared once per :func:`simulate` call."""

    layer: Layer
    fires: bool
    vmin: int
    vmax: int
    theta: int
    amax: int
    subtract: bool
    leak: LeakKind
    shift: int
    bias: np.ndarray | None  # int64 (size,)
    weight: np.ndarray  # int64 (size, n_in)
    weight_t: np.ndarray  # int64 (n_in, size), contiguous: rows are an input's weights
    wpos_t: np.ndarray  # (n_in, size) in the matmul dtype
    wneg_t: np.ndarray
    dtype: type


def _plan(network: Network) -> list[_LayerPlan]:
    plans = []
    in_amp = network.input.max_value
    for i, layer in enumerate(network.layers):
        w = layer.weight
        bound = int(np.abs(w).sum(axis=1).max()) * in_amp
        if layer.bias is not None and i == 0:
            bound += int(np.abs(layer.bias).max())
        dtype = _matmul_dtype(bound) if i > 0 else (np.float64 if bound < _F64_EXACT else np.int64)
        plans.append(
            _LayerPlan(
                layer=layer,
                fires=network.fires(i),
                vmin=layer.v_min,
                vmax=layer.v_max,
                theta=layer.threshold,
                amax=layer.max_amplitude,
                subtract=layer.reset is Reset.SUBTRACT,
                leak=layer.leak.kind,
                shift=layer.leak.shift or 0,
                bias=None if layer.bias is None else layer.bias.astype(np.int64),
                weight=w,
                weight_t=np.ascontiguousarray(w.T) if i else w[:0],
                # the encoder takes pixels, not spikes: it needs no split weights
                wpos_t=np.ascontiguousarray(np.maximum(w, 0).T.astype(dtype)) if i else w[:0],
                wneg_t=np.ascontiguousarray(np.minimum(w, 0).T.astype(dtype)) if i else w[:0],
                dtype=dtype,
            )
        )
        in_amp = layer.max_amplitude
    return plans


def _leak(v: np.ndarray, p: _LayerPlan) -> np.ndarray:
    """(S2) leak: none → V; shift k → V − (V >> k); pow2 k → V >> k (arithmetic shift)."""
    if p.leak is LeakKind.SHIFT:
        return v - (v >> p.shift)
    if p.leak is LeakKind.POW2:
        return v >> p.shift
    return v


def _sat(v: np.ndarray, p: _LayerPlan, counter: list[int]) -> np.ndarray:
    """(S1) sat: clamp to [−2^(P−1), 2^(P−1)−1], counting clamped values."""
    clamped = np.count_nonzero((v < p.vmin) | (v > p.vmax))
    if clamped:
        counter[0] += int(clamped)
        return np.clip(v, p.vmin, p.vmax)
    return v


def _fire(v: np.ndarray, p: _LayerPlan) -> tuple[np.ndarray, np.ndarray]:
    """(S3) fire: amplitude c and the potential after reset."""
    if p.subtract:
        # c = min(V div θ, 2^A − 1) where V ≥ θ, else 0 (V div θ ≤ 0 there).
        c = np.clip(v // p.theta, 0, p.amax)
        return c, v - c * p.theta
    c = (v >= p.theta).astype(np.int64)
    return c, np.where(c > 0, 0, v)


def _encoder_current(x: np.ndarray, p: _LayerPlan, counter: list[int]) -> np.ndarray:
    """(S4) I = sat(Σ_j W[i,j]·x[j] + b_i), the sum exact and clamped once."""
    if p.dtype is np.int64:
        acc = x @ p.weight.T
    else:
        acc = (x.astype(np.float64) @ p.weight.T.astype(np.float64)).astype(np.int64)
    if p.bias is not None:
        acc = acc + p.bias
    return _sat(acc, p, counter)


def _exact_synapses(
    v: np.ndarray, spikes: np.ndarray, flagged: np.ndarray, p: _LayerPlan, counter: list[int], budget: int
) -> None:
    """(S8) replay the additions of one step one input at a time, for flagged pairs.

    ``v`` is updated in place for the (sample, neuron) pairs where ``flagged``
    is true; ``spikes`` is the step's input amplitudes ``(B, n_in)``. Each
    pair walks only its own sample's active inputs, in ascending index; the
    k-th addition of every pair is one vector operation, and a pair with
    fewer active inputs adds zeros (a no-op) at the end.
    """
    samples = np.nonzero(flagged.any(axis=1))[0]
    # per sample: (b, flagged neurons, active inputs in ascending j, as (S8) requires)
    groups = [(int(b), np.nonzero(flagged[b])[0], np.nonzero(spikes[b])[0]) for b in samples]
    width = max((len(active) for _, _, active in groups), default=0)
    if width == 0:
        return
    step = max(1, budget // width)  # pairs per batch: the addend table stays within the budget
    start = 0
    while start < len(groups):
        batch = [groups[start]]
        pairs = len(groups[start][1])
        start += 1
        while start < len(groups) and pairs + len(groups[start][1]) <= step:
            batch.append(groups[start])
            pairs += len(groups[start][1])
            start += 1
        rows = np.concatenate([np.full(len(neurons), b) for b, neurons, _ in batch])
        cols = np.concatenate([neurons for _, neurons, _ in batch])
        table = np.zeros((width, pairs), dtype=np.int64)  # (k, pair): the k-th addend c·W[n, j]
        at = 0
        for b, neurons, active in batch:
            table[: len(active), at : at + len(neurons)] = (
                p.weight_t[np.ix_(active, neurons)] * spikes[b, active, None].astype(np.int64)
            )
            at += len(neurons)
        vf = v[rows, cols]
        for add in table:
            vf = _sat(vf + add, p, counter)
        v[rows, cols] = vf


def _dense_block(
    v: np.ndarray, spikes: np.ndarray, p: _LayerPlan, counter: list[int], out: np.ndarray, budget: int
) -> np.ndarray:
    """Run steps (S6)–(S9) of a dense layer over a block of steps.

    ``spikes`` is ``(steps, B, n_in)`` (amplitudes of the previous layer); the
    layer's amplitudes are written into ``out`` ``(steps, B, size)``; the new
    potentials are returned.
    """
    steps, batch, n_in = spikes.shape
    flat: np.ndarray = spikes.reshape(steps * batch, n_in).astype(p.dtype)
    pos = (flat @ p.wpos_t).reshape(steps, batch, -1).astype(np.int64)
    neg = (flat @ p.wneg_t).reshape(steps, batch, -1).astype(np.int64)
    for s in range(steps):
        v = _leak(v, p)  # (S6) 1
        if p.bias is not None:  # (S7)
            v = _sat(v + p.bias, p, counter)
        hi = v + pos[s]
        lo = v + neg[s]
        flagged = (hi > p.vmax) | (lo < p.vmin)
        if flagged.any():
            exact = v.copy()
            _exact_synapses(exact, spikes[s], flagged, p, counter, budget)
            v = np.where(flagged, exact, hi + neg[s])
        else:
            v = hi + neg[s]  # (S8) without any clamp: the plain sum
        if p.fires:  # (S9)
            c, v = _fire(v, p)
            out[s] = c
    return v


def _encoder_block(v: np.ndarray, current: np.ndarray, p: _LayerPlan, steps: int, counter: list[int], out: np.ndarray) -> np.ndarray:
    """(S5) V ← sat(leak(V) + I), then fire, for a block of steps."""
    for s in range(steps):
        v = _sat(_leak(v, p) + current, p, counter)
        if p.fires:
            c, v = _fire(v, p)
            out[s] = c
    return v


def _events(spikes: np.ndarray, first_sample: int, first_step: int) -> np.ndarray:
    """Event rows ``(sample, t, neuron, amplitude)`` of a block, in that order."""
    by_sample = spikes.transpose(1, 0, 2)  # (B, steps, size): nonzero() then yields sorted rows
    smp, t, neuron = np.nonzero(by_sample)
    out = np.empty((len(smp), 4), dtype=np.int64)
    out[:, 0] = smp
    out[:, 0] += first_sample
    out[:, 1] = t
    out[:, 1] += first_step
    out[:, 2] = neuron
    out[:, 3] = by_sample[smp, t, neuron]
    return out


def _chunk_shape(network: Network, n: int, budget: int) -> tuple[int, int]:
    """Samples per chunk and steps per block so one block stays within ``budget`` elements."""
    width = max([network.input.size] + [layer.size for layer in network.layers] + [layer.n_in for layer in network.layers])
    steps = network.time_steps
    batch = max(1, min(n, budget // (min(steps, 16) * width), 4096))
    block = max(1, min(steps, budget // (batch * width)))
    return batch, block


def simulate(
    network: Network,
    inputs: np.ndarray,
    *,
    budget: int = DEFAULT_BUDGET,
    progress: Callable[[int], None] | None = None,
) -> Trace:
    """Run the golden model on a batch of inputs.

    Parameters
    ----------
    network:
        The network.
    inputs:
        Integer array ``(N, input.size)`` with values in ``[0, 2^input.bits)``;
        N = 0 is valid.
    budget:
        Elements per working array; bounds memory (about 40 bytes per element
        at the peak). Results never depend on it.
    progress:
        Called with the number of samples finished after each chunk.

    Returns
    -------
    Trace
        Events of every layer, scores and predictions, plus the extra
        ``saturations`` (``int64 (layers,)``: additions clamped by ``sat``
        per layer, the encoder current clamp included).
    """
    x = check_inputs(network, inputs)
    n = len(x)
    plans = _plan(network)
    n_layers = len(plans)
    T = network.time_steps
    last = plans[-1]
    scores = np.zeros((n, last.layer.size), dtype=np.int64)
    events: list[list[np.ndarray]] = [[] for _ in plans]
    counters = [[0] for _ in plans]
    batch, block = _chunk_shape(network, max(n, 1), budget)
    log.debug("golden model: %d samples, chunks of %d, blocks of %d steps", n, batch, block)
    for start in range(0, n, batch):
        xb = x[start : start + batch].astype(np.int64)
        b = len(xb)
        current = _encoder_current(xb, plans[0], counters[0])
        potentials = [np.zeros((b, p.layer.size), dtype=np.int64) for p in plans]
        chunk_events: list[list[np.ndarray]] = [[] for _ in plans]
        for t0 in range(0, T, block):
            steps = min(block, T - t0)
            spikes = np.zeros((steps, b, plans[0].layer.size), dtype=np.uint8)
            potentials[0] = _encoder_block(potentials[0], current, plans[0], steps, counters[0], spikes)
            layer_spikes = [spikes]
            for i in range(1, n_layers):
                out = np.zeros((steps, b, plans[i].layer.size), dtype=np.uint8)
                potentials[i] = _dense_block(potentials[i], layer_spikes[-1], plans[i], counters[i], out, budget)
                layer_spikes.append(out)
            for i, s in enumerate(layer_spikes):
                if plans[i].fires:
                    chunk_events[i].append(_events(s, start, t0))
            if last.fires:
                scores[start : start + b] += layer_spikes[-1].sum(axis=0, dtype=np.int64)
        if not last.fires:
            scores[start : start + b] = potentials[-1]  # (S10) potential readout
        for i, parts in enumerate(chunk_events):
            if len(parts) == 1:
                events[i].append(parts[0])  # one block: already in (sample, t, neuron) order
            elif parts:
                ev = np.concatenate(parts)
                events[i].append(ev[np.argsort(ev[:, 0], kind="stable")])
        if progress is not None:
            progress(b)
    predictions = np.argmax(scores, axis=1).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    joined = []
    for parts in events:  # join layer by layer, releasing the chunks as we go
        joined.append(np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.int64))
        parts.clear()
    return Trace(
        predictions=predictions,
        scores=scores,
        events=tuple(joined),
        extras={"saturations": np.array([c[0] for c in counters], dtype=np.int64)},
    )
