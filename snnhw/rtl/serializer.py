"""Row serializer: the output side of a core.

A core's pass produces one *row* per cycle: the results of its ``lanes``
neurons at once. The serializer queues rows in a small FIFO and emits one
token per cycle in ascending neuron index: the spikes of a row (lowest lane
first), then, inside a multi-core layer, a tick at the end of each step, and
an end-of-window token for a window-end row. A row without anything to emit
costs one cycle, so a pass of R rows leaves in R cycles plus one per extra
spike in a row. ``space`` tells the core how many rows it may still issue.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.ir import StreamWidths
from snnhw.rtl import faults
from snnhw.rtl.stream import core_layout, value_layout

__all__ = ["RowSerializer", "row_layout"]

ROW_FIFO_DEPTH = 4


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
        out = core_layout(widths) if mode == "spike" else value_layout(widths.idx, value_bits)
        super().__init__({
            "w": In(self.rlayout),
            "push": In(1),
            "space": Out(range(depth + 1)),
            "pop": Out(1),
            "o": Out(stream.Signature(out)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        L = self.lanes
        m.submodules.q = q = fifo.SyncFIFO(width=self.rlayout.size, depth=self.depth)
        m.d.comb += [q.w_data.eq(self.w), q.w_en.eq(self.push), self.space.eq(self.depth - q.level)]
        cur = Signal(self.rlayout)
        cur_valid = Signal()
        tick_pend = Signal()
        tlast = Signal(self.widths.dt)
        # priority encoder: the lowest set lane (later assignments win, so go from the top down)
        lane = Signal(range(max(L, 2)))
        reverse = faults.active("reversed_additions")
        for n in (range(L) if reverse else reversed(range(L))):
            with m.If(cur.mask[n]):
                m.d.comb += lane.eq(n)
        # how many spikes the row still has: a register counted down as they leave, so the
        # handshake and the FIFO pop never wait for logic over the lanes
        count = Signal(range(L + 1), name="left")
        has = count != 0
        single = count <= 1 if L > 1 else Const(1, 1)  # one lane: never more than one spike
        tick_now = tick_pend & ~has if self.ticks else 0
        o = self.o.payload
        idx = self.base + cur.r * L + lane
        value = cur.vals[lane]
        eow_out = cur.eow
        if faults.active("dropped_eow") and self.mode == "spike":
            spiked = Signal()  # the window has had a spike
            eow_out = cur.eow & spiked
            with m.If(self.o.valid & self.o.ready & has):
                m.d.sync += spiked.eq(1)
            with m.Elif(self.o.valid & self.o.ready & cur.eow):
                m.d.sync += spiked.eq(0)
        m.d.comb += self.o.valid.eq(cur_valid & (has | tick_now | eow_out))
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
        fire = self.o.valid & self.o.ready
        more_after = Mux(has, ~single | tick_pend, 0) if self.ticks else Mux(has, ~single, 0)
        finished = cur_valid & (~self.o.valid | (fire & ~more_after))
        load = ~cur_valid | finished
        # a prefetch register between the FIFO and the current row: the next row's flags are
        # computed as it enters, so loading it is a plain register move
        nxt = Signal(self.rlayout, name="nxt")
        nxt_valid = Signal(name="nxt_valid")
        nxt_count = Signal(range(L + 1), name="nxt_left")
        fill = ~nxt_valid | load
        head = self.rlayout(q.r_data)
        popcount: Any = 0
        for lane in range(L):
            popcount = popcount + head.mask[lane]
        m.d.comb += [q.r_en.eq(fill), self.pop.eq(fill & q.r_rdy)]
        with m.If(fill):
            m.d.sync += [nxt_valid.eq(q.r_rdy), nxt.eq(q.r_data), nxt_count.eq(popcount)]
        with m.If(load):
            m.d.sync += [cur_valid.eq(nxt_valid), cur.eq(nxt), count.eq(nxt_count)]
            if self.ticks:
                m.d.sync += tick_pend.eq(nxt.step_end)
        with m.Elif(fire):
            with m.If(has):
                m.d.sync += [cur.mask.eq(cur.mask & ~(1 << lane) if reverse else cur.mask & (cur.mask - 1)),
                             count.eq(count - 1)]
            if self.ticks:
                with m.Else():
                    m.d.sync += tick_pend.eq(0)
        with m.If(fire):
            with m.If(cur.eow & ~has):
                m.d.sync += tlast.eq(0)
            with m.Else():
                m.d.sync += tlast.eq(cur.t)
        return m
