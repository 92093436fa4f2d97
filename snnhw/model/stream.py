"""Differential-time event streams: the codec and the spike-merge model.

Inside the accelerator, a layer's spikes travel as a stream of tokens
``(dt, idx, amp)``, one window (input sample) after another:

* ``idx`` is the neuron index within the layer and ``amp`` the amplitude
  (``1 … 2^A−1``);
* ``dt`` is the number of time steps since the previous token of the same
  window; the first token's ``dt`` is its absolute step ``t`` (the running
  time restarts at 0 for every window);
* tokens of a window are strictly increasing in ``(t, idx)``;
* every window ends with the **end-of-window token** ``(0, 0, 0)``: amplitude
  0 never occurs in a spike, so it marks the end of a window without an extra
  bit. A window without spikes is the end-of-window token alone.

Tokens are held as ``int64`` arrays of shape ``(K, 3)`` with columns
``dt, idx, amp``. :func:`pack` and :func:`unpack` convert them to the packed
words the hardware carries (``dt`` in the low bits, then ``idx``, then
``amp``; widths from :meth:`snnhw.ir.Network.stream_widths`).

:func:`merge` is the golden twin of the hardware spike-merge unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from snnhw.errors import StreamError
from snnhw.ir import StreamWidths

__all__ = ["EOW", "count_windows", "decode", "encode", "merge", "pack", "unpack"]

#: The end-of-window token ``(dt, idx, amp)``.
EOW = (0, 0, 0)


def _as_events(events: np.ndarray) -> np.ndarray:
    array = np.asarray(events)
    if array.size == 0:
        return np.zeros((0, 4), dtype=np.int64)
    if array.ndim != 2 or array.shape[1] != 4 or array.dtype.kind not in "iu":
        raise StreamError("events must be an integer array of shape (E, 4)", value=array.shape)
    return array.astype(np.int64, copy=False)


def _as_tokens(tokens: np.ndarray, what: str = "tokens") -> np.ndarray:
    array = np.asarray(tokens)
    if array.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    if array.ndim != 2 or array.shape[1] != 3 or array.dtype.kind not in "iu":
        raise StreamError(f"{what} must be an integer array of shape (K, 3)", value=array.shape)
    return array.astype(np.int64, copy=False)


def _encode(events: np.ndarray, n_samples: int) -> np.ndarray:
    """Encode events already known to be in order (no checks)."""
    sample, t = events[:, 0], events[:, 1]
    tokens = np.zeros((len(events) + n_samples, 3), dtype=np.int64)
    # Token position of each event: its row plus the end-of-window tokens before it.
    position = np.arange(len(events)) + sample
    first = np.ones(len(events), dtype=bool)
    first[1:] = sample[1:] != sample[:-1]
    prev_t = np.where(first, 0, np.concatenate(([0], t[:-1])))
    tokens[position, 0] = t - prev_t
    tokens[position, 1] = events[:, 2]
    tokens[position, 2] = events[:, 3]
    # End-of-window tokens stay (0, 0, 0): each window's closes it after its events.
    return tokens


def encode(
    events: np.ndarray,
    n_samples: int,
    *,
    time_steps: int | None = None,
    size: int | None = None,
    max_amplitude: int | None = None,
) -> np.ndarray:
    """Encode absolute events into a differential-time token stream.

    Parameters
    ----------
    events:
        Integer array ``(E, 4)`` of rows ``(sample, t, idx, amp)``, strictly
        increasing in ``(sample, t, idx)`` (a trace's ``events.<i>`` array).
    n_samples:
        Number of windows; every window gets an end-of-window token, also one
        without events.
    time_steps, size, max_amplitude:
        Optional bounds checked on the events (``t < T``, ``idx < size``,
        ``1 ≤ amp ≤ max_amplitude``).

    Returns
    -------
    numpy.ndarray
        ``int64`` tokens ``(E + n_samples, 3)`` with columns ``dt, idx, amp``.
    """
    ev = _as_events(events)
    if n_samples < 0:
        raise StreamError("n_samples must be ≥ 0", value=n_samples)
    if len(ev):
        sample, t, idx, amp = ev.T
        if sample.min() < 0 or sample.max() >= n_samples:
            raise StreamError(f"event sample must be 0 … {n_samples - 1}", value=int(sample.max()))
        if t.min() < 0 or (time_steps is not None and t.max() >= time_steps):
            raise StreamError(f"event time must be 0 … {(time_steps or 0) - 1}", value=int(t.max()))
        if idx.min() < 0 or (size is not None and idx.max() >= size):
            raise StreamError(f"event index must be 0 … {(size or 0) - 1}", value=int(idx.max()))
        if amp.min() < 1 or (max_amplitude is not None and amp.max() > max_amplitude):
            raise StreamError("event amplitude must be ≥ 1 (and ≤ the layer's maximum)", value=int(amp.min()))
        ds, dt, di = np.diff(sample), np.diff(t), np.diff(idx)
        ordered = (ds > 0) | ((ds == 0) & ((dt > 0) | ((dt == 0) & (di > 0))))
        if not ordered.all():
            row = int(np.argmin(ordered)) + 1
            raise StreamError("events must be strictly increasing in (sample, t, idx)", key=f"row {row}", value=tuple(int(v) for v in ev[row]))
    return _encode(ev, n_samples)


def count_windows(tokens: np.ndarray) -> int:
    """Number of end-of-window tokens in a stream."""
    return int(np.count_nonzero(_as_tokens(tokens)[:, 2] == 0))


def decode(
    tokens: np.ndarray,
    *,
    time_steps: int | None = None,
    size: int | None = None,
    max_amplitude: int | None = None,
    strict: bool = True,
) -> tuple[np.ndarray, int]:
    """Decode a token stream back into absolute events.

    Parameters
    ----------
    tokens:
        Integer array ``(K, 3)`` of ``(dt, idx, amp)``; it must end with an
        end-of-window token.
    time_steps, size, max_amplitude:
        Optional bounds checked on the decoded events.
    strict:
        Require strictly increasing ``(t, idx)`` within each window (the
        stream rule). A merged stream whose inputs overlapped may repeat a
        ``(t, idx)``; decode it with ``strict=False``.

    Returns
    -------
    events, n_samples
        ``int64`` events ``(E, 4)`` of ``(sample, t, idx, amp)`` and the
        number of windows.
    """
    tok = _as_tokens(tokens)
    if len(tok) == 0:
        return np.zeros((0, 4), dtype=np.int64), 0
    dt, idx, amp = tok.T
    if dt.min() < 0 or idx.min() < 0 or amp.min() < 0:
        raise StreamError("token fields must be ≥ 0", value=int(min(dt.min(), idx.min(), amp.min())))
    eow = amp == 0
    if not eow[-1]:
        raise StreamError("stream must end with an end-of-window token (0, 0, 0)")
    bad = eow & ((dt != 0) | (idx != 0))
    if bad.any():
        row = int(np.argmax(bad))
        raise StreamError("an end-of-window token must be (0, 0, 0)", key=f"token {row}", value=tuple(int(v) for v in tok[row]))
    n_samples = int(eow.sum())
    # Window number of every token: end-of-window tokens before it.
    window = np.concatenate(([0], np.cumsum(eow)[:-1]))
    run = np.cumsum(dt)
    # Running time restarts at every window: subtract the total at the window's start.
    window_start_run = np.concatenate(([0], run[eow][:-1]))
    t = run - window_start_run[window]
    keep = ~eow
    events = np.stack([window[keep], t[keep], idx[keep], amp[keep]], axis=1).astype(np.int64)
    if len(events):
        if time_steps is not None and events[:, 1].max() >= time_steps:
            raise StreamError(f"event time must be 0 … {time_steps - 1}", value=int(events[:, 1].max()))
        if size is not None and events[:, 2].max() >= size:
            raise StreamError(f"event index must be 0 … {size - 1}", value=int(events[:, 2].max()))
        if max_amplitude is not None and events[:, 3].max() > max_amplitude:
            raise StreamError(f"event amplitude must be 1 … {max_amplitude}", value=int(events[:, 3].max()))
        same = np.diff(events[:, 0]) == 0
        dtt, dii = np.diff(events[:, 1]), np.diff(events[:, 2])
        increasing = (dtt > 0) | ((dtt == 0) & (dii > 0)) if strict else (dtt > 0) | ((dtt == 0) & (dii >= 0))
        ok = ~same | increasing
        if not ok.all():
            row = int(np.argmin(ok)) + 1
            raise StreamError("tokens of a window must be strictly increasing in (t, idx)", key=f"event {row}", value=tuple(int(v) for v in events[row]))
    return events, n_samples


def merge(streams: Sequence[np.ndarray]) -> np.ndarray:
    """Merge k token streams into one stream in ``(t, idx)`` order (spike-merge model).

    This is the golden twin of the hardware spike-merge unit: window by
    window, the output holds every input token in ``(t, idx)`` order with
    ``dt`` re-encoded, and one end-of-window token once every input has
    closed the window. If two inputs offer the same ``(t, idx)`` (their index
    sets should be disjoint), the lower-numbered input goes first.

    Parameters
    ----------
    streams:
        k ≥ 1 token arrays ``(K_i, 3)`` with the same number of windows.
    """
    if len(streams) < 1:
        raise StreamError("merge needs at least one input stream", value=len(streams))
    decoded = []
    windows = None
    for number, stream in enumerate(streams):
        events, n = decode(stream, strict=True)
        if windows is None:
            windows = n
        elif n != windows:
            raise StreamError(f"every input must carry the same number of windows ({windows})", key=f"input {number}", value=n)
        decoded.append(np.column_stack([events, np.full(len(events), number, dtype=np.int64)]))
    allev = np.concatenate(decoded) if decoded else np.zeros((0, 5), dtype=np.int64)
    order = np.lexsort((allev[:, 4], allev[:, 2], allev[:, 1], allev[:, 0]))
    return _encode(allev[order, :4], windows or 0)


def pack(tokens: np.ndarray, widths: StreamWidths) -> np.ndarray:
    """Pack tokens into ``uint64`` words: ``dt`` low, then ``idx``, then ``amp``."""
    tok = _as_tokens(tokens)
    if widths.total > 64:
        raise StreamError("packed tokens wider than 64 bits are not supported", value=widths.total)
    for column, (name, bits) in enumerate((("dt", widths.dt), ("idx", widths.idx), ("amp", widths.amp))):
        if len(tok) and (tok[:, column].min() < 0 or tok[:, column].max() >= 1 << bits):
            raise StreamError(f"token field {name} must fit in {bits} bits", value=int(tok[:, column].max()))
    words = tok[:, 0].astype(np.uint64)
    words |= tok[:, 1].astype(np.uint64) << np.uint64(widths.dt)
    words |= tok[:, 2].astype(np.uint64) << np.uint64(widths.dt + widths.idx)
    return words


def unpack(words: np.ndarray, widths: StreamWidths) -> np.ndarray:
    """Unpack ``uint64`` words written by :func:`pack` back into tokens."""
    w = np.asarray(words, dtype=np.uint64)
    out = np.empty((len(w), 3), dtype=np.int64)
    out[:, 0] = (w & np.uint64((1 << widths.dt) - 1)).astype(np.int64)
    out[:, 1] = ((w >> np.uint64(widths.dt)) & np.uint64((1 << widths.idx) - 1)).astype(np.int64)
    out[:, 2] = ((w >> np.uint64(widths.dt + widths.idx)) & np.uint64((1 << widths.amp) - 1)).astype(np.int64)
    return out
