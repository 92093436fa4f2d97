"""Spike-merge units: k time-ordered spike streams into one, ``dt`` re-encoded.

:class:`Merge2` is the two-way merger; :class:`SpikeMerge` builds any k ≥ 1 as
a balanced tree of them (lower-numbered inputs on the left, so ties go to the
lower input, as spec §3 asks). Each merger holds one output register and
passes one token per cycle while both of its inputs offer one. A window's
end-of-window token leaves only after every input has closed the window.

With ``ticks=True`` the streams carry the extra ``tick`` bit of
:func:`snnhw.rtl.stream.core_layout`: a tick at step t orders after every
spike of step t, two ticks of the same step leave as one, and
:class:`TickFilter` removes them at the root. The golden twin is
:func:`snnhw.model.stream.merge`.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.ir import StreamWidths
from snnhw.rtl.stream import core_layout, token_layout

__all__ = ["Merge2", "SpikeMerge", "TickFilter"]


def _layout(widths: StreamWidths, ticks: bool):
    return core_layout(widths) if ticks else token_layout(widths)


class Merge2(wiring.Component):
    """Two-way spike merger (inputs ``a`` and ``b``, output ``o``)."""

    def __init__(self, widths: StreamWidths, *, ticks: bool = False) -> None:
        self.widths = widths
        self.ticks = ticks
        sig = stream.Signature(_layout(widths, ticks))
        super().__init__({"a": In(sig), "b": In(sig), "o": Out(sig)})

    def elaborate(self, platform) -> Module:
        m = Module()
        w = self.widths
        ta, tb, tout = (Signal(w.dt, name=n) for n in ("ta", "tb", "tout"))
        a, b, o = self.a.payload, self.b.payload, self.o.payload
        ha = Signal(w.dt + 1)
        hb = Signal(w.dt + 1)
        m.d.comb += [ha.eq(ta + a.dt), hb.eq(tb + b.dt)]
        tick_a = a.tick if self.ticks else 0
        tick_b = b.tick if self.ticks else 0
        eow_a = (a.amp == 0) & ~tick_a if self.ticks else a.amp == 0
        eow_b = (b.amp == 0) & ~tick_b if self.ticks else b.amp == 0
        if self.ticks:
            a_first = (ha < hb) | ((ha == hb) & ((tick_a < tick_b) | ((tick_a == tick_b) & (a.idx <= b.idx))))
        else:
            a_first = (ha < hb) | ((ha == hb) & (a.idx <= b.idx))
        load = ~self.o.valid | self.o.ready
        both = self.a.valid & self.b.valid
        m.d.comb += [self.a.ready.eq(0), self.b.ready.eq(0)]
        with m.If(load):
            m.d.sync += self.o.valid.eq(both)

        def take(src, head, tsrc, payload):
            m.d.comb += src.ready.eq(1)
            m.d.sync += [o.dt.eq(head - tout), o.idx.eq(payload.idx), o.amp.eq(payload.amp),
                         tout.eq(head), tsrc.eq(head)]
            if self.ticks:
                m.d.sync += o.tick.eq(payload.tick)

        with m.If(load & both):
            with m.If(eow_a & eow_b):
                m.d.comb += [self.a.ready.eq(1), self.b.ready.eq(1)]
                m.d.sync += [o.eq(0), ta.eq(0), tb.eq(0), tout.eq(0)]
            with m.Elif(eow_a):
                take(self.b, hb, tb, b)
            with m.Elif(eow_b):
                take(self.a, ha, ta, a)
            if self.ticks:
                with m.Elif(tick_a & tick_b & (ha == hb)):
                    take(self.a, ha, ta, a)
                    m.d.comb += self.b.ready.eq(1)
                    m.d.sync += tb.eq(hb)
            with m.Elif(a_first):
                take(self.a, ha, ta, a)
            with m.Else():
                take(self.b, hb, tb, b)
        return m


class SpikeMerge(wiring.Component):
    """k-way spike-merge unit: inputs ``i0 … i{k−1}``, output ``o``; a tree of :class:`Merge2`.

    Parameters
    ----------
    widths:
        Field widths of the streams (those of the merged layer).
    k:
        Number of input streams, ≥ 1 (k = 1 is a wire).
    ticks:
        Whether the streams carry tick tokens (inside a multi-core layer).
    """

    def __init__(self, widths: StreamWidths, k: int, *, ticks: bool = False) -> None:
        if k < 1:
            raise ValueError(f"a merge needs at least one input, got {k}")
        self.widths = widths
        self.k = k
        self.ticks = ticks
        sig = stream.Signature(_layout(widths, ticks))
        members = {f"i{n}": In(sig) for n in range(k)}
        members["o"] = Out(sig)
        super().__init__(members)

    def elaborate(self, platform) -> Module:
        m = Module()
        count = 0

        def build(inputs):
            nonlocal count
            if len(inputs) == 1:
                return inputs[0]
            half = (len(inputs) + 1) // 2
            left, right = build(inputs[:half]), build(inputs[half:])
            node = Merge2(self.widths, ticks=self.ticks)
            m.submodules[f"merge{count}"] = node
            count += 1
            wiring.connect(m, left, node.a)
            wiring.connect(m, right, node.b)
            return node.o

        root = build([wiring.flipped(getattr(self, f"i{n}")) for n in range(self.k)])
        wiring.connect(m, root, wiring.flipped(self.o))
        return m


class TickFilter(wiring.Component):
    """Drop tick tokens and re-encode ``dt`` against the remaining spikes (``i``: core layout, ``o``: tokens)."""

    def __init__(self, widths: StreamWidths) -> None:
        self.widths = widths
        super().__init__({"i": In(stream.Signature(core_layout(widths))),
                          "o": Out(stream.Signature(token_layout(widths)))})

    def elaborate(self, platform) -> Module:
        m = Module()
        w = self.widths
        trun = Signal(w.dt)
        tlast = Signal(w.dt)
        head = Signal(w.dt + 1)
        p = self.i.payload
        eow = (p.amp == 0) & ~p.tick
        m.d.comb += [
            head.eq(trun + p.dt),
            self.o.valid.eq(self.i.valid & ~p.tick),
            self.o.payload.idx.eq(p.idx),
            self.o.payload.amp.eq(p.amp),
            self.o.payload.dt.eq(head - tlast),
            self.i.ready.eq(p.tick | self.o.ready),
        ]
        with m.If(eow):
            m.d.comb += self.o.payload.dt.eq(0)
        with m.If(self.i.valid & self.i.ready):
            with m.If(eow):
                m.d.sync += [trun.eq(0), tlast.eq(0)]
            with m.Elif(p.tick):
                m.d.sync += trun.eq(head)
            with m.Else():
                m.d.sync += [trun.eq(head), tlast.eq(head)]
        return m
