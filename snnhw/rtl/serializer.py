"""Row serializer: the output side of a core.

A core's pass produces one *row* per cycle: the results of its ``lanes``
neurons at once. The serializer queues rows in a small FIFO and emits one
token per cycle in ascending neuron index: the spikes of a row (lowest lane
first), then, inside a multi-core layer, a tick at the end of each step, and
an end-of-window token for a window-end row. A row without anything to emit
costs one cycle, so a pass of R rows leaves in R cycles plus one per extra
spike in a row. ``space`` tells the core how many rows it may still issue.

No stage looks at more than eight lanes at once, whatever the lane count,
so the serializer adds no wide logic at 64 lanes and beyond:

====================  ======================================================================
stage                 what happens
====================  ======================================================================
row FIFO              rows as the core pushes them, each registered on its way in
``nxt``               prefetch register; each *group* of eight lanes gets a "has a spike"
                      flag as the row enters
row stage             one *item* per cycle: the lowest group that still has spikes (its
                      eight lanes, their values and the index of its first lane), picked
                      by a priority encoder over the group flags; the step-end and
                      end-of-window flags ride on the row's last item, and a row with
                      neither spikes nor flags leaves without an item
item buffer           a skid buffer (:class:`~snnhw.rtl.fifo.SkidBuffer`)
lane stage            one token per cycle out of the item: the lowest lane left, then the
                      tick or the end-of-window token
output buffer         a skid buffer, so ``o`` comes from registers
====================  ======================================================================

The lane stage counts a row's items down in a register, so no handshake
waits on logic over the lanes.
"""

from __future__ import annotations

import math
from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.ir import StreamWidths
from snnhw.rtl import faults
from snnhw.rtl.fifo import SkidBuffer
from snnhw.rtl.stream import core_layout, value_layout

__all__ = ["GROUP_LANES", "RowSerializer", "row_layout"]

ROW_FIFO_DEPTH = 4
#: Lanes that one item of the row stage carries (the width of every priority encoder).
GROUP_LANES = 8


def row_layout(widths: StreamWidths, lanes: int, rows: int, value_bits: int) -> data.StructLayout:
    """Layout of one row entry: step, row, lane mask, per-lane values and the end flags."""
    return data.StructLayout({
        "t": unsigned(widths.dt),
        "r": unsigned(max(1, (rows - 1).bit_length())),
        "mask": unsigned(lanes),
        "vals": data.ArrayLayout(unsigned(value_bits), lanes),
        "step_end": unsigned(1),
        "eow": unsigned(1),
    })


def _first_one(m: Module, bits: Value, name: str, *, highest: bool = False) -> Value:
    """One-hot of the lowest (``highest``: the highest) set bit of ``bits`` (0 when none)."""
    n = len(bits)
    out = Signal(n, name=name)
    order = list(reversed(range(n))) if highest else list(range(n))
    seen: Value = Const(0, 1)
    picks = [None] * n
    for k in order:
        picks[k] = bits[k] & ~seen
        seen = seen | bits[k]
    m.d.comb += out.eq(Cat(*picks))
    return out


def _select(onehot: Value, words: list[Value]) -> Value:
    """The word whose bit is set in ``onehot``, as an AND-OR multiplexer."""
    out: Value = Const(0, len(words[0]))
    for k, w in enumerate(words):
        out = out | Mux(onehot[k], w, 0)
    return out


def _at_most_one(bits: Value) -> Value:
    """1 when at most one bit of ``bits`` is set."""
    n = len(bits)
    if n <= 1:
        return Const(1, 1)
    seen: Value = Const(0, 1)
    two: Value = Const(0, 1)
    for k in range(n):
        two = two | (seen & bits[k])
        seen = seen | bits[k]
    return ~two


