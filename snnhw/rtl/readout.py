"""Readout: scores and prediction of one window, as a result stream.

``spike_count``: the last layer's spike stream comes in and each spike adds
its amplitude to the neuron's score. ``potential``: each core of the last
layer sends its final potentials (``{idx, value, last}``), taken in
fixed-priority order. At the end of the window the readout emits
``size + 1`` beats: the scores of neurons 0 … size−1 (two's complement,
sign-extended) and then the prediction, the smallest index with the highest
score, with ``last`` set. The argmax runs while the scores leave; they leave by
shifting through the score registers, so the output needs no N-way multiplexer.
"""

from __future__ import annotations

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.ir import StreamWidths
from snnhw.rtl.stream import token_layout, value_layout

__all__ = ["Readout", "result_layout"]


def result_layout(data_bits: int) -> data.StructLayout:
    """Layout of one result beat: ``{data, last}``."""
    return data.StructLayout({"data": unsigned(data_bits), "last": unsigned(1)})


class Readout(wiring.Component):
    """Scores and prediction (see the module docstring).

    Parameters
    ----------
    size:
        Neurons of the last layer.
    widths:
        Stream widths of the last layer.
    score_bits:
        Signed width of a score.
    data_bits:
        Width of a result beat (holds a score and the prediction).
    mode:
        ``"spike"`` (spike_count) or ``"value"`` (potential).
    value_bits:
        Potential width P of the last layer (``value`` mode).
    inputs:
        Number of value streams (``value`` mode: the last layer's cores).
    """

    def __init__(self, *, size: int, widths: StreamWidths, score_bits: int, data_bits: int, mode: str,
                 value_bits: int = 0, inputs: int = 1) -> None:
        self.size, self.widths, self.score_bits, self.data_bits = size, widths, score_bits, data_bits
        self.mode, self.value_bits, self.inputs = mode, value_bits, inputs
        members = {"o": Out(stream.Signature(result_layout(data_bits)))}
        if mode == "spike":
            members["i"] = In(stream.Signature(token_layout(widths)))
        else:
            for n in range(inputs):
                members[f"i{n}"] = In(stream.Signature(value_layout(widths.idx, value_bits)))
        super().__init__(members)

    def elaborate(self, platform) -> Module:
        m = Module()
        N, S = self.size, self.score_bits
        scores = Array(Signal(signed(S), name=f"score{n}") for n in range(N))
        emit = Signal()
        n = Signal(range(N + 1))
        best = Signal(signed(S))
        bidx = Signal(range(max(N, 2)))

        if self.mode == "spike":
            tok = self.i.payload
            m.d.comb += self.i.ready.eq(~emit)
            with m.If(self.i.valid & ~emit):
                with m.If(tok.amp == 0):
                    m.d.sync += [emit.eq(1), n.eq(0)]
                with m.Else():
                    m.d.sync += scores[tok.idx].eq(scores[tok.idx] + tok.amp)
        else:
            ins = [getattr(self, f"i{c}") for c in range(self.inputs)]
            done = Signal(self.inputs)
            taken = Const(0, 1)
            for c, port in enumerate(ins):
                grant = ~emit & port.valid & ~done[c] & ~taken  # a core that closed this window waits
                taken = taken | (port.valid & ~done[c])
                m.d.comb += port.ready.eq(grant)
                with m.If(grant):
                    with m.If(port.payload.last):
                        all_done = (done | (1 << c)) == (1 << self.inputs) - 1
                        m.d.sync += done.eq(done | (1 << c))
                        with m.If(all_done):
                            m.d.sync += [emit.eq(1), n.eq(0), done.eq(0)]
                    with m.Else():
                        m.d.sync += scores[port.payload.idx].eq(
                            port.payload.value[: self.value_bits].as_signed())

        # The scores leave by shifting down (score 0 is always the head register: no wide multiplexer
        # on the way out), which also leaves them all zero for the next window.
        is_pred = n == N
        score_n = scores[0]
        m.d.comb += [
            self.o.valid.eq(emit),
            self.o.payload.last.eq(is_pred),
            self.o.payload.data.eq(Mux(is_pred, bidx, score_n)),
        ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += n.eq(n + 1)
            with m.If(~is_pred):
                m.d.sync += [scores[k].eq(scores[k + 1] if k + 1 < N else 0) for k in range(N)]
                with m.If((n == 0) | (score_n > best)):
                    m.d.sync += [best.eq(score_n), bidx.eq(n)]
            with m.Else():
                m.d.sync += [emit.eq(0), n.eq(0)]
                m.d.sync += [s.eq(0) for s in scores]
        return m
