"""Stream buffers: a FIFO (:class:`amaranth.lib.fifo.SyncFIFOBuffered` behind a stream
interface) and a skid buffer that registers a stream in both directions."""

from __future__ import annotations

from amaranth.hdl import Module, Shape, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SkidBuffer", "StreamFIFO"]


class StreamFIFO(wiring.Component):
    """First-in first-out buffer of ``depth`` entries between two streams.

    Parameters
    ----------
    shape:
        Payload shape (a layout).
    depth:
        Number of entries, ≥ 1.
    """

    def __init__(self, shape, depth: int) -> None:
        self._shape = shape
        self.depth = depth
        super().__init__({"i": In(stream.Signature(shape)), "o": Out(stream.Signature(shape)),
                          "level": Out(range(depth + 1))})

    def elaborate(self, platform) -> Module:
        m = Module()
        width = Shape.cast(self._shape).width
        m.submodules.fifo = q = fifo.SyncFIFOBuffered(width=width, depth=self.depth)
        m.d.comb += [
            q.w_data.eq(self.i.payload),
            q.w_en.eq(self.i.valid),
            self.i.ready.eq(q.w_rdy),
            self.o.payload.eq(q.r_data),
            self.o.valid.eq(q.r_rdy),
            q.r_en.eq(self.o.ready),
            self.level.eq(q.level),
        ]
        return m


class SkidBuffer(wiring.Component):
    """A two-entry register slice that cuts every combinational path through a stream.

    ``o.valid`` and ``o.payload`` come from registers, and so does ``i.ready``: a transfer
    into the buffer while its output stalls lands in a second ("skid") register, and the
    input is refused while that register is full. Throughput is one transfer per cycle,
    latency one cycle.

    Parameters
    ----------
    shape:
        Payload shape (a layout).
    """

    def __init__(self, shape) -> None:
        self._shape = shape
        super().__init__({"i": In(stream.Signature(shape)), "o": Out(stream.Signature(shape))})

    def elaborate(self, platform) -> Module:
        m = Module()
        skid = Signal(self._shape, name="skid")
        skid_valid = Signal(name="skid_valid")
        m.d.comb += self.i.ready.eq(~skid_valid)
        with m.If(~self.o.valid | self.o.ready):
            with m.If(skid_valid):
                m.d.sync += [self.o.payload.eq(skid), self.o.valid.eq(1), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(self.i.valid)]
        with m.Elif(self.i.valid & ~skid_valid):
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        return m
