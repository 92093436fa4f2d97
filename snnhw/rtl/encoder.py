"""Encoder core: the learned LIF input encoder.

Per window the core

1. **loads** the input vector from the pixel stream (one beat per cycle) into a
   buffer, one copy per lane so that every lane reads its own pixel each cycle;
   a buffer word holds several adjacent pixels (:func:`pixels_per_word`), and a
   lane reads its buffer only when its pixel is not in the word it read last
   (a flag per lane in the entry word);
2. computes the **currents** ``I = sat(W·x + b)`` from a sparse image of the
   weights: row r of the core (lane l = neuron ``lo + r·L + l``) is a list of
   ``K_r`` entries, ``K_r`` the largest number of non-zero weights among the row's
   neurons (at least 1); each entry gives every lane a column and a weight, so a
   patch encoder with a handful of non-zeros per neuron costs a handful of
   cycles per row, not ``n_in``; the sum is exact (a wide accumulator) and
   clamped once, as the spec says; a row none of whose weights meets a non-zero pixel-buffer word
   (a bitmap of the words, kept while loading) is not computed: it takes one cycle, and its sum is 0
   (:func:`active_rows`), so an empty or sparse input costs little;
3. runs T **steps**, one pass over its rows each: ``V ← sat(leak(V) + I)``, then
   ``fire``; after the last step the potential is reset to 0;
4. closes the window with an end-of-window row.

Steps 1–2 (the front engine) and 3–4 (the step engine) work on different
windows at once: the currents have two banks, so the next window's pixels are
loaded and its currents computed while the step engine still runs the current
window, and back to back the encoder takes ``max(front, steps)`` cycles per
window, not their sum.

The pass pipeline (synchronous reads, write one cycle later, a forwarding
register) and the serializer are those of :class:`snnhw.rtl.dense.DenseCore`.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import stream
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from snnhw.ir import Layer, LeakKind, StreamWidths
from snnhw.rtl import lif
from snnhw.rtl.core import LEAD, Op, RowCore, RunParams, add_unit, auto_pipeline_depth, fire_units, leak_unit
from snnhw.rtl.framing import beat_layout
from snnhw.rtl.memories import (
    MEMORY_ATTRS,
    NO_RW_CHECK,
    BankedRead,
    LaneMemory,
    pack_lanes,
    potential_attrs,
    row_values,
)

__all__ = ["FRONT_DRAIN", "PIXEL_WORD_BITS", "EncoderCore", "active_rows", "capacity_current_bits", "current_bits", "entry_bits",
           "entry_words", "issued_entries", "pixel_reads", "pixels_per_word", "row_mask_words", "row_starts", "row_words",
           "sparse_entries"]

#: Lanes whose pixel buffers share one copy of the write registers.
FANOUT_LANES = 1
#: Cycles the front engine waits after its last entry before it hands the bank over (the
#: current pipeline's stages after the entry read: B, B2, B3, C, C2, C3, C4, D, E).
FRONT_DRAIN = 9


def sparse_entries(weight: np.ndarray, lo: int, hi: int, lanes: int) -> list[tuple[list[int], list[int], bool]]:
    """The sparse weight image: per entry, each lane's column and weight and the row-end flag."""
    rows = math.ceil((hi - lo) / lanes)
    entries = []
    for r in range(rows):
        lists = []
        for lane in range(lanes):
            n = lo + r * lanes + lane
            if n < hi:
                nz = np.flatnonzero(weight[n])
                lists.append([(int(c), int(weight[n, c])) for c in nz])
            else:
                lists.append([])
        k_r = max(1, max(len(x) for x in lists))
        for k in range(k_r):
            col_k = [x[k][0] if k < len(x) else 0 for x in lists]
            w_k = [x[k][1] if k < len(x) else 0 for x in lists]
            entries.append((col_k, w_k, k == k_r - 1))
    return entries


#: Bits of a pixel-buffer word at least (a power-of-two number of pixels): adjacent pixels share a word,
#: so a lane whose next entry needs a pixel of the word it read last reads nothing (a 5-pixel row of a
#: 5×5 patch costs two reads of 8-bit pixels instead of five), and a buffer of 784 8-bit pixels is one
#: 256×32 SRAM macro instead of thirteen 64-word ones.
PIXEL_WORD_BITS = 32


