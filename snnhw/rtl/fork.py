"""Broadcast: one stream to k consumers, each receiving every token exactly once."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Broadcast"]


class Broadcast(wiring.Component):
    """Copy every input token to ``k`` outputs.

    Each output takes the token in its own time (a ``done`` flag per output
    remembers who has it); the input advances once all have it. ``valid`` of
    an output never depends on its ``ready``.
    """

    def __init__(self, shape, k: int) -> None:
        self.k = k
        members = {"i": In(stream.Signature(shape))}
        members.update({f"o{n}": Out(stream.Signature(shape)) for n in range(k)})
        super().__init__(members)

    def elaborate(self, platform) -> Module:
        m = Module()
        outs = [getattr(self, f"o{n}") for n in range(self.k)]
        done = Signal(self.k)
        took = Cat(*(out.valid & out.ready for out in outs))
        have = done | took
        m.d.comb += self.i.ready.eq(have.all())
        for n, out in enumerate(outs):
            m.d.comb += [out.payload.eq(self.i.payload), out.valid.eq(self.i.valid & ~done[n])]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += done.eq(0)
        with m.Elif(self.i.valid):
            m.d.sync += done.eq(have)
        return m
