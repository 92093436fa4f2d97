"""What the encoder and dense cores share: the row pipeline's operations, its write-back and its output.

Both cores walk their rows through the same two-stage pipeline (issue a row:
synchronous reads; stage 1: compute, write back, push to the serializer).
:class:`RowCore` holds the parts that do not depend on what a pass computes:
the forwarding register that keeps read-modify-write exact when a row is read
in the cycle after it was written, ``fire`` per lane, the padding-lane mask and
the push of a finished row into the :class:`~snnhw.rtl.serializer.RowSerializer`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import Out

from snnhw.ir import Layer, StreamWidths
from snnhw.rtl import faults, lif
from snnhw.rtl.serializer import RowSerializer
from snnhw.rtl.stream import core_layout, value_layout

__all__ = ["Op", "RowCore"]


class Op(enum.IntEnum):
    """Operations of a core's row pipeline."""

    IDLE = 0
    SYN = 1
    FIRE = 2
    EOW = 3
    INIT = 4
    LOAD = 5
    CUR = 6


class RowCore(wiring.Component):
    """Base of :class:`~snnhw.rtl.encoder.EncoderCore` and :class:`~snnhw.rtl.dense.DenseCore`.

    Neurons ``lo … hi−1`` of ``layer``; lane ``l`` of row ``r`` is neuron ``lo + r·lanes + l``.
    ``fires`` is False for a ``readout: potential`` last layer, whose output ``o`` is then a
    value stream of its final potentials. ``members`` are the subclass's own ports.
    """

    def __init__(self, layer: Layer, *, time_steps: int, out_widths: StreamWidths, lo: int, hi: int, lanes: int,
                 fires: bool, ticks: bool, memory: str, members: dict[str, Any]) -> None:
        self.layer, self.T, self.out_widths = layer, time_steps, out_widths
        self.lo, self.hi, self.lanes = lo, hi, lanes
        self.rows = math.ceil((hi - lo) / lanes)
        self.rbits = max(1, (self.rows - 1).bit_length())
        self.fires, self.ticks, self.memory = fires, ticks, memory
        out = core_layout(out_widths) if fires else value_layout(out_widths.idx, layer.potential_bits)
        super().__init__({**members, "o": Out(stream.Signature(out)), "busy": Out(1)})

    def _serializer(self, m: Module) -> RowSerializer:
        """The core's serializer, connected to ``o``."""
        layer = self.layer
        ser = RowSerializer(self.out_widths, lanes=self.lanes, rows=self.rows, base=self.lo,
                            mode="spike" if self.fires else "value",
                            value_bits=layer.amplitude_bits if self.fires else layer.potential_bits,
                            ticks=self.ticks)
        m.submodules.ser = ser
        wiring.connect(m, ser.o, wiring.flipped(self.o))
        return ser

    def _forwarded(self, m: Module, read_data: Value, row: Value) -> tuple[Value, Callable[[Any, Value, Value], None]]:
        """The potentials of ``row`` as stage 1 must see them, and the write-back that keeps them so.

        Returns the row word (the memory's, or the word written in the previous cycle when that
        was the same row) and ``commit(write_port, word, enable)``.
        """
        fwd_valid = Signal()
        fwd_r = Signal(self.rbits)
        fwd_row = Signal(len(read_data))
        word = Signal(len(read_data), name="vrow")
        if faults.active("no_forwarding"):
            m.d.comb += word.eq(read_data)
        else:
            m.d.comb += word.eq(Mux(fwd_valid & (fwd_r == row), fwd_row, read_data))

        def commit(port: Any, data: Value, en: Value) -> None:
            m.d.comb += [port.addr.eq(row), port.data.eq(data), port.en.eq(en)]
            m.d.sync += [fwd_valid.eq(en), fwd_r.eq(row), fwd_row.eq(data)]

        return word, commit

    def _fire(self, m: Module, v: Value, lane: int) -> tuple[Value, Value]:
        """``fire`` of one lane: ``(amplitude or final potential for the serializer, V after firing)``."""
        if not self.fires:
            return v.as_unsigned(), v
        c, vf = lif.fire(m, v, self.layer, name=f"fire{lane}")
        amp = Signal(self.layer.amplitude_bits, name=f"amp{lane}")
        m.d.comb += amp.eq(c)
        return amp, vf

    def _push(self, m: Module, ser: RowSerializer, s1: Any, outs: list[Value], final: Value) -> None:
        """Push stage 1's row into the serializer: spikes of a FIRE pass (or, for a potential
        readout, the final potentials), and the end-of-window row."""
        L, R, n = self.lanes, self.rows, self.hi - self.lo
        # padding lanes exist only in the last row
        real = n - 1 if faults.active("padding_mask_off_by_one") else n
        lane_ok = Cat(*(Const(1, 1) if (R - 1) * L + lane < real else (s1.r != R - 1) for lane in range(L)))
        w = ser.w
        m.d.comb += [w.t.eq(s1.t), w.r.eq(s1.r), w.step_end.eq(s1.last_row), w.eow.eq(s1.op == Op.EOW),
                     w.vals.eq(Cat(*outs))]
        fire = s1.valid & (s1.op == Op.FIRE)
        eow = s1.valid & (s1.op == Op.EOW)
        if self.fires:
            m.d.comb += [w.mask.eq(Cat(*(c != 0 for c in outs)) & lane_ok), ser.push.eq(fire | eow)]
        else:
            m.d.comb += [w.mask.eq(lane_ok), ser.push.eq((fire & final) | eow)]
        with m.If(s1.op != Op.FIRE):
            m.d.comb += w.mask.eq(0)
