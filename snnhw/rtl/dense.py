"""Dense LIF layer core.

One core owns a contiguous slice of a dense layer's neurons, spread over
``lanes`` neuron-update units: lane ``l`` of row ``r`` is neuron
``lo + r·lanes + l``. Potentials, weights and biases live in wide on-chip
memories with one word per row. The core works through *operations*, each a
walk over its R rows at one row per cycle:

* ``SYN`` — an input spike ``(j, c)`` of the current step: ``V ← sat(V + c·W[n, j])``;
* ``FIRE`` — the end of step t: ``fire``, then ``V ← sat(leak(V) + b)`` for step t + 1
  (after the last step the potential is reset to ``b`` for the next window, which
  equals ``sat(leak(0) + b)``, the start of step 0);
* ``EOW`` — the end of the window: passes an end-of-window row to the serializer;
* ``INIT`` — after reset: writes ``b`` into every row.

An input token of step t' > t first makes the core finish steps t … t'−1
with FIRE passes, so steps without input still leak, take their bias and
fire, and the in-step order of the spec (leak, bias, inputs in ascending j,
fire) holds exactly. Reads are synchronous; the write lands one cycle later,
and a forwarding register covers a read of the row written in the previous
cycle, so back-to-back operations on the same row (R = 1) stay exact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from snnhw.ir import Layer, StreamWidths
from snnhw.rtl import faults, lif
from snnhw.rtl.core import Op, RowCore
from snnhw.rtl.memories import MEMORY_ATTRS, pack_lanes, row_values, weight_rows
from snnhw.rtl.stream import token_layout

__all__ = ["DenseCore", "Op"]


class DenseCore(RowCore):
    """A dense layer's core: input tokens ``i``, output ``o``; see the module docstring.

    Parameters
    ----------
    layer:
        The layer (weights, biases and options).
    time_steps:
        T of the network.
    in_widths, out_widths:
        Stream widths of the input (previous layer) and of this layer.
    lo, hi:
        The core's neurons ``lo … hi−1``.
    lanes:
        Neuron-update units.
    fires:
        False for a ``readout: potential`` last layer: it never fires and emits its
        final potentials as a value stream.
    ticks:
        Emit tick tokens (the layer has several cores).
    memory:
        Memory style (a key of :data:`snnhw.rtl.memories.MEMORY_ATTRS`).
    loadable:
        Add a weight write port ``wl_*``.
    """

    def __init__(self, layer: Layer, *, time_steps: int, in_widths: StreamWidths, out_widths: StreamWidths,
                 lo: int, hi: int, lanes: int, fires: bool = True, ticks: bool = False, memory: str = "auto",
                 loadable: bool = False) -> None:
        self.in_widths, self.loadable = in_widths, loadable
        rows = math.ceil((hi - lo) / lanes)
        members: dict[str, Any] = {"i": In(stream.Signature(token_layout(in_widths)))}
        if loadable:
            self.waddr_bits = max(1, (layer.n_in * rows - 1).bit_length())
            members.update({
                "wl_addr": In(self.waddr_bits),
                "wl_lane": In(max(1, (lanes - 1).bit_length())),
                "wl_data": In(layer.weight_bits),
                "wl_en": In(1),
            })
        super().__init__(layer, time_steps=time_steps, out_widths=out_widths, lo=lo, hi=hi, lanes=lanes, fires=fires,
                         ticks=ticks, memory=memory, members=members)

    def elaborate(self, platform) -> Module:
        m = Module()
        layer, L, R, T = self.layer, self.lanes, self.rows, self.T
        P, W = layer.potential_bits, layer.weight_bits
        attrs = MEMORY_ATTRS[self.memory]
        bias = layer.bias if layer.bias is not None else np.zeros(layer.size, dtype=np.int64)
        bias_rows = [pack_lanes(row, P) for row in row_values(bias, self.lo, self.hi, L)]

        m.submodules.vmem = vmem = Memory(shape=unsigned(L * P), depth=max(2, R), init=bias_rows, attrs=attrs)
        m.submodules.wmem = wmem = Memory(
            shape=unsigned(L * W), depth=max(2, layer.n_in * R), init=weight_rows(layer.weight, self.lo, self.hi, L, W),
            attrs=attrs)
        v_rd, v_wr = vmem.read_port(), vmem.write_port()
        w_rd = wmem.read_port()
        if layer.has_bias:
            m.submodules.bmem = bmem = Memory(shape=unsigned(L * P), depth=max(2, R), init=bias_rows, attrs=attrs)
            b_rd = bmem.read_port()
        if self.loadable:
            w_wr = wmem.write_port(granularity=W)
            m.d.comb += [w_wr.addr.eq(self.wl_addr), w_wr.data.eq(Cat(*([self.wl_data] * L))),
                         w_wr.en.eq(Mux(self.wl_en, Const(1, L) << self.wl_lane, 0))]

        ser = self._serializer(m)

        # ---------------------------------------------------------------- issue
        rbits = self.rbits
        op = Signal(Op, init=Op.INIT)
        r = Signal(rbits)
        j = Signal(self.in_widths.idx)
        amp = Signal(self.in_widths.amp)
        t = Signal(range(T + 1))
        t_in = Signal(self.in_widths.dt)

        s1 = Signal(data.StructLayout({"valid": 1, "op": Op, "r": rbits, "amp": self.in_widths.amp,
                                       "t": range(T + 1), "last_row": 1}))
        pushes = s1.valid & ((s1.op == Op.FIRE) | (s1.op == Op.EOW))
        credit = ser.space > pushes
        needs_credit = (op == Op.FIRE) | (op == Op.EOW)
        issue = (op != Op.IDLE) & (~needs_credit | credit)
        last_row = (r == R - 1) | (op == Op.EOW)
        completing = issue & last_row
        t_after = Signal(range(T + 2))
        m.d.comb += t_after.eq(t + (completing & (op == Op.FIRE)))
        decide = (op == Op.IDLE) | completing
        tok = self.i.payload
        head_t = Signal(self.in_widths.dt + 1)
        m.d.comb += head_t.eq(t_in + tok.dt)
        is_eow = tok.amp == 0
        step_of_token = head_t
        if faults.active("layer_delay"):
            step_of_token = Signal(self.in_widths.dt + 2)
            m.d.comb += step_of_token.eq(head_t + 1)
        m.d.comb += self.busy.eq(issue)

        m.d.comb += [v_rd.addr.eq(r), w_rd.addr.eq(j * R + r) if R > 1 else w_rd.addr.eq(j)]
        if layer.has_bias:
            m.d.comb += b_rd.addr.eq(r)
        m.d.sync += [s1.valid.eq(issue), s1.op.eq(op), s1.r.eq(r), s1.amp.eq(amp), s1.t.eq(t),
                     s1.last_row.eq(last_row)]
        with m.If(issue & ~last_row):
            m.d.sync += r.eq(r + 1)
        with m.If(completing & (op == Op.FIRE)):
            m.d.sync += t.eq(t + 1)
        with m.If(decide):
            m.d.sync += [r.eq(0), op.eq(Op.IDLE)]
            with m.If(self.i.valid):
                with m.If(is_eow):
                    with m.If(t_after < T):
                        m.d.sync += op.eq(Op.FIRE)
                    with m.Else():
                        m.d.comb += self.i.ready.eq(1)
                        m.d.sync += [op.eq(Op.EOW), t.eq(0), t_in.eq(0)]
                with m.Elif(step_of_token > t_after):
                    m.d.sync += op.eq(Op.FIRE)
                with m.Else():
                    m.d.comb += self.i.ready.eq(1)
                    m.d.sync += [op.eq(Op.SYN), j.eq(tok.idx), amp.eq(tok.amp), t_in.eq(head_t)]

        # -------------------------------------------------------------- compute
        vrow, commit = self._forwarded(m, v_rd.data, s1.r)
        final = s1.t == T - 1
        new_row, outs = [], []
        for lane in range(L):
            v = vrow.word_select(lane, P).as_signed()
            w = w_rd.data.word_select(lane, W).as_signed()
            b = b_rd.data.word_select(lane, P).as_signed() if layer.has_bias else Const(0, signed(P))
            v_fire = v
            if faults.active("bias_after_inputs") and layer.has_bias:
                v_fire = lif.sat(m, v + b, P, name=f"late_bias{lane}")
                b = Const(0, signed(P))
            out, vf = self._fire(m, v_fire, lane)
            outs.append(out)
            new = Signal(signed(P), name=f"vnew{lane}")
            with m.Switch(s1.op):
                with m.Case(Op.SYN):
                    m.d.comb += new.eq(lif.sat(m, v + s1.amp * w, P, name=f"syn{lane}"))
                with m.Case(Op.FIRE):
                    m.d.comb += new.eq(Mux(final, b, lif.sat(m, lif.leak(vf, layer) + b, P, name=f"next{lane}")))
                with m.Default():  # INIT
                    m.d.comb += new.eq(b)
            new_row.append(new.as_unsigned())
        commit(v_wr, Cat(*new_row), s1.valid & ((s1.op == Op.SYN) | (s1.op == Op.FIRE) | (s1.op == Op.INIT)))
        self._push(m, ser, s1, outs, final)
        return m
