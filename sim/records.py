"""Turn what the hardware's own streams carried into a trace (spec §4).

The benches record, per layer, every word that passed the layer's tap
(``tap_<i>_tdata`` in the cycles where ``tap_<i>_tvalid`` is high) and every
beat of the result stream. This module decodes them with the same stream
codec the golden model uses, so an RTL trace and a golden trace are compared
key by key.
"""

from __future__ import annotations

import numpy as np

from snnhw.errors import StreamError
from snnhw.ir import Network
from snnhw.model.stream import decode, unpack
from snnhw.model.trace import Trace
from snnhw.rtl.top import score_bits

__all__ = ["hardware_trace", "records_to_trace"]


def _signed(values: np.ndarray, bits: int) -> np.ndarray:
    v = values.astype(np.int64) & ((1 << bits) - 1)
    return np.where(v >= (1 << (bits - 1)), v - (1 << bits), v)


def records_to_trace(
    network: Network,
    n_samples: int,
    taps: list[np.ndarray],
    results: np.ndarray,
    score_bits: int,
    cycles: np.ndarray | None = None,
    widths: list | None = None,
) -> Trace:
    """Build a trace from hardware records.

    Parameters
    ----------
    network:
        The network that ran.
    n_samples:
        Samples driven in.
    taps:
        One array of packed token words per layer (empty for a ``potential`` last layer).
    results:
        Result-stream beats, ``(n_samples · (size_last + 1),)``: the scores, then the prediction.
    score_bits:
        Signed width of a score in a beat.
    cycles:
        Per-sample cycle counts, stored as the extra ``cycles``.
    widths:
        The taps' stream widths when the hardware's differ from ``network``'s (a loadable design
        sized for more time steps or neurons than the network it runs).

    Raises
    ------
    StreamError
        When a tap carried a malformed stream or the wrong number of windows.
    """
    events = []
    for i, words in enumerate(taps):
        if not network.fires(i):
            events.append(np.zeros((0, 4), dtype=np.int64))
            continue
        layer = network.layers[i]
        tokens = unpack(np.asarray(words, dtype=np.uint64), network.stream_widths(i) if widths is None else widths[i])
        if n_samples == 0 and len(tokens) == 0:
            events.append(np.zeros((0, 4), dtype=np.int64))
            continue
        ev, windows = decode(tokens, time_steps=network.time_steps, size=layer.size,
                             max_amplitude=layer.max_amplitude)
        if windows != n_samples:
            raise StreamError(f"carried {windows} windows for {n_samples} samples", key=f"tap_{i}")
        events.append(ev)
    n_out = network.output_size
    flat = np.asarray(results, dtype=np.int64).reshape(-1)
    if len(flat) != n_samples * (n_out + 1):
        raise StreamError(f"expected {n_samples * (n_out + 1)} result beats", key="m_axis_result", value=len(flat))
    beats = flat.reshape(n_samples, n_out + 1)
    scores = _signed(beats[:, :n_out], score_bits)
    predictions = beats[:, n_out].copy()
    extras = {}
    if cycles is not None:
        extras["cycles"] = np.asarray(cycles, dtype=np.int64)
    return Trace(predictions=predictions, scores=scores, events=tuple(events), extras=extras)


def hardware_trace(network: Network, target: Network, n_samples: int, taps: dict[int, np.ndarray],
                   results: np.ndarray, counters: dict[str, np.ndarray]) -> Trace:
    """The trace of a simulator run of ``network``'s hardware that computed ``target`` (another weight set
    loaded through the ports, or ``network`` itself): :func:`records_to_trace` with the extras ``cycles``
    (per sample, first input value accepted to the prediction beat), ``cycles_total`` and
    ``sample_end``. ``taps``: the words of each tapped layer; ``counters``: the run's ``total``,
    ``start`` and ``end`` (unused, and may be empty, when ``n_samples`` is 0)."""
    words = [np.asarray(taps.get(i, np.zeros(0, dtype=np.uint64))) for i in range(len(network.layers))]
    widths = [network.stream_widths(i) for i in range(len(network.layers))]
    if n_samples == 0:
        return records_to_trace(target, 0, words, np.zeros(0, dtype=np.int64), score_bits(network),
                                cycles=np.zeros(0, dtype=np.int64), widths=widths)
    trace = records_to_trace(target, n_samples, words, results, score_bits(network),
                             cycles=counters["end"] - counters["start"] + 1, widths=widths)
    trace.extras["cycles_total"] = np.array([int(counters["total"])], dtype=np.int64)
    trace.extras["sample_end"] = np.asarray(counters["end"], dtype=np.int64)
    return trace
