"""The differential-time stream codec and the spike-merge model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw.errors import StreamError
from snnhw.ir import StreamWidths
from snnhw.model import decode, encode, merge, pack, simulate, unpack
from snnhw.model.stream import EOW, count_windows
from snnhw.netgen import random_network


@st.composite
def event_sets(draw, max_samples: int = 5, max_t: int = 20, max_idx: int = 30, max_amp: int = 7):
    """Sorted, unique events (sample, t, idx, amp) and the number of samples."""
    n = draw(st.integers(0, max_samples))
    if n == 0:
        return np.zeros((0, 4), dtype=np.int64), 0
    keys = draw(st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, max_t), st.integers(0, max_idx)), max_size=60))
    rows = sorted(keys)
    amps = draw(st.lists(st.integers(1, max_amp), min_size=len(rows), max_size=len(rows)))
    events = np.array([[s, t, i, a] for (s, t, i), a in zip(rows, amps)], dtype=np.int64).reshape(-1, 4)
    return events, n


@settings(max_examples=200, deadline=None)
@given(event_sets())
def test_round_trip(data) -> None:
    events, n = data
    tokens = encode(events, n)
    assert tokens.shape == (len(events) + n, 3)
    assert count_windows(tokens) == n
    back, windows = decode(tokens)
    assert windows == n
    assert np.array_equal(back, events)
    # dt is never negative and the running time restarts each window
    assert (tokens[:, 0] >= 0).all()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_merge_equals_sort(data) -> None:
    k = data.draw(st.integers(1, 5))
    n = data.draw(st.integers(0, 4))
    streams, everything = [], []
    for _ in range(k):
        events, _ = data.draw(event_sets(max_samples=n or 1)) if n else (np.zeros((0, 4), dtype=np.int64), 0)
        events = events[events[:, 0] < n] if n else events
        streams.append(encode(events, n))
        everything.append(events)
    merged = merge(streams)
    assert count_windows(merged) == n
    got, windows = decode(merged, strict=False)
    allev = np.concatenate(everything)
    # a plain sort by (sample, t, idx); ties (same t, idx from two inputs) keep input order
    order = np.lexsort((allev[:, 2], allev[:, 1], allev[:, 0]))
    assert windows == n
    assert np.array_equal(got, allev[order])


def test_merge_ties_lower_input_first() -> None:
    a = encode(np.array([[0, 1, 3, 1]]), 1)
    b = encode(np.array([[0, 1, 3, 2]]), 1)
    got, _ = decode(merge([b, a]), strict=False)
    assert got[:, 3].tolist() == [2, 1]


def test_merge_of_disjoint_layer_slices_is_the_layer_stream() -> None:
    """Split a layer's events by neuron into cores; merging the cores gives the layer's stream back."""
    network = random_network(4, sizes=(24, 9))
    trace = simulate(network, np.random.default_rng(0).integers(0, 256, (7, 16)))
    events = trace.events[0]
    cores = [events[events[:, 2] % 3 == c] for c in range(3)]
    merged = merge([encode(core, 7) for core in cores])
    assert np.array_equal(merged, encode(events, 7))


def test_empty_windows_and_empty_streams() -> None:
    assert encode(np.zeros((0, 4), dtype=np.int64), 3).tolist() == [list(EOW)] * 3
    assert encode(np.zeros((0, 4), dtype=np.int64), 0).shape == (0, 3)
    assert merge([np.zeros((0, 3), dtype=np.int64)]).shape == (0, 3)
    tokens = encode(np.array([[1, 2, 0, 1], [1, 4, 3, 2]]), 3)
    assert tokens.tolist() == [[0, 0, 0], [2, 0, 1], [2, 3, 2], [0, 0, 0], [0, 0, 0]]


def test_encode_refuses_bad_events() -> None:
    with pytest.raises(StreamError, match="strictly increasing"):
        encode(np.array([[0, 2, 1, 1], [0, 1, 0, 1]]), 1)
    with pytest.raises(StreamError, match="strictly increasing"):
        encode(np.array([[0, 2, 1, 1], [0, 2, 1, 1]]), 1)
    with pytest.raises(StreamError, match="sample"):
        encode(np.array([[1, 0, 0, 1]]), 1)
    with pytest.raises(StreamError, match="amplitude"):
        encode(np.array([[0, 0, 0, 0]]), 1)
    with pytest.raises(StreamError, match="time"):
        encode(np.array([[0, 8, 0, 1]]), 1, time_steps=8)


def test_decode_refuses_bad_streams() -> None:
    with pytest.raises(StreamError, match="end with an end-of-window"):
        decode(np.array([[0, 1, 1]]))
    with pytest.raises(StreamError, match=r"must be \(0, 0, 0\)"):
        decode(np.array([[3, 0, 0]]))
    with pytest.raises(StreamError, match="strictly increasing"):
        decode(np.array([[1, 5, 1], [0, 2, 1], [0, 0, 0]]))
    with pytest.raises(StreamError, match="index"):
        decode(np.array([[1, 5, 1], [0, 0, 0]]), size=5)
    with pytest.raises(StreamError, match="same number of windows"):
        merge([encode(np.zeros((0, 4), dtype=np.int64), 1), encode(np.zeros((0, 4), dtype=np.int64), 2)])
    with pytest.raises(StreamError, match="at least one"):
        merge([])


@settings(max_examples=100, deadline=None)
@given(event_sets(max_t=15, max_idx=9, max_amp=3))
def test_pack_round_trip(data) -> None:
    events, n = data
    widths = StreamWidths(dt=4, idx=4, amp=2)
    tokens = encode(events, n)
    words = pack(tokens, widths)
    assert words.dtype == np.uint64
    assert np.array_equal(unpack(words, widths), tokens)


def test_pack_field_layout_and_overflow() -> None:
    widths = StreamWidths(dt=3, idx=2, amp=1)
    assert pack(np.array([[5, 2, 1]]), widths).tolist() == [5 | 2 << 3 | 1 << 5]
    with pytest.raises(StreamError, match="idx must fit in 2 bits"):
        pack(np.array([[0, 4, 1]]), widths)
