"""Sample framing: the pixel stream's ``tlast`` checked against the sample size.

A sample is ``beats`` beats of ``s_axis_pixel``, its last beat carries ``tlast``.
:class:`SampleFramer` passes the beats on to the encoder cores with one more bit,
``abort``, and decides each sample at its end:

* **good**: ``tlast`` on beat ``beats − 1`` and on no beat before: counted in
  ``accepted``; the encoder computes the sample;
* **short**: ``tlast`` on an earlier beat: that beat goes on with ``abort`` set,
  and the encoder drops what it loaded of the sample (it starts the next sample
  at its first beat);
* **long**: no ``tlast`` on beat ``beats − 1``: that beat goes on with ``abort``,
  and the framer swallows the beats that follow, up to and including the next
  beat with ``tlast``.

A short or long sample is counted once in ``errors``, dropped whole (the encoder
only starts computing after a good last beat, and a sample's pixels are all
written again by the next one), and the sample after it is computed correctly.
The input is not ready while the domain is in reset.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, ResetSignal, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.rtl.counter import Counter

__all__ = ["SampleFramer", "beat_layout"]


def beat_layout(data_bits: int) -> data.StructLayout:
    """A pixel beat on the way to the encoder cores: the beat's data and the ``abort`` flag."""
    return data.StructLayout({"data": unsigned(data_bits), "abort": 1})


class SampleFramer(wiring.Component):
    """Checks each sample's ``tlast`` (``i``: data and ``last``) and forwards its beats (``o``: data and
    ``abort``); ``accepted`` and ``errors`` count the good and the dropped samples (:class:`Counter`,
    ``counter_bits`` wide, wrapping). With ``status`` (a loadable design, whose loader must know
    whether a sample is in flight): ``good`` is high in the cycle a good sample's last beat passes,
    ``idle`` while no sample is partly received."""

    def __init__(self, data_bits: int, beats: int, counter_bits: int, *, status: bool = False) -> None:
        self.data_bits, self.beats, self.counter_bits = data_bits, beats, counter_bits
        self.status = status
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"data": unsigned(data_bits), "last": 1}))),
            "o": Out(stream.Signature(beat_layout(data_bits))),
            "accepted": Out(counter_bits),
            "errors": Out(counter_bits),
            **({"good": Out(1), "idle": Out(1)} if status else {}),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.accepted = accepted = Counter(self.counter_bits)
        m.submodules.errors = errors = Counter(self.counter_bits)
        m.d.comb += [self.accepted.eq(accepted.value), self.errors.eq(errors.value)]
        k = Signal(range(max(2, self.beats)), name="beat")
        drop = Signal(name="dropping")  # swallowing the rest of a long sample
        in_reset = ResetSignal()
        last = self.i.payload.last
        at_end = k == self.beats - 1
        if self.status:
            m.d.comb += self.idle.eq((k == 0) & ~drop)  # between samples
        with m.If(drop):
            m.d.comb += self.i.ready.eq(~in_reset)
            with m.If(self.i.valid & last & ~in_reset):
                m.d.sync += drop.eq(0)
        with m.Else():
            m.d.comb += [self.o.payload.data.eq(self.i.payload.data), self.o.payload.abort.eq(last ^ at_end),
                         self.o.valid.eq(self.i.valid & ~in_reset), self.i.ready.eq(self.o.ready & ~in_reset)]
            with m.If(self.o.valid & self.o.ready):
                m.d.sync += k.eq(Mux(at_end | last, 0, k + 1))
                m.d.comb += [accepted.en.eq(at_end & last), errors.en.eq(at_end ^ last)]
                if self.status:
                    m.d.comb += self.good.eq(at_end & last)
                with m.If(at_end & ~last):
                    m.d.sync += drop.eq(1)
        return m
