"""Row-packed memory images: how neuron parameters are laid out in a core's wide memories.

A core with ``lanes`` L and ``rows`` R holds neuron ``lo + r·L + l`` in lane
``l`` of row ``r``. Every memory is one word per row (all lanes side by side,
lane 0 in the low bits), so one access serves every lane at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["MEMORY_ATTRS", "load_words", "pack_lanes", "row_values", "weight_rows"]

#: Synthesis attributes for each memory style of the build configuration.
MEMORY_ATTRS: dict[str, dict[str, str]] = {
    "auto": {},
    "block": {"ram_style": "block"},
    "distributed": {"ram_style": "distributed"},
    "registers": {"ram_style": "registers"},
}


def pack_lanes(values: Sequence[int], bits: int) -> int:
    """Pack per-lane signed values into one word (lane 0 in the low ``bits`` bits)."""
    mask = (1 << bits) - 1
    word = 0
    for lane, value in enumerate(values):
        word |= (int(value) & mask) << (lane * bits)
    return word


def row_values(values: np.ndarray, lo: int, hi: int, lanes: int) -> list[list[int]]:
    """Per-row lane values of neurons ``lo … hi−1`` (padding lanes get 0)."""
    rows = math.ceil((hi - lo) / lanes)
    out = []
    for r in range(rows):
        out.append([int(values[lo + r * lanes + k]) if lo + r * lanes + k < hi else 0 for k in range(lanes)])
    return out


def weight_rows(weight: np.ndarray, lo: int, hi: int, lanes: int, bits: int) -> list[int]:
    """Weight memory image: word ``j·R + r`` holds ``W[lo + r·L + l, j]`` for every lane ``l``."""
    rows = math.ceil((hi - lo) / lanes)
    n_in = weight.shape[1]
    padded = np.zeros((rows * lanes, n_in), dtype=np.int64)
    padded[: hi - lo] = weight[lo:hi]
    mask = (1 << bits) - 1
    # (n_in, rows, lanes) -> one integer per (j, r)
    cube = (padded.reshape(rows, lanes, n_in).transpose(2, 0, 1) & mask).astype(object)
    shifts = [1 << (lane * bits) for lane in range(lanes)]
    words = (cube * np.array(shifts, dtype=object)).sum(axis=2)
    return [int(w) for w in words.reshape(-1)]


def load_words(weight: np.ndarray, slices: Sequence[tuple[int, int]], lanes: int, bits: int) -> np.ndarray:
    """The writes that load a dense layer's weights through its ``wl_*`` port.

    Returns ``int64 (K, 4)`` rows ``(core, addr, lane, value)``: word ``addr = j·R + r`` of
    core ``core``'s weight memory, lane ``lane``, ``value`` the weight in ``bits``-bit two's
    complement; one row per neuron and input (padding lanes are left alone).
    """
    rows = []
    mask = (1 << bits) - 1
    n_in = weight.shape[1]
    for core, (lo, hi) in enumerate(slices):
        core_lanes = min(lanes, hi - lo)
        r_count = math.ceil((hi - lo) / core_lanes)
        n = np.arange(lo, hi)
        r, lane = (n - lo) // core_lanes, (n - lo) % core_lanes
        for j in range(n_in):
            addr = j * r_count + r
            rows.append(np.stack([np.full(len(n), core), addr, lane, weight[n, j] & mask], axis=1))
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 4), dtype=np.int64)