def pixels_per_word(input_bits: int, pixels_per_beat: int) -> int:
    """Pixels per pixel-buffer word: the smallest power of two ≥ ``pixels_per_beat`` whose word holds
    :data:`PIXEL_WORD_BITS` bits or more."""
    ppw = pixels_per_beat
    while ppw * input_bits < PIXEL_WORD_BITS:
        ppw *= 2
    return ppw


def _reuse(entries: list[tuple[list[int], list[int], bool]], ppw: int) -> list[list[bool]]:
    """Per entry and lane: the lane's pixel is in the word it read for the entry before (no read).
    A row's first entry always reads: the row before may have been skipped (:func:`active_rows`)."""
    out, prev = [], None
    for cols, _, last in entries:
        words = [c // ppw for c in cols]
        out.append([False] * len(words) if prev is None else [w == q for w, q in zip(words, prev)])
        prev = None if last else words
    return out


def row_starts(entries: list[tuple[list[int], list[int], bool]]) -> list[int]:
    """Index of each row's first entry, and the entry count last: row r is entries
    ``starts[r] … starts[r + 1] − 1``."""
    starts = [0]
    for k, (_, _, last) in enumerate(entries):
        if last:
            starts.append(k + 1)
    return starts


def row_words(weight: np.ndarray, lo: int, hi: int, lanes: int, ppw: int) -> list[list[int]]:
    """Per row of an encoder core: the pixel-buffer words that hold a pixel with a non-zero weight of
    one of the row's neurons (sorted; empty for a row without weights)."""
    rows = math.ceil((hi - lo) / lanes)
    out = []
    for r in range(rows):
        block = weight[lo + r * lanes: min(hi, lo + (r + 1) * lanes)]
        cols = np.flatnonzero(np.any(block != 0, axis=0))
        out.append(sorted({int(c) // ppw for c in cols}))
    return out


def active_rows(weight: np.ndarray, lo: int, hi: int, lanes: int, ppw: int, x: np.ndarray) -> np.ndarray:
    """``(N, R)``: whether row r of the core has a non-zero weight on a pixel-buffer word holding a
    non-zero pixel of sample n. The front engine computes only those rows' sums; every other row's
    sum is 0 (its current is ``sat(b)``), and it costs one cycle."""
    x = np.atleast_2d(np.asarray(x))
    n, n_in = x.shape
    n_words = -(-n_in // ppw)
    padded = np.zeros((n, n_words * ppw), dtype=bool)
    padded[:, :n_in] = x != 0
    nz: np.ndarray = np.asarray(padded.reshape(n, n_words, ppw).any(axis=2))
    return np.stack([nz[:, words].any(axis=1) if words else np.zeros(n, dtype=bool)
                     for words in row_words(weight, lo, hi, lanes, ppw)], axis=1)


def issued_entries(entries: list[tuple[list[int], list[int], bool]], active: np.ndarray) -> list[int]:
    """The entries the front engine issues (and reads) for one window: every entry of an active row,
    the first entry of any other row (with its products forced to 0)."""
    starts = row_starts(entries)
    out: list[int] = []
    for r, on in enumerate(np.asarray(active, dtype=bool)):
        out.extend(range(starts[r], starts[r + 1]) if on else [starts[r]])
    return out


def pixel_reads(entries: list[tuple[list[int], list[int], bool]], ppw: int,
                active: np.ndarray | None = None) -> int:
    """Pixel-buffer reads of one window, summed over the lanes: one per entry of an active row (all
    rows when ``active`` is None) and lane, unless the lane's pixel is in the word it read for the
    entry before in the same row."""
    reuse = _reuse(entries, ppw)
    starts = row_starts(entries)
    rows = range(len(starts) - 1) if active is None else np.flatnonzero(np.asarray(active, dtype=bool))
    return sum(not r for row in rows for k in range(starts[row], starts[row + 1]) for r in reuse[k])


def entry_words(entries: list[tuple[list[int], list[int], bool]], lanes: int, col_bits: int, weight_bits: int,
                ppw: int) -> list[int]:
    """The entry memory's words: every lane's column and weight, every lane's "same pixel word as the
    entry before" flag, and the row-end flag on top."""
    words = []
    for (cols, ws, last), reuse in zip(entries, _reuse(entries, ppw)):
        words.append(pack_lanes(cols, col_bits) | (pack_lanes(ws, weight_bits) << (lanes * col_bits))
                     | (pack_lanes([int(r) for r in reuse], 1) << (lanes * (col_bits + weight_bits)))
                     | (int(last) << (lanes * (col_bits + weight_bits + 1))))
    return words


def row_mask_words(weight: np.ndarray, lo: int, hi: int, lanes: int, ppw: int) -> list[int]:
    """Per row: a bit per pixel-buffer word, set where :func:`row_words` lists it (a loadable encoder's row masks)."""
    return [sum(1 << w for w in words) for words in row_words(weight, lo, hi, lanes, ppw)]


def column_bits(n_in: int, ppw: int) -> int:
    """Bits of an entry's column field."""
    return max(1, (n_in - 1).bit_length(), (ppw - 1).bit_length())


def entry_bits(n_in: int, weight_bits: int, lanes: int, ppw: int) -> int:
    """Bits of an entry word: every lane's column, weight and "same pixel word" flag, and the row-end flag."""
    return lanes * (column_bits(n_in, ppw) + weight_bits + 1) + 1


def capacity_current_bits(layer: Layer, input_bits: int, fan_in: int) -> int:
    """Signed width that holds ``W·x + b`` of every layer of ``layer``'s widths with at most ``fan_in``
    non-zero weights per neuron (a loadable encoder's accumulator)."""
    xmax = (1 << input_bits) - 1
    hi = fan_in * -layer.w_min * xmax + layer.v_max
    return max(hi.bit_length(), layer.potential_bits) + 1


def current_bits(layer: Layer, input_bits: int) -> int:
    """Signed width that holds every exact ``W·x + b`` of the layer."""
    xmax = (1 << input_bits) - 1
    w = layer.weight
    hi = int(np.clip(w, 0, None).sum(axis=1).max()) * xmax
    lo = int(np.clip(w, None, 0).sum(axis=1).min()) * xmax
    if layer.bias is not None:
        hi += max(0, int(layer.bias.max()))
        lo += min(0, int(layer.bias.min()))
    return max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0, layer.potential_bits) + 1


class EncoderCore(RowCore):
    """The encoder's core: pixel beats ``i`` (``pixels_per_beat`` input values and the framer's ``abort``
    flag per transfer, ``ceil(n_in / pixels_per_beat)`` per window), output ``o``.

    Parameters are those of :class:`snnhw.rtl.dense.DenseCore`, with ``input_bits``
    (B) instead of input stream widths. Neurons ``lo … hi−1``.
    """

    def __init__(self, layer: Layer, *, time_steps: int, input_bits: int, out_widths: StreamWidths, lo: int,
                 hi: int, lanes: int, fires: bool = True, ticks: bool = False, memory: str = "auto",
                 depth: int | None = None, pixels_per_beat: int = 1, params: RunParams | None = None,
                 bus: Any = None, targets: dict[str, int] | None = None, entry_capacity: int | None = None,
                 fan_in: int | None = None) -> None:
        self.input_bits = input_bits
        self.ppb = pixels_per_beat
        self.ppw = pixels_per_word(input_bits, pixels_per_beat)
        self.entries = sparse_entries(layer.weight, lo, hi, lanes)
        self.bus, self.targets = bus, targets or {}
        self.entry_capacity = entry_capacity if entry_capacity is not None else len(self.entries)
        self.fan_in = fan_in
        if len(self.entries) > self.entry_capacity:
            raise ValueError(f"{len(self.entries)} entries exceed the capacity {self.entry_capacity}")
        if depth is None:
            depth = auto_pipeline_depth(layer, encoder=True, fires=fires)
        super().__init__(layer, time_steps=time_steps, out_widths=out_widths, lo=lo, hi=hi, lanes=lanes, fires=fires,
                         ticks=ticks, memory=memory, depth=depth, params=params,
                         members={"i": In(stream.Signature(beat_layout(input_bits * pixels_per_beat)))})

    def elaborate(self, platform) -> Module:
        m = Module()
        self._local_params(m)
        layer, L, R, T = self.layer, self.lanes, self.rows, self.T
        P, W, B = layer.potential_bits, layer.weight_bits, self.input_bits
        n_x = layer.n_in
        E = self.entry_capacity
        bus = self.bus.local(m, self.targets) if self.bus is not None else None
        cbits = column_bits(n_x, self.ppw)
        abits = current_bits(layer, B) if bus is None else capacity_current_bits(layer, B, self.fan_in or n_x)
        attrs = MEMORY_ATTRS[self.memory]

        # ------------------------------------------------------------ memories
        # an entry: every lane's column and weight, every lane's "same pixel word as the entry before"
        # flag (that lane's pixel buffer is not read), the row-end flag
        ewidth = entry_bits(n_x, W, L, self.ppw)
        einit = entry_words(self.entries, L, cbits, W, self.ppw)
        cnt_next = Signal(range(max(n_x, E) + 1), name="cnt_next")  # the front engine's counter, a cycle ahead
        emem = BankedRead(m, "emem", width=ewidth, depth=E, init=einit, attrs=attrs, addr_next=cnt_next,
                          granularity=ewidth if bus is not None else None, shared=bus is not None)
        if bus is not None:
            m.d.comb += [emem.waddr.eq(bus.addr), emem.wdata.eq(bus.data), emem.wen.eq(bus.we["emem"])]
        # each lane's pixel buffer holds ppw pixels per word (one or more beats of ppb pixels)
        ppb, ppw = self.ppb, self.ppw
        sub_bits = (ppw - 1).bit_length()
        slots = ppw // ppb
        slot_bits = (slots - 1).bit_length()
        n_beats = -(-n_x // ppb)
        n_words = -(-n_x // ppw)
        # The pixel buffer is written only while a sample loads (LOAD) and read only by the passes after
        # it, so a read and a write never meet at one address in one cycle: `no_rw_check` tells Yosys so,
        # and it leaves out the collision logic it would otherwise put behind the block RAM's output
        xmem = [BankedRead(m, f"xmem{lane}", width=B * ppw, depth=n_words, init=[],
                           attrs={**attrs, **NO_RW_CHECK}, granularity=B * ppw) for lane in range(L)]
        # two banks of currents: the front engine fills one while the step engine reads the other. A
        # bank is written only while it is free and read only while it is full, and the front engine's
        # first write into a released bank comes several cycles after the step engine's last read of it
        # (its pipeline never stalls after issue), so here too a read and a write never meet
        imem = LaneMemory(m, "imem", lanes=L, field=P, depth=2 * R, attrs={**attrs, **NO_RW_CHECK})
        vmem = LaneMemory(m, "vmem", lanes=L, field=P, depth=R, attrs=potential_attrs(attrs, R))
        if layer.bias is not None:
            bias_rows = [pack_lanes(row, P) for row in row_values(layer.bias, self.lo, self.hi, L)]
            m.submodules.bmem = bmem = Memory(shape=unsigned(L * P), depth=max(2, R), init=bias_rows, attrs=attrs)
            b_rd = bmem.read_port()
            if bus is not None:  # written while the core is held in reset: the read port's address
                b_wr = bmem.write_port()
                m.d.comb += [b_wr.data.eq(bus.data), b_wr.en.eq(bus.we["bmem"])]

        ser = self._serializer(m)
        # the per-lane datapath registers of the front engine's current pipeline and of the step
        # engine's pass pipeline, each clocked only while its pipeline has rows (RowCore._gate)
        front = Module()
        steps = Module()

        # ---------------------------------------------------------- sequencing
        # Front engine (fop): LOAD the pixels, compute the currents (CUR) into bank `fb`, drain.
        # Step engine (op): INIT after reset, then per window T FIRE passes over bank `bb`, EOW.
        # `full` marks banks holding currents the step engine has not finished with.
        rbits = self.rbits
        op = Signal(Op, init=Op.INIT)
        fop = Signal(Op, init=Op.LOAD)
        r = Signal(rbits)
        t = Signal(range(T + 1))
        cnt = Signal(range(max(n_x, E) + 1))
        drain = Signal(range(FRONT_DRAIN + 1))
        full = Signal(2)
        fb = Signal()
        bb = Signal()
        last_row = r == R - 1
        issue = Signal()
        S = self._stages(m, issue, {"op": op, "r": r, "t": t, "last_row": last_row, "bank": bb}, {"bank": 1})
        credit = self._credit(m, ser, issue, op, t)
        cool = self._cooldown(m, issue, op, last_row)

        # LOAD: beat j into every lane's buffer; a word of several beats is assembled in the lane's data
        # copy, slot by slot, and written with its last beat (or the sample's last)
        loading = fop == Op.LOAD
        # The pixel writes go through one register copy per group of FANOUT_LANES lanes (kept apart in
        # synthesis), so that no register drives the write pins of more than one lane's buffer; the
        # write lands a cycle later, long before the current pass reads it.
        # The counter itself reaches the copies through one kept register per group of 8 lanes, loaded
        # from the counter's next value, so that each copy still equals the counter.
        keep = {"keep": 1}
        wen = Signal()
        m.d.comb += wen.eq(self.i.valid & loading)
        tops = []
        for k in range(0, L, 8):
            top = Signal.like(cnt, name=f"xw_t{k // 8}_addr_copy", attrs=keep)
            m.d.sync += top.eq(cnt_next)
            tops.append(top)
        slot = cnt[:slot_bits] if slot_bits else Const(0, 1)
        word_done = Signal()
        m.d.comb += word_done.eq(wen & ((slot == slots - 1) | (cnt == n_beats - 1)))
        for g in range(0, L, FANOUT_LANES):
            ga = Signal(max(1, len(cnt) - slot_bits), name=f"xw{g // FANOUT_LANES}_addr_copy", attrs=keep,
                        reset_less=True)
            gd = Signal(B * ppw, name=f"xw{g // FANOUT_LANES}_data_copy", attrs=keep, reset_less=True)
            ge = Signal(name=f"xw{g // FANOUT_LANES}_en_copy", attrs=keep)
            m.d.sync += ge.eq(word_done)
            with m.If(word_done):  # the address copy loads only with a write, each slot only with its beat
                m.d.sync += ga.eq((tops[g // 8] if L > 8 else cnt) >> slot_bits)
            for k in range(slots):
                with m.If(wen & (slot == k)):
                    m.d.sync += gd.word_select(k, B * ppb).eq(self.i.payload.data)
            for lane in range(g, min(L, g + FANOUT_LANES)):
                m.d.comb += [xmem[lane].waddr.eq(ga), xmem[lane].wdata.eq(gd), xmem[lane].wen.eq(ge)]
        m.d.comb += self.i.ready.eq(loading)

        a_valid = Signal()
        # emem's address pins are driven by its own kept copies of the counter (loaded from cnt_next),
        # so that the counter's register drives only its increment, its comparisons and the copies;
        # it reads the next entry while the front engine computes currents (CUR) and moves on, and the
        # first one as the last pixel arrives; a stalled pass keeps its entry in the macro's output
        m.d.comb += cnt_next.eq(cnt)
        # Rows that meet no non-zero pixel are skipped. While loading, `nzw` marks the pixel-buffer
        # words with a non-zero pixel; in PREP (one cycle) `act` gets one bit per row: the row has a
        # non-zero weight on a marked word. A skipped row issues its first entry alone, with its
        # products forced to 0 and its row-end flag set (`kill`), and the counter jumps to the next
        # row's first entry (`nstart`, from a table of row starts indexed by `fi`, two rows ahead).
        starts = row_starts(self.entries)
        words_of = row_words(layer.weight, self.lo, self.hi, L, ppw)
        nzw = Signal(n_words, name="nz_words", reset_less=True)
        act = Signal(R, name="row_active", reset_less=True)
        sbits = max(1, E.bit_length())
        wbits = len(cnt)
        if bus is None:
            start_tab: Value = Const(sum(v << (k * sbits) for k, v in enumerate(starts + [E] * 2)), (R + 3) * sbits)
            row_active = Cat(*[Cat(*(nzw[w] for w in words)).any() if words else Const(0, 1) for words in words_of])
            first_end: Value | int = starts[1]
            # each row's last entry (its successor's start less one), a constant table beside the starts
            last_tab: Value = Const(sum(((v - 1) % (1 << wbits)) << (k * wbits) for k, v in enumerate(starts + [E] * 2)),
                                    (R + 3) * wbits)
            first_last: Value | int = (starts[1] - 1) % (1 << wbits)
        else:
            # a loadable encoder: the row starts and each row's pixel-word mask are registers the
            # configuration bus writes (targets "starts", "rmask"), one word per address
            n_ent = len(self.entries)
            regs = [Signal(sbits, init=v, name=f"row_start{k}", reset_less=True)
                    for k, v in enumerate(starts + [n_ent] * 2)]
            masks = [Signal(n_words, init=v, name=f"row_mask{k}", reset_less=True)
                     for k, v in enumerate(row_mask_words(layer.weight, self.lo, self.hi, L, ppw))]
            for k, reg in enumerate(regs):
                with m.If(bus.we["starts"] & (bus.addr == k)):
                    m.d.sync += reg.eq(bus.data[:sbits])
            for k, reg in enumerate(masks):
                with m.If(bus.we["rmask"] & (bus.addr == k)):
                    m.d.sync += reg.eq(bus.data[:n_words])
            start_tab = Cat(*regs)
            row_active = Cat(*[(mask & nzw).any() for mask in masks])
            first_end = regs[1]
            last_tab = Cat(*((reg - 1)[:wbits] for reg in regs))
            first_last = (regs[1] - 1)[:wbits]
        nstart = Signal(sbits, name="next_row_start")
        nlast = Signal(wbits, name="row_last_entry")  # nstart − 1: the row ends on the counter's own value
        fi = Signal(range(R + 3), name="row_after_next")
        first = Signal(name="row_first")
        last_frow = Signal(name="last_row_issuing")
        kill_a = Signal()
        with m.If(wen):
            with m.If(cnt == 0):
                m.d.sync += nzw.eq(0)
            with m.If(self.i.payload.data != 0):
                m.d.sync += nzw.bit_select(cnt >> slot_bits, 1).eq(1)
        free = ~full.bit_select(fb, 1)
        inc = Signal.like(cnt_next, name="cnt_inc")
        m.d.comb += inc.eq(cnt + 1)
        skip = first & ~act[0]
        row_last = skip | (cnt == nlast)  # inc == nstart, with no adder before the comparison
        m.d.comb += emem.en_next.eq(((fop == Op.CUR) & free & ~(row_last & last_frow)) | (fop == Op.PREP))
        m.d.sync += cnt.eq(cnt_next)
        m.d.sync += [a_valid.eq(0), kill_a.eq(0)]
        filled = Signal()  # the front engine hands bank fb over this cycle
        with m.Switch(fop):
            with m.Case(Op.LOAD), m.If(self.i.valid):
                m.d.comb += cnt_next.eq(cnt + 1)
                with m.If(self.i.payload.abort):  # a short or long sample (SampleFramer): start again
                    m.d.comb += cnt_next.eq(0)
                with m.Elif(cnt == n_beats - 1):
                    m.d.sync += fop.eq(Op.PREP)
                    m.d.comb += cnt_next.eq(0)
            with m.Case(Op.PREP):  # entry 0 is read; the row flags are loaded from the word bitmap
                m.d.sync += [fop.eq(Op.CUR), first.eq(1), nstart.eq(first_end), nlast.eq(first_last), fi.eq(2),
                             last_frow.eq(R == 1), act.eq(row_active)]
            with m.Case(Op.CUR), m.If(free):  # wait for a free bank
                m.d.sync += [a_valid.eq(1), kill_a.eq(skip), first.eq(row_last)]
                m.d.comb += cnt_next.eq(Mux(skip, nstart, inc))
                with m.If(row_last):
                    m.d.sync += [act.eq(act >> 1), nstart.eq(start_tab.word_select(fi, sbits)),
                                 nlast.eq(last_tab.word_select(fi, wbits)), fi.eq(fi + 1),
                                 last_frow.eq(fi == R)]
                    with m.If(last_frow):
                        m.d.sync += [fop.eq(Op.IDLE), drain.eq(FRONT_DRAIN)]
            with m.Case(Op.IDLE):  # the last entries leave the current pipeline
                m.d.sync += drain.eq(drain - 1)
                with m.If(drain == 0):
                    m.d.comb += [filled.eq(1), cnt_next.eq(0)]
                    m.d.sync += [fop.eq(Op.LOAD), fb.eq(~fb)]

        released = Signal()  # the step engine is done with bank bb this cycle
        # read addresses of stage S2, loaded into the slices' address copies from S1
        s1 = S[LEAD - 3]
        fire_next = s1.valid & (s1.op == Op.FIRE)  # only a FIRE row reads the potentials and the currents
        m.d.comb += [vmem.raddr_next.eq(s1.r), imem.raddr_next.eq(s1.bank * R + s1.r),
                     vmem.ren_next.eq(fire_next), imem.ren_next.eq(fire_next)]
        with m.Switch(op):
            with m.Case(Op.INIT), m.If(~cool):
                m.d.comb += issue.eq(1)
                m.d.sync += r.eq(r + 1)
                with m.If(last_row):
                    m.d.sync += [op.eq(Op.IDLE), r.eq(0)]
            with m.Case(Op.IDLE), m.If(full.bit_select(bb, 1)):
                m.d.sync += [op.eq(Op.FIRE), r.eq(0), t.eq(0)]
            with m.Case(Op.FIRE), m.If(credit & ~cool):
                m.d.comb += issue.eq(1)
                m.d.sync += r.eq(r + 1)
                with m.If(last_row):
                    m.d.sync += [r.eq(0), t.eq(t + 1)]
                    with m.If(t == self.params.t_last):
                        m.d.sync += op.eq(Op.EOW)
            with m.Case(Op.EOW), m.If(credit & ~cool):
                m.d.comb += [issue.eq(1), released.eq(1)]
                m.d.sync += [op.eq(Op.IDLE), t.eq(0), bb.eq(~bb)]
        set_mask = Mux(filled, Mux(fb, 0b10, 0b01), 0)
        clr_mask = Mux(released, Mux(bb, 0b10, 0b01), 0)
        m.d.sync += full.eq((full | set_mask) & ~clr_mask)
        m.d.comb += self.busy.eq(issue)

        # ------------------------------------------------------- current pipeline
        # B: the entry word leaves emem (a_valid) and is registered per bank; B2: the bank's word is
        # picked; B3: registered again, so that the bank multiplexer and the pixel buffers' address
        # pins are a cycle apart (a deep emem's multiplexer is cut in two there); the pixel buffers
        # are addressed with its columns; C: the pixels leave them; C2: registered per bank; C3: the
        # bank's pixel registered; C4: the pixel and the weight registered again, at the multiplier's
        # inputs; W·x per lane, registered at the multiplier's output; D: the accumulation; E:
        # sat(sum + b) is written.
        ent3 = emem.registered(front)
        v_b2, v_b3, v_c, v_c2, v_c3, v_c4, v_d, v_e = (Signal(name=n) for n in ("v_b2", "v_b3", "v_c", "v_c2", "v_c3",
                                                                               "v_c4", "v_d", "v_e"))
        kill_b2, kill_b3 = Signal(), Signal()
        last_c, last_c2, last_c3, last_c4, last_d = Signal(), Signal(), Signal(), Signal(), Signal()
        w_c = Signal(L * W, name="w_c", reset_less=True)
        w_c2 = Signal(L * W, name="w_c2", reset_less=True)
        w_c3 = Signal(L * W, name="w_c3", reset_less=True)
        w_c4 = Signal(L * W, name="w_c4", reset_less=True)
        m.d.sync += [v_b2.eq(a_valid), kill_b2.eq(kill_a),
                     v_b3.eq(v_b2), kill_b3.eq(kill_b2),
                     v_c.eq(v_b3), last_c.eq(ent3[-1] | kill_b3),
                     v_c2.eq(v_c), last_c2.eq(last_c),
                     v_c3.eq(v_c2), last_c3.eq(last_c2),
                     v_c4.eq(v_c3), last_c4.eq(last_c3),
                     v_d.eq(v_c4), last_d.eq(last_c4),
                     v_e.eq(v_d & last_d)]
        front.d.sync += [w_c.eq(Mux(kill_b3, 0, ent3[L * cbits: L * (cbits + W)])), w_c2.eq(w_c), w_c3.eq(w_c2),
                         w_c4.eq(w_c3)]
        subs = []
        for lane in range(L):
            col = ent3.word_select(lane, cbits)
            reuse = ent3[L * (cbits + W) + lane]  # the word read for the entry before holds this pixel
            m.d.comb += [xmem[lane].addr.eq(col >> sub_bits), xmem[lane].en.eq(v_b3 & ~reuse & ~kill_b3)]
            sub = Signal(max(1, sub_bits), name=f"sub{lane}", reset_less=True)  # the pixel within the word, at C2
            sub_c = Signal(max(1, sub_bits), name=f"sub_c{lane}", reset_less=True)
            front.d.sync += [sub_c.eq(col[:sub_bits] if sub_bits else 0), sub.eq(sub_c)]
            subs.append(sub)
        brow = Signal(rbits)
        crow = Signal(rbits)
        if layer.has_bias:  # addressed at C4 with the row of the entry there, registered at E
            m.d.comb += [b_rd.addr.eq(brow), b_rd.en.eq(v_c4 & last_c4)]  # read for the row being completed
            if bus is not None:
                b_one = Signal(len(brow), name="bmem_addr")
                # a single-port macro's one enable covers the writes (else synthesis reads it every cycle)
                m.d.comb += [b_one.eq(Mux(bus.we["bmem"], bus.addr, brow)), b_rd.addr.eq(b_one), b_wr.addr.eq(b_one),
                             b_rd.en.eq((v_c4 & last_c4) | bus.we["bmem"])]
            b_e = Signal(L * P, name="b_e", reset_less=True)
            front.d.sync += b_e.eq(b_rd.data)
        with m.If(v_c4 & last_c4):
            m.d.sync += brow.eq(Mux(brow == R - 1, 0, brow + 1))
        pbits = W + B + 1
        cur_row = []
        for lane in range(L):
            x_c3 = Signal(B, name=f"x_c3_{lane}", reset_less=True)  # the pixel (registered per bank at C2)
            x_c4 = Signal(B, name=f"x_c4_{lane}", reset_less=True)  # at the multiplier's input
            prod = Signal(signed(pbits), name=f"wx{lane}", reset_less=True)
            word = xmem[lane].data
            front.d.sync += [x_c3.eq(word.word_select(subs[lane], B) if ppw > 1 else word), x_c4.eq(x_c3),
                             prod.eq(w_c4.word_select(lane, W).as_signed() * x_c4)]
            acc = Signal(signed(abits), name=f"acc{lane}")
            total = Signal(signed(abits + 1), name=f"total{lane}")
            tot_e = Signal(signed(abits), name=f"sum{lane}", reset_less=True)
            m.d.comb += total.eq(acc + prod)
            with m.If(v_d):
                m.d.sync += acc.eq(Mux(last_d, 0, total))
            front.d.sync += tot_e.eq(total)
            b = b_e.word_select(lane, P).as_signed() if layer.has_bias else Const(0, signed(P))
            cur_row.append(lif.sat(m, tot_e + b, P, name=f"cur{lane}").as_unsigned())
        # the currents are registered once more (stage F) and written from the slices' copies
        m.d.comb += [imem.waddr_next.eq(fb * R + crow), imem.wen_next.eq(v_e)]
        cur_f = Signal(L * P, name="cur_f", reset_less=True)
        front.d.sync += cur_f.eq(Cat(*cur_row))
        m.d.comb += imem.wdata.eq(cur_f)
        with m.If(v_e):
            m.d.sync += crow.eq(Mux(crow == R - 1, 0, crow + 1))

        # ---------------------------------------------------------- step passes
        # potentials and currents: addressed at S2, out at S3, registered at S4 (= LEAD)
        i4 = Signal(L * P, name="i4", reset_less=True)
        steps.d.sync += i4.eq(imem.rdata)
        vrow = self._resolve(m, steps, S, vmem.rdata, [], SimpleNamespace(addr=vmem.waddr, data=vmem.wdata, en=vmem.wen),
                             complete=())
        states = [{"v": vrow.word_select(lane, P).as_signed(), "cur": i4.word_select(lane, P).as_signed()}
                  for lane in range(L)]
        leak = [leak_unit(layer, self.params.shift)] if layer.leak.kind is not LeakKind.NONE else []
        units = [*leak, add_unit(layer, "cur"), *fire_units(layer, fires=self.fires, theta=self.params.theta)]
        final_states = self._chunked(m, steps, S, units, states)
        sw = S[self.depth]
        final = sw.t == self.params.t_last
        sp = S[self.depth - 1]  # the write-back stage's row one cycle ahead, for the address copies
        # the new potential is kept after a FIRE row of a step before the last, else 0 (after the last
        # step and on INIT): that select registered a cycle ahead, per eight lanes
        keeps = self._early(m, (sp.op == Op.FIRE) & (sp.t != self.params.t_last), "wkeep")
        new_row, outs = [], []
        for lane, st in enumerate(final_states):
            outs.append(st["amp"])
            new_row.append(Mux(keeps[lane], st["v"], 0)[:P])
        m.d.comb += [vmem.waddr_next.eq(sp.r), vmem.wdata.eq(Cat(*new_row)),
                     vmem.wen_next.eq(sp.valid & ((sp.op == Op.FIRE) | (sp.op == Op.INIT)))]
        self._push(m, ser, sw, outs, final)
        self._gate(m, front, [a_valid, v_b2, v_b3, v_c, v_c2, v_c3, v_c4, v_d, v_e], "front_datapath")
        self._gate(m, steps, [s.valid for s in S], "step_datapath")
        return m