class RowSerializer(wiring.Component):
    """Rows in (``w`` + ``push``), tokens out (``o``).

    Parameters
    ----------
    widths:
        Stream widths of the layer.
    lanes, rows:
        Shape of the core: neuron ``base + r·lanes + l`` is lane ``l`` of row ``r``.
    base:
        Index of the core's first neuron within the layer.
    mode:
        ``"spike"``: ``vals`` are amplitudes and ``o`` is a core stream; ``"value"``:
        ``vals`` are final potentials and ``o`` is a value stream.
    value_bits:
        Width of one lane's value.
    ticks:
        Emit a tick after each step's last row (``spike`` mode in a multi-core layer).
    depth:
        Rows the FIFO holds (at least the core's rows in flight, so that a pass streams without
        bubbles).
    """

    def __init__(self, widths: StreamWidths, *, lanes: int, rows: int, base: int, mode: str, value_bits: int,
                 ticks: bool, depth: int = ROW_FIFO_DEPTH) -> None:
        self.widths, self.lanes, self.rows, self.base = widths, lanes, rows, base
        self.depth = depth
        self.mode, self.value_bits, self.ticks = mode, value_bits, ticks
        self.rlayout = row_layout(widths, lanes, rows, value_bits)
        self.group = min(lanes, GROUP_LANES)
        self.groups = math.ceil(lanes / self.group)
        self.ilayout = data.StructLayout({
            "t": unsigned(widths.dt),
            "ibase": unsigned(widths.idx),
            "mask": unsigned(self.group),
            "vals": data.ArrayLayout(unsigned(value_bits), self.group),
            "step_end": unsigned(1),
            "eow": unsigned(1),
        })
        out = core_layout(widths) if mode == "spike" else value_layout(widths.idx, value_bits)
        self.olayout = out
        super().__init__({
            "w": In(self.rlayout),
            "push": In(1),
            "space": Out(range(depth + 1)),
            "pop": Out(1),
            "o": Out(stream.Signature(out)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        L, G, NG = self.lanes, self.group, self.groups
        reverse = faults.active("reversed_additions")
        m.submodules.q = q = fifo.SyncFIFO(width=self.rlayout.size, depth=self.depth)
        # a pushed row is registered before it enters the FIFO, so that the core's last pass stage (the
        # fire step) and the FIFO's storage are a cycle apart; the core's credits (claimed at issue)
        # already keep every row in flight within the FIFO's depth
        w_q = Signal(self.rlayout.size, name="row_in", reset_less=True)
        push_q = Signal(name="row_in_valid")
        m.d.sync += push_q.eq(self.push)
        with m.If(self.push):  # loaded only with a row (its clock gated the rest of the time)
            m.d.sync += w_q.eq(self.w)
        m.d.comb += [q.w_data.eq(w_q), q.w_en.eq(push_q), self.space.eq(self.depth - q.level - push_q)]

        def group_bits(v: Value, g: int, width: int) -> Value:
            """Group ``g``'s ``G`` fields of ``width`` bits from the lane vector ``v`` (zero-padded)."""
            hi = min(L, (g + 1) * G)
            part = v[g * G * width: hi * width]
            return Cat(part, Const(0, (g + 1) * G * width - hi * width)) if hi < (g + 1) * G else part

        # ------------------------------------------------ prefetch register
        nxt = Signal(self.rlayout, name="nxt")
        nxt_valid = Signal(name="nxt_valid")
        nxt_gnz = Signal(NG, name="nxt_gnz")
        head = self.rlayout(q.r_data)
        load_rw = Signal()
        fill = ~nxt_valid | load_rw
        m.d.comb += [q.r_en.eq(fill), self.pop.eq(fill & q.r_rdy)]
        with m.If(fill):
            m.d.sync += [nxt_valid.eq(q.r_rdy), nxt.eq(q.r_data),
                         nxt_gnz.eq(Cat(*(group_bits(head.mask, g, 1) != 0 for g in range(NG))))]

        # ------------------------------------------------------- row stage
        rw = Signal(self.rlayout, name="rw")
        rw_valid = Signal(name="rw_valid")
        gnz = Signal(NG, name="gnz")
        left = Signal(range(NG + 1), name="items_left")  # items the row still has to hand on
        rbase = Signal(self.widths.idx, name="rbase")
        flag_of = (lambda row: row.eow | row.step_end) if self.ticks else (lambda row: row.eow)
        nxt_count: Any = 0
        for g in range(NG):
            nxt_count = nxt_count + nxt_gnz[g]
        nxt_items = Mux(nxt_gnz != 0, nxt_count, flag_of(nxt))
        rmul: Any = 0  # nxt.r · L as shifted adds (no multiplier cell)
        for k in range(L.bit_length()):
            if (L >> k) & 1:
                rmul = rmul + (nxt.r << k)
        items = m.submodules.items = SkidBuffer(self.ilayout)
        sel = _first_one(m, gnz, "gsel", highest=reverse)
        last = (left <= 1) if NG > 1 else Const(1, 1)  # a one-group row always holds at most one item
        it = items.i.payload
        gofs: Value = Const(0, self.widths.idx)
        for g in range(NG):
            gofs = gofs | Mux(sel[g], g * G, 0)
        m.d.comb += [
            items.i.valid.eq(rw_valid & (left != 0)),
            it.t.eq(rw.t),
            it.ibase.eq(rbase + gofs),
            it.mask.eq(_select(sel, [group_bits(rw.mask, g, 1) for g in range(NG)])),
            it.vals.eq(_select(sel, [group_bits(rw.vals.as_value(), g, self.value_bits) for g in range(NG)])),
            it.step_end.eq(rw.step_end & last),
            it.eow.eq(rw.eow & last),
        ]
        advance = items.i.valid & items.i.ready
        m.d.comb += load_rw.eq(~rw_valid | (left == 0) | (advance & last))
        with m.If(load_rw):
            m.d.sync += [rw_valid.eq(nxt_valid), rw.eq(nxt), gnz.eq(nxt_gnz), left.eq(Mux(nxt_valid, nxt_items, 0)),
                         rbase.eq(self.base + rmul)]
        with m.Elif(advance):
            m.d.sync += [gnz.eq(gnz & ~sel), left.eq(left - 1)]

        # ------------------------------------------------------ lane stage
        cur = Signal(self.ilayout, name="cur")
        cur_valid = Signal(name="cur_valid")
        tick_pend = Signal()
        tlast = Signal(self.widths.dt)
        outbuf = m.submodules.outbuf = SkidBuffer(self.olayout)
        lsel = _first_one(m, cur.mask, "lsel", highest=reverse)
        value = _select(lsel, [cur.vals[k] for k in range(G)])
        has = cur.mask != 0
        single = _at_most_one(cur.mask)
        tick_now = tick_pend & ~has if self.ticks else 0
        eow_out = cur.eow
        o = outbuf.i.payload
        if faults.active("dropped_eow") and self.mode == "spike":
            spiked = Signal()  # the window has had a spike
            eow_out = cur.eow & spiked
            with m.If(outbuf.i.valid & outbuf.i.ready & has):
                m.d.sync += spiked.eq(1)
            with m.Elif(outbuf.i.valid & outbuf.i.ready & cur.eow):
                m.d.sync += spiked.eq(0)
        m.d.comb += outbuf.i.valid.eq(cur_valid & (has | tick_now | eow_out))
        # every lane's index, ibase + k, registered when the item loads: the token's index is then picked
        # by the one-hot lane select, as its value is, with no adder after the priority encoder
        lane_idx = [Signal(self.widths.idx, name=f"lane_idx{k}") for k in range(G)]
        idx = _select(lsel, lane_idx)
        if self.mode == "spike":
            with m.If(has):
                m.d.comb += [o.dt.eq(cur.t - tlast), o.idx.eq(idx), o.amp.eq(value)]
            with m.Elif(cur.eow):
                m.d.comb += o.eq(0)
            with m.Else():
                m.d.comb += [o.dt.eq(cur.t - tlast), o.tick.eq(1)]
        else:
            with m.If(has):
                m.d.comb += [o.idx.eq(idx), o.value.eq(value)]
            with m.Else():
                m.d.comb += o.last.eq(1)
        fire = outbuf.i.valid & outbuf.i.ready
        more_after = Mux(has, ~single | tick_pend, 0) if self.ticks else Mux(has, ~single, 0)
        finished = cur_valid & (~outbuf.i.valid | (fire & ~more_after))
        load = ~cur_valid | finished
        m.d.comb += items.o.ready.eq(load)
        with m.If(load):
            m.d.sync += [cur_valid.eq(items.o.valid), cur.eq(items.o.payload)]
            m.d.sync += [reg.eq(items.o.payload.ibase + k) for k, reg in enumerate(lane_idx)]
            if self.ticks:
                m.d.sync += tick_pend.eq(items.o.payload.step_end)
        with m.Elif(fire):
            with m.If(has):
                m.d.sync += cur.mask.eq(cur.mask & ~lsel)
            if self.ticks:
                with m.Else():
                    m.d.sync += tick_pend.eq(0)
        with m.If(fire):
            with m.If(cur.eow & ~has):
                m.d.sync += tlast.eq(0)
            with m.Else():
                m.d.sync += tlast.eq(cur.t)
        wiring.connect(m, outbuf.o, wiring.flipped(self.o))
        return m
