"""SRAM reads that the work needs, to put beside the reads the gate-level simulation counted.

The accelerator reads a memory row only on a cycle with work (:mod:`snnhw.rtl.memories`: read
enables), so the reads it makes follow the spikes. What the work needs, per sample and core
(``R`` rows, ``T`` time steps, ``E`` sparse current entries of an encoder core, ``L`` lanes):

* dense core: a ``SYN`` pass of ``R`` rows per input event (weights ``wmem`` and potentials
  ``vmem``), a ``FIRE`` pass of ``R`` rows per step (potentials, and biases ``bmem``); in an
  empty loadable design (the ASIC default), the ``INIT`` pass after the load (``R`` bias rows, once
  in the run, since the run starts with the load's commit);
* encoder core: one entry read (``emem``, the RTL bank that holds it) per entry it issues: every
  entry of a row that meets a non-zero pixel, the first entry of any other row
  (:func:`snnhw.rtl.encoder.issued_entries`); per entry of an active row, one pixel-word read in
  each lane's buffer (``xmem``) unless the lane's pixel is in the word it read for the entry
  before in the row; a ``FIRE`` pass of ``R`` rows per step (potentials ``vmem``,
  currents ``imem``); one bias row (``bmem``) per row of currents.

A row read of a memory touches the macros of one address range (one bank of the RTL, one
depth slice of the macro mapping); :func:`needed_reads` counts those macros from the netlist's
instance names (``<memory>.<depth slice>.<column>``).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from snnhw.ir import Network
from snnhw.power.energy import macro_place
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.encoder import active_rows, entry_bits, issued_entries, pixel_reads, pixels_per_word, sparse_entries
from snnhw.rtl.memories import bank_count, bank_depth

__all__ = ["memory_kind", "needed_reads"]

_NAME = re.compile(r"^l(\d+)_core(\d+)\.([a-z]+?)\d*(?:s\d+)?$")


def memory_kind(memory: str) -> tuple[int, int, str] | None:
    """``(layer, core, kind)`` of a memory name such as ``l1_core0.wmem0`` (kind ``wmem``); ``None`` for
    a memory outside the cores."""
    match = _NAME.match(memory)
    return None if match is None else (int(match.group(1)), int(match.group(2)), match.group(3))


def _per_memory(instances: Iterable[str]) -> dict[str, float]:
    """Per memory (``l0_core0.emem1s2``): the macros of one depth slice, what one row read touches."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name in instances:
        memory, depth_slice = macro_place(name)
        counts[memory][depth_slice] += 1
    return {memory: sum(slices.values()) / len(slices) for memory, slices in counts.items()}


def _macros_per_slice(per_memory: dict[str, float]) -> dict[tuple[int, int, str], float]:
    """Per (layer, core, kind): the macros of one depth slice, summed over the kind's memories (lane
    slices, column slices, RTL banks and the lanes' pixel buffers): what one row read of every memory
    of the kind at once would touch."""
    out: dict[tuple[int, int, str], float] = defaultdict(float)
    for memory, macros in per_memory.items():
        key = memory_kind(memory)
        if key is not None:
            out[key] += macros
    return dict(out)


_ENTRY_BANK = re.compile(r"\.emem(\d*)(?:s\d+)?$")


def _entry_reads(per_memory: dict[str, float], layer: int, core: int, issued: np.ndarray, words: int) -> float:
    """Macro reads of an encoder core's entry memory for the entries it issues (``issued``: how often
    each entry is issued, per sample; ``words``: entries per RTL bank): each RTL bank
    (``emem<bank>s<slice>``) is read once per issue of an entry it holds, whether its macros are all
    there or some of it was kept in logic."""
    total = 0.0
    prefix = f"l{layer}_core{core}."
    for memory, macros in per_memory.items():
        match = _ENTRY_BANK.search(memory)
        if memory.startswith(prefix) and match:
            bank = int(match.group(1) or 0)
            total += float(issued[bank * words:(bank + 1) * words].sum()) * macros
    return total


def needed_reads(network: Network, build: Build, input_events: np.ndarray, inputs: np.ndarray,
                 macro_instances: Iterable[str]) -> dict[str, float]:
    """Macro reads per sample that the work needs, by memory kind (``l1.wmem``), and ``total``.

    ``input_events``: ``(layers, N)`` input events per layer and sample
    (:func:`snnhw.rtl.cycles.input_events_from_trace`); ``inputs``: the ``(N, n_in)`` samples (the
    encoder's work follows their non-zero pixels); ``macro_instances``: the SRAM macro instance
    names of the netlist.
    """
    per_memory = _per_memory(macro_instances)
    per_slice = _macros_per_slice(per_memory)
    T = network.time_steps
    # an empty loadable design leaves reset when its load commits, with the samples already waiting:
    # each dense core's INIT pass (one bias read per row) falls in the run, once
    init = int(build.load is not None and not build.load.preloaded)
    mean_in = input_events.mean(axis=1) if input_events.size else np.zeros(len(network.layers))
    out: dict[str, float] = defaultdict(float)
    for i, layer in enumerate(network.layers):
        lb = build.layers[i]
        for c, (lo, hi) in enumerate(core_slices(layer.size, lb.cores)):
            lanes = min(lb.lanes, hi - lo)
            rows = math.ceil((hi - lo) / lanes)
            if i == 0:
                image = sparse_entries(layer.weight, lo, hi, lanes)
                ppw = pixels_per_word(network.input.bits, build.pixels_per_beat)
                words = -(-layer.n_in // ppw)
                active = active_rows(layer.weight, lo, hi, lanes, ppw, inputs)
                if (i, c, "emem") in per_slice:
                    issued = np.zeros(len(image))
                    for a in active:
                        np.add.at(issued, issued_entries(image, a), 1)
                    ewords = bank_depth(entry_bits(layer.n_in, layer.weight_bits, lanes, ppw))
                    out[f"l{i}.emem"] += _entry_reads(per_memory, i, c, issued / max(1, len(active)), ewords)
                # (row reads, RTL banks a read picks one of): a lane reads its pixel buffer for an entry
                # unless the pixel is in the word it read last (per lane, so the mean over the lanes)
                xreads = float(np.mean([pixel_reads(image, ppw, a) for a in active])) if len(active) else 0.0
                rows_of: dict[str, tuple[float, int]] = {
                    "xmem": (xreads / lanes, bank_count(words, network.input.bits * ppw)),
                    "vmem": (T * rows, 1), "imem": (T * rows, 1), "bmem": (rows, 1)}
            else:
                syn = float(mean_in[i]) * rows
                rows_of = {"wmem": (syn, bank_count(layer.n_in * rows, lanes * layer.weight_bits)), "vmem": (syn + T * rows, 1),
                           "bmem": (T * rows + init * rows / max(1, len(inputs)), 1)}
            for kind, (count, banks) in rows_of.items():
                if (i, c, kind) in per_slice:
                    out[f"l{i}.{kind}"] += count * per_slice[(i, c, kind)] / banks
    out["total"] = sum(out.values())
    return dict(out)
