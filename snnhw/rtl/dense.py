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
from types import SimpleNamespace
from typing import Any

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In

from snnhw.ir import Layer, LeakKind, StreamWidths
from snnhw.rtl import faults, lif
from snnhw.rtl.core import LEAD, Op, RowCore, RunParams, add_unit, auto_pipeline_depth, fire_units, leak_unit
from snnhw.rtl.fifo import SkidBuffer
from snnhw.rtl.memories import (
    MEMORY_ATTRS,
    BankedRead,
    LaneMemory,
    pack_lanes,
    potential_attrs,
    row_values,
    weight_rows,
)
from snnhw.rtl.stream import token_layout

__all__ = ["DenseCore", "Op"]

#: Amplitude widths up to which ``c·W`` is built from shifted adds instead of a multiplier: a
#: 2-bit amplitude needs one adder, where a DSP block would add its slow combinational path and
#: the routing to its column.
SHIFT_ADD_AMP_BITS = 2


def _times(amp: Value, w: Value) -> Value:
    """``amp · w`` (``amp`` unsigned, ``w`` signed): shifted adds for narrow amplitudes, else ``*``."""
    if len(amp) > SHIFT_ADD_AMP_BITS:
        return amp * w
    out: Value = Const(0, signed(len(w)))
    for b in range(len(amp)):
        out = out + Mux(amp[b], w << b, 0)
    return out


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
    depth:
        Pipeline depth (``None``: :func:`~snnhw.rtl.core.auto_pipeline_depth`).
    params, bus:
        A loadable design's run-time values (θ, leak shift, T − 1) and its configuration bus
        (:class:`snnhw.rtl.loader.ConfigBus`), which writes the weight and bias memories
        (targets ``targets["wmem"]``, ``targets["bmem"]``); ``None`` for a fixed design.
    """

    issue_lag = 1  # the weight memory's address and enable copies load from registers, not the issue logic

    def __init__(self, layer: Layer, *, time_steps: int, in_widths: StreamWidths, out_widths: StreamWidths,
                 lo: int, hi: int, lanes: int, fires: bool = True, ticks: bool = False, memory: str = "auto",
                 loadable: bool = False, depth: int | None = None, params: RunParams | None = None,
                 bus: Any = None, targets: dict[str, int] | None = None) -> None:
        self.in_widths, self.loadable = in_widths, loadable
        self.bus, self.targets = bus, targets or {}
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
        if depth is None:
            depth = auto_pipeline_depth(layer, encoder=False, fires=fires)
        super().__init__(layer, time_steps=time_steps, out_widths=out_widths, lo=lo, hi=hi, lanes=lanes, fires=fires,
                         ticks=ticks, memory=memory, depth=depth, members=members, params=params)

    def elaborate(self, platform) -> Module:
        m = Module()
        self._local_params(m)
        layer, L, R, T = self.layer, self.lanes, self.rows, self.T
        P, W = layer.potential_bits, layer.weight_bits
        attrs = MEMORY_ATTRS[self.memory]
        bias = layer.bias if layer.bias is not None else np.zeros(layer.size, dtype=np.int64)
        bias_rows = [pack_lanes(row, P) for row in row_values(bias, self.lo, self.hi, L)]

        dp = Module()  # the per-lane datapath registers, clocked only while rows are in flight (RowCore._gate)
        vmem = LaneMemory(m, "vmem", lanes=L, field=P, depth=R, init=bias_rows, attrs=potential_attrs(attrs, R))
        bus = self.bus.local(m, self.targets) if self.bus is not None else None
        # The weight memory's address and enable pins are driven by register copies (one per bank and
        # column slice) loaded a cycle ahead, so that no register or issue logic drives the pins of
        # every block RAM of a deep memory; a configured design's weight memory is single-port (shared
        # address), and its copies take a write's address too. A design whose weights are written
        # lane by lane through the weight port (weights "loadable") keeps one address register.
        w_next = Signal(max(1, (max(2, layer.n_in * R) - 1).bit_length()), name="wmem_addr_next") \
            if bus is not None or not self.loadable else None
        wmem = BankedRead(m, "wmem", width=L * W, depth=layer.n_in * R,
                          init=weight_rows(layer.weight, self.lo, self.hi, L, W), attrs=attrs,
                          granularity=W if self.loadable else (L * W if bus is not None else None),
                          shared=bus is not None, addr_next=w_next)
        if layer.has_bias:
            bmem = LaneMemory(m, "bmem", lanes=L, field=P, depth=R, init=bias_rows, attrs=attrs,
                              write=bus is not None, direct=bus is not None)
        if self.loadable:
            m.d.comb += [wmem.waddr.eq(self.wl_addr), wmem.wdata.eq(Cat(*([self.wl_data] * L))),
                         wmem.wen.eq(Mux(self.wl_en, Const(1, L) << self.wl_lane, 0))]
        if bus is not None:  # the configuration bus (the core's copy) writes whole words
            m.d.comb += [wmem.waddr.eq(bus.addr), wmem.wdata.eq(bus.data), wmem.wen.eq(bus.we["wmem"])]
            if layer.has_bias:
                m.d.comb += [bmem.waddr.eq(bus.addr), bmem.wen.eq(bus.we["bmem"]), bmem.wdata.eq(bus.data)]

        ser = self._serializer(m)
        # the input stream through a skid buffer: the issue decision below drives `ready` from
        # registers of this core only, never through the upstream FIFO's logic
        m.submodules.iskid = iskid = SkidBuffer(token_layout(self.in_widths))
        wiring.connect(m, wiring.flipped(self.i), iskid.i)
        inp = iskid.o

        # ---------------------------------------------------------------- issue
        rbits, D, F = self.rbits, self.depth, self.F
        op = Signal(Op, init=Op.INIT)
        r = Signal(rbits)
        j = Signal(self.in_widths.idx)
        amp = Signal(self.in_widths.amp)
        t = Signal(range(T + 1))
        t_in = Signal(self.in_widths.dt)

        issue = Signal()
        at_last = Signal(init=int(R == 1), name="at_last_row")  # r == R − 1, kept in a register
        last_row = (at_last if R > 1 else Const(1, 1)) | (op == Op.EOW)
        # the row enters the datapath a cycle after its issue (issue_lag): S[0] is the issue registered
        issued = self._stages(m, issue, {"op": op, "r": r, "t": t, "last_row": last_row, "amp": amp},
                              {"amp": self.in_widths.amp})
        S = issued[self.issue_lag:]
        credit = self._credit(m, ser, issue, op, t)
        cool = self._cooldown(m, issue, op, last_row)
        needs_credit = (op == Op.FIRE) | (op == Op.EOW)
        m.d.comb += issue.eq((op != Op.IDLE) & (~needs_credit | credit) & ~cool)
        completing = issue & last_row
        stepping = completing & (op == Op.FIRE)  # the step advances at the end of this cycle
        decide = (op == Op.IDLE) | completing
        tok = inp.payload
        head_t = Signal(self.in_widths.dt + 1)
        m.d.comb += head_t.eq(t_in + tok.dt)
        is_eow = tok.amp == 0
        step_of_token = head_t
        if faults.active("layer_delay"):
            step_of_token = Signal(self.in_widths.dt + 2)
            m.d.comb += step_of_token.eq(head_t + 1)
        # the comparisons against t and t + 1 in parallel, picked by `stepping` (short ready path)
        later = Mux(stepping, step_of_token > t + 1, step_of_token > t)
        t_last = self.params.t_last
        if self.loadable_params:
            window_open = Mux(stepping, t + 1 <= t_last, t <= t_last)
        else:
            window_open = Mux(stepping, t + 1 < T, t < T)
        m.d.comb += self.busy.eq(issue)

        with m.If(issue & ~last_row):
            m.d.sync += [r.eq(r + 1), at_last.eq(r == max(R - 2, 0))]
        with m.If(completing & (op == Op.FIRE)):
            m.d.sync += t.eq(t + 1)
        with m.If(decide):
            m.d.sync += [r.eq(0), at_last.eq(int(R == 1)), op.eq(Op.IDLE)]
            with m.If(inp.valid):
                with m.If(is_eow):
                    with m.If(window_open):
                        m.d.sync += op.eq(Op.FIRE)
                    with m.Else():
                        m.d.comb += inp.ready.eq(1)
                        m.d.sync += [op.eq(Op.EOW), t.eq(0), t_in.eq(0)]
                with m.Elif(later):
                    m.d.sync += op.eq(Op.FIRE)
                with m.Else():
                    m.d.comb += inp.ready.eq(1)
                    m.d.sync += [op.eq(Op.SYN), j.eq(tok.idx), amp.eq(tok.amp), t_in.eq(head_t)]

        # ------------------------------------------------------------ memories
        # weights: addressed at S0 (the issue, registered), out at S1, registered per bank at S2 (bank
        # picked), registered at S3 where c·W is formed, registered at S4; potentials and biases:
        # addressed at S2, out at S3, registered at S4 (= LEAD)
        # read enables: weights for a SYN row only; potentials for SYN and FIRE rows, biases for FIRE
        # and INIT rows (a row of another operation, or no row, reads nothing)
        s1 = S[LEAD - 3]
        take = decide & inp.valid & ~is_eow & ~later  # a SYN token is taken (j ← idx, r ← 0)
        # whether the row that issues next cycle reads its weights (a token taken now, or SYN rows
        # going on), registered: with address copies, the copies' enable loads from this register
        en_row = Signal(name="wmem_en_issue")
        if w_next is not None:
            m.d.sync += en_row.eq(Mux(decide, take, op == Op.SYN) & ~self.cool_next)
        if bus is None:
            # the address j·R + r: j·R is formed as a token may be taken (the index times a constant, from
            # the skid buffer's register) and the row steps the address by one, so no multiplier or
            # adder sits between a register and the memory's address and bank decode. Only a SYN row
            # reads, and a SYN pass starts only with a taken token, so the address after a decision
            # is the head token's whether it is taken or not: the token's timing (`take`) stays off
            # the address path. `w_addr` holds the address of the row that issues in its cycle
            w_addr = Signal(len(wmem.addr), name="wmem_addr_q")
            if R > 1:
                m.d.sync += w_addr.eq(Mux(decide, tok.idx * R, Mux(issue & ~last_row, w_addr + 1, w_addr)))
            else:
                m.d.comb += w_addr.eq(j)
            if w_next is None:  # one address register: this row's address and enable, registered (S0)
                row_addr = Signal(len(wmem.addr), name="wmem_addr_row")
                row_en = Signal(name="wmem_en_row")
                m.d.sync += [row_addr.eq(w_addr), row_en.eq(issue & (op == Op.SYN))]
                m.d.comb += [wmem.addr.eq(row_addr), wmem.en.eq(row_en)]
            else:  # the copies load this row's address and enable from registers: the issue
                # decision reaches no copy in its own cycle
                m.d.comb += [w_next.eq(w_addr), wmem.en_next.eq(en_row)]
        else:  # the same address and enable, registered at issue from the issue's next state
            assert w_next is not None  # a configured design always has address copies
            j_next = Mux(take, tok.idx, j)
            r_next = Mux(decide, 0, Mux(issue, r + 1, r))
            addr_row = Signal(len(w_next), name="wmem_addr_issue")
            m.d.sync += addr_row.eq(j_next * R + r_next if R > 1 else j_next)
            m.d.comb += [w_next.eq(addr_row), wmem.en_next.eq(en_row)]
        m.d.comb += [vmem.raddr_next.eq(s1.r),  # S2's row, into the slices' address copies
                     vmem.ren_next.eq(s1.valid & ((s1.op == Op.SYN) | (s1.op == Op.FIRE)))]
        w3 = wmem.registered(dp)  # the weights, registered (S3); a deep memory's bank multiplexer cut in two
        if layer.has_bias:
            m.d.comb += [bmem.raddr_next.eq(s1.r),
                         bmem.ren_next.eq(s1.valid & ((s1.op == Op.FIRE) | (s1.op == Op.INIT)))]
            b4 = Signal(L * P, name="b4", reset_less=True)
            dp.d.sync += b4.eq(bmem.rdata)
        prod_bits = W + self.in_widths.amp + 1
        prods = []
        for lane in range(L):
            prod = Signal(signed(prod_bits), name=f"prod{lane}", reset_less=True)
            dp.d.sync += prod.eq(_times(S[LEAD - 1].amp, w3.word_select(lane, W).as_signed()))
            prods.append(prod)

        # ----------------------------------------------- S4: resolve, SYN, INIT
        late_bias = faults.active("bias_after_inputs") and layer.has_bias
        res_lanes, states = [], []
        v_res = Signal(L * P, name="res4")
        res = self._carry(dp, v_res, "res")
        vrow = self._resolve(m, dp, S, vmem.rdata, res, SimpleNamespace(addr=vmem.waddr, data=vmem.wdata, en=vmem.wen),
                             complete=(Op.SYN, Op.INIT))
        for lane in range(L):
            v = vrow.word_select(lane, P).as_signed()
            b = b4.word_select(lane, P).as_signed() if layer.has_bias else Const(0, signed(P))
            start = b if not late_bias else Const(0, signed(P))  # the potential at the start of a window
            syn = lif.sat(m, v + prods[lane], P, name=f"syn{lane}")
            res_lanes.append(Mux(S[LEAD].op == Op.SYN, syn, start)[:P])
            states.append({"v": v, "b": b} if layer.has_bias else {"v": v})
        m.d.comb += v_res.eq(Cat(*res_lanes))

        # ---------------------------------------- S4 … S(3+F): the FIRE work
        leak = [leak_unit(layer, self.params.shift)] if layer.leak.kind is not LeakKind.NONE else []
        units = [*fire_units(layer, fires=self.fires, theta=self.params.theta), *leak]
        if layer.has_bias:
            units = [add_unit(layer, "b"), *units] if late_bias else [*units, add_unit(layer, "b")]
        final_states = self._chunked(m, dp, S, units, states)

        # -------------------------------------------------- S(3+F): write-back
        sw = S[D]
        final = sw.t == t_last
        sp = S[D - 1]  # the write-back stage's row one cycle ahead, for the address copies
        # the write data's selects (a FIRE row's new potential or a complete SYN/INIT result; after the
        # last step the start value), registered a cycle ahead, per eight lanes
        fires = self._early(m, sp.op == Op.FIRE, "wfire")
        lasts = self._early(m, sp.t == t_last, "wlast")
        new_row, outs = [], []
        for lane, st in enumerate(final_states):
            start = st["b"] if layer.has_bias and not late_bias else Const(0, signed(P))
            new_row.append(Mux(fires[lane], Mux(lasts[lane], start, st["v"])[:P], res[F - 1].word_select(lane, P)))
            outs.append(st["amp"])
        m.d.comb += [vmem.waddr_next.eq(sp.r),
                     vmem.wdata.eq(Cat(*new_row)),
                     vmem.wen_next.eq(sp.valid & ((sp.op == Op.SYN) | (sp.op == Op.FIRE) | (sp.op == Op.INIT)))]
        self._push(m, ser, sw, outs, final)
        self._gate(m, dp, [s.valid for s in issued], "datapath")
        return m
