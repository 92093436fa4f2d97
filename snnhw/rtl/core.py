"""What the encoder and dense cores share: the pipelined row datapath, its hazards and its output.

Both cores walk their rows through the same pipeline. An operation (``Op``)
issues one row per cycle; the row then travels through ``D`` register stages:

====================  =====================================================================
stage                 what happens
====================  =====================================================================
issue                 the row's weight word (dense) is addressed
S1                    the weight word leaves its memory (one block RAM bank per 512 words)
S2                    each bank's word registered, the bank picked; the potential and the
                      bias (dense) or current (encoder) rows are addressed
S3                    weight word registered, ``c·W`` formed per lane; potential and bias or
                      current words leave their memories
S4 (``LEAD``)         every word registered (the memories' output registers); the potential
                      is *resolved* (forwarded, see below); a ``SYN`` row adds ``c·W`` and
                      saturates and is then complete; a ``FIRE`` row's work starts
S4 … S(3+F)           the ``FIRE`` work (``fire``'s restoring division, the leak, the bias or
                      current add with its saturation) spread over ``F`` stages, one unit each
S(3+F)                write-back of the new potential, push of the row into the serializer
====================  =====================================================================

``D = 3 + F`` is the build key ``pipeline_depth``. A core whose ``issue_lag`` is 1
(the dense core) registers the issued row once more before S1: the stages
above count from that register (its S0), so its rows take ``D + 1`` cycles
from issue to write-back, and its weight memory's address copies load from
registers rather than from the issue logic. Read-after-write hazards stay
exact (every stage moves by the same cycle):

* a row read at S2 cannot see writes of the two cycles after it was read, nor the
  results of rows still in flight; the potential is resolved at S4 by
  *forwarding*: the newest of the complete results in flight (``SYN`` and
  ``INIT`` rows in S5 … S(3+F)) and the last two writes, by row compare;
* a ``FIRE`` row is complete only at its write-back, so the next operation on
  the same row must not reach S4 before that: two operations on one row are at
  least ``R`` cycles apart (each pass walks every row), so with ``R < F`` the
  issue waits ``F − R`` cycles after each ``FIRE`` pass (a *cool-down*).

A candidate whose distance in cycles can never equal a row's reuse distance is
not built: with ``R ≥ F + 2`` a core has no forwarding logic at all.

Idle pipelines stop toggling. The per-lane registers of a pipeline (the products, the
potentials and their forwarding copies, the ``FIRE`` work's stage registers) live in a
*datapath* module of their own whose every register is enabled by one signal: "a row was in
this pipeline last cycle" (:meth:`RowCore._gate`). The RTL states it once, as an Amaranth
``EnableInserter``; FPGA synthesis maps it to the flip-flops' clock enables, and the ASAP7 flow
to integrated clock-gating cells (``clockgate``). A row's data registers load only on the edges
that carry it, and those follow a cycle in which a row was in flight, so the enable, a register,
never holds back a row. These registers need no reset (a row's data is written before it is
read), so they have none (``reset_less``); the valid bits and the control keep theirs.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from amaranth.hdl import Cat, Const, EnableInserter, Module, Mux, Signal, Value, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import Out

from snnhw.ir import Layer, LeakKind, Reset, StreamWidths
from snnhw.rtl import faults, lif
from snnhw.rtl.memories import LANE_GROUP
from snnhw.rtl.serializer import RowSerializer
from snnhw.rtl.stream import core_layout, value_layout

__all__ = ["LEAD", "Op", "RowCore", "RunParams", "Unit", "auto_pipeline_depth", "chunks", "fire_units"]


class Op(enum.IntEnum):
    """Operations of a core's row pipeline."""

    IDLE = 0
    SYN = 1
    FIRE = 2
    EOW = 3
    INIT = 4
    LOAD = 5
    CUR = 6
    PREP = 7


#: One unit of a ``FIRE`` row's work on one lane: ``(m, state, name) -> state``; the state maps
#: names to values and is registered between chunks.
Unit = Callable[[Module, dict[str, Value], str], dict[str, Value]]


@dataclass(frozen=True, eq=False)
class RunParams:
    """The values of a layer that a loadable design takes at run time (:mod:`snnhw.rtl.loader`): the
    threshold θ, the leak shift k (``None`` for leak ``none``) and ``T − 1``, each a register of the
    loader; a fixed design uses the network's constants (:meth:`fixed`)."""

    theta: Value | int
    shift: Value | int | None
    t_last: Value | int

    @classmethod
    def fixed(cls, layer: Layer, time_steps: int) -> RunParams:
        """The constants of ``layer`` in a network of ``time_steps`` steps."""
        return cls(layer.threshold, layer.leak.shift, time_steps - 1)


def _at_least(v: Value, theta: Value | int, b: int, bits: int) -> Value:
    """``v >= theta · 2^b`` for a ``bits``-bit signed ``v`` and a non-negative threshold, as a ``bits − 1``-bit
    unsigned comparison: a negative ``v`` never reaches it, nor does any ``v`` a threshold of ``2^(bits−1)``
    or more (one carry chain a bit shorter than the signed comparison's, which also needs the sign)."""
    if isinstance(theta, int):
        target = theta << b
        if target >= 1 << (bits - 1):
            return Const(0, 1)
        return ~v[bits - 1] & (v[:bits - 1] >= target)
    shifted = Value.cast(theta) << b
    fits = (shifted[bits - 1:] == 0) if len(shifted) > bits - 1 else Const(1, 1)
    return ~v[bits - 1] & fits & (v[:bits - 1] >= shifted[:bits - 1])


def fire_units(layer: Layer, *, fires: bool, theta: Value | int | None = None) -> list[Unit]:
    """The units of ``fire`` on ``state["v"]``: they leave ``amp`` (the amplitude, 0 = none) and
    ``v`` (the potential after the reset). Without firing (potential readout) ``amp`` is ``v``.
    ``theta``: the threshold, a run-time value in a loadable design (default the layer's θ)."""
    if not fires:
        def passthrough(m: Module, s: dict[str, Value], name: str) -> dict[str, Value]:
            return {**s, "amp": s["v"].as_unsigned()}
        return [passthrough]
    theta = layer.threshold if theta is None else theta
    bits = layer.potential_bits
    if layer.reset is Reset.ZERO:
        def zero(m: Module, s: dict[str, Value], name: str) -> dict[str, Value]:
            spike = s["v"] >= theta
            return {**s, "amp": Mux(spike, 1, 0), "v": Mux(spike, 0, s["v"])[:bits].as_signed()}
        return [zero]
    if faults.active("binary_amplitude"):
        def binary(m: Module, s: dict[str, Value], name: str) -> dict[str, Value]:
            spike = s["v"] >= theta
            return {**s, "amp": Mux(spike, 1, 0), "v": Mux(spike, s["v"] - theta, s["v"])[:bits].as_signed()}
        return [binary]
    steps = layer.amplitude_bits
    if faults.active("uncapped_amplitude"):
        steps = min(bits, layer.amplitude_bits + 8)
    units: list[Unit] = []
    for b in reversed(range(steps)):
        def step(m: Module, s: dict[str, Value], name: str, b: int = b) -> dict[str, Value]:
            take = Signal(name=f"{name}_take{b}")
            rem = Signal(signed(bits), name=f"{name}_rem{b}")
            m.d.comb += [take.eq(_at_least(s["v"], theta, b, bits)), rem.eq(Mux(take, s["v"] - (theta << b), s["v"]))]
            amp = Cat(take, s["amp"]) if "amp" in s and b < steps - 1 else take
            if b == 0:
                amp = amp[: layer.amplitude_bits]
            return {**s, "v": rem, "amp": amp}
        units.append(step)
    return units


def leak_unit(layer: Layer, shift: Value | int | None = None) -> Unit:
    """``v ← leak(v)`` (``shift``: the leak shift, a run-time value in a loadable design)."""
    def unit(m: Module, s: dict[str, Value], name: str) -> dict[str, Value]:
        out = Signal(signed(layer.potential_bits), name=f"{name}_leak")
        m.d.comb += out.eq(lif.leak(s["v"], layer, shift))
        return {**s, "v": out}
    return unit


def add_unit(layer: Layer, key: str) -> Unit:
    """``v ← sat(v + state[key])``."""
    def unit(m: Module, s: dict[str, Value], name: str) -> dict[str, Value]:
        return {**s, "v": lif.sat_add(m, s["v"], s[key], layer.potential_bits, name=f"{name}_add")}
    return unit


def chunks(units: Sequence[Unit], stages: int) -> list[list[Unit]]:
    """Spread ``units`` over ``stages`` chunks as evenly as possible (earlier chunks take the extra)."""
    stages = max(1, min(stages, len(units)))
    base, extra = divmod(len(units), stages)
    out, k = [], 0
    for c in range(stages):
        n = base + (c < extra)
        out.append(list(units[k:k + n]))
        k += n
    return out


#: The stage at which a row's potential is resolved (forwarded) and a ``SYN`` row completes: issue,
#: S1 weight word out of its memory, S2 weight word registered per bank and the bank picked,
#: S3 the weight word registered and ``c·W`` formed, S4 (= LEAD) resolve.
LEAD = 4
#: Units per stage that ``pipeline_depth: "auto"`` aims for.
AUTO_UNITS_PER_STAGE = 1


def work_units(layer: Layer, *, encoder: bool, fires: bool) -> int:
    """How many units a ``FIRE`` row's work has in this layer."""
    div = 0 if not fires else (1 if layer.reset is Reset.ZERO else layer.amplitude_bits)
    leak = 0 if layer.leak.kind is LeakKind.NONE else 1
    add = 1 if encoder or layer.has_bias else 0  # the current (encoder) or bias add with its saturation
    return max(1, div + leak + add)


def auto_pipeline_depth(layer: Layer, *, encoder: bool, fires: bool) -> int:
    """The depth ``"auto"`` resolves to: ``LEAD − 1 + ceil(units / AUTO_UNITS_PER_STAGE)`` (one unit a stage)."""
    return LEAD - 1 + math.ceil(work_units(layer, encoder=encoder, fires=fires) / AUTO_UNITS_PER_STAGE)


class RowCore(wiring.Component):
    """Base of :class:`~snnhw.rtl.encoder.EncoderCore` and :class:`~snnhw.rtl.dense.DenseCore`.

    Neurons ``lo … hi−1`` of ``layer``; lane ``l`` of row ``r`` is neuron ``lo + r·lanes + l``.
    ``fires`` is False for a ``readout: potential`` last layer, whose output ``o`` is then a
    value stream of its final potentials. ``members`` are the subclass's own ports.
    ``depth`` is the pipeline depth ``D`` (stages from issue to write-back, ≥ 3).
    """

    def __init__(self, layer: Layer, *, time_steps: int, out_widths: StreamWidths, lo: int, hi: int, lanes: int,
                 fires: bool, ticks: bool, memory: str, depth: int, members: dict[str, Any],
                 params: RunParams | None = None) -> None:
        self.layer, self.T, self.out_widths = layer, time_steps, out_widths
        self.params = params if params is not None else RunParams.fixed(layer, time_steps)
        self.loadable_params = params is not None
        self._loader_params = self.params  # the loader's registers (a loadable design), copied per core
        self.lo, self.hi, self.lanes = lo, hi, lanes
        self.rows = math.ceil((hi - lo) / lanes)
        self.rbits = max(1, (self.rows - 1).bit_length())
        self.fires, self.ticks, self.memory = fires, ticks, memory
        if depth < LEAD:
            raise ValueError(f"pipeline depth must be at least {LEAD}, got {depth}")
        self.depth = depth
        self.F = depth - LEAD + 1
        out = core_layout(out_widths) if fires else value_layout(out_widths.idx, layer.potential_bits)
        super().__init__({**members, "o": Out(stream.Signature(out)), "busy": Out(1)})

    #: Cycles from a row's issue to its entry into the datapath (the stage that addresses its
    #: weight word): 0, or 1 where the issue decision is registered before it reaches the memories.
    issue_lag = 0

    # ------------------------------------------------------------------ parts
    def _serializer(self, m: Module) -> RowSerializer:
        """The core's serializer, connected to ``o``; its row FIFO covers the pipeline's rows in flight."""
        layer = self.layer
        ser = RowSerializer(self.out_widths, lanes=self.lanes, rows=self.rows, base=self.lo,
                            mode="spike" if self.fires else "value",
                            value_bits=layer.amplitude_bits if self.fires else layer.potential_bits,
                            ticks=self.ticks, depth=self.depth + self.issue_lag + 2)
        m.submodules.ser = ser
        wiring.connect(m, ser.o, wiring.flipped(self.o))
        return ser

    def _stage_layout(self, extra: dict[str, Any]) -> data.StructLayout:
        return data.StructLayout({"valid": 1, "op": Op, "r": self.rbits, "t": range(self.T + 1), "last_row": 1,
                                  **extra})

    def _stages(self, m: Module, issue: Value, head: dict[str, Value], extra: dict[str, Any]) -> list[Any]:
        """Stage registers ``S[1] … S[D + lag]`` (``S[0]`` is the issue cycle's values; ``lag`` is
        :attr:`issue_lag`, the cycles between a row's issue and its entry into the datapath)."""
        layout = self._stage_layout(extra)
        s0 = Signal(layout, name="s0")
        m.d.comb += s0.valid.eq(issue)
        for key, value in head.items():
            m.d.comb += getattr(s0, key).eq(value)
        stages = [s0]
        for k in range(1, self.depth + self.issue_lag + 1):
            s = Signal(layout, name=f"s{k}")
            m.d.sync += s.eq(stages[-1])
            stages.append(s)
        return stages

    def _gate(self, m: Module, dp: Module, valids: Sequence[Value], name: str) -> None:
        """Add ``dp``, the datapath registers of one pipeline, to ``m``, enabled only on the cycles after
        one in which a row was in the pipeline: ``valids`` are the valid bits of its stages, from the
        first (whose row the first datapath register loads on the next edge) to the last. The enable is
        a register, reset to 0.

        A datapath register loads a row's data on the edge from the cycle in which the row is in the
        stage before it, and that stage held the row the cycle before as well, or the stage before it
        did; so the enable is 1 on every edge that carries data, and on the edges that clear a last
        write. The registers of ``dp`` must have no reset (``reset_less``)."""
        busy = Signal(name=f"{name}_busy")
        m.d.sync += busy.eq(Cat(*valids).any())
        m.submodules[name] = EnableInserter(busy)(dp)

    def _local_params(self, m: Module) -> None:
        """A loadable design's run-time values as registers of this core (kept apart in synthesis), so
        that the loader's registers drive one copy per core instead of every lane's logic. They follow
        the loader's a cycle later; the values change only while a load holds the core in reset, so
        the copies are reset-less."""
        if not self.loadable_params:
            return
        given = self._loader_params
        copies = []
        for field, value in (("theta", given.theta), ("shift", given.shift), ("t_last", given.t_last)):
            if isinstance(value, Value):
                copy = Signal.like(value, name=f"{field}_local", reset_less=True, attrs={"keep": 1})
                m.d.sync += copy.eq(value)
                value = copy
            copies.append(value)
        self.params = RunParams(*copies)

    def _early(self, m: Module, value: Value, name: str) -> list[Value]:
        """``value`` of the stage before write-back, registered: the same flag at write-back, one kept
        copy per :data:`LANE_GROUP` lanes (``<name><k>_copy``), so that the write data's multiplexers
        take their select from a register near them rather than from the write-back stage's decode.
        ``value`` must depend only on ``S[D − 1]`` (the stages advance every cycle) and on run-time
        parameters that change only while the core is held in reset."""
        copies = []
        for k in range(-(-self.lanes // LANE_GROUP)):
            copy = Signal(name=f"{name}{k}_copy", attrs={"keep": 1})
            m.d.sync += copy.eq(value)
            copies.append(copy)
        return [copies[lane // LANE_GROUP] for lane in range(self.lanes)]

    def _cooldown(self, m: Module, issue: Value, op: Value, last_row: Value) -> Value:
        """``1`` while the issue must wait for a ``FIRE`` (or ``INIT``) pass to be written back."""
        wait = self.F - self.rows
        self.cool_next: Value = Const(0, 1)
        if wait <= 0:
            return Const(0, 1)
        cool = Signal(range(wait + 1), name="cool")
        start = issue & last_row & ((op == Op.FIRE) | (op == Op.INIT))
        with m.If(start):
            m.d.sync += cool.eq(wait)
        with m.Elif(cool != 0):
            m.d.sync += cool.eq(cool - 1)
        # the wait holds in the next cycle too (a one-cycle wait never does: no constant comparison)
        self.cool_next = start | (cool > 1) if wait > 1 else start
        # `cool != 0`, kept in a register of its own (loaded with its next value), so that the issue
        # decision starts from a flip-flop rather than from the counter's comparison
        waiting = Signal(name="cool_wait")
        m.d.sync += waiting.eq(self.cool_next)
        return waiting

    def _resolve(self, m: Module, dp: Module, stages: list[Any], v_read: Value, res: Sequence[Value], wport: Any,
                 *, complete: tuple[Op, ...]) -> Value:
        """The potential row as the resolve stage ``S[LEAD]`` must see it: the word read at S2 or a
        newer result in flight.

        ``v_read`` is the potential memory's output at S3 (registered here, the S4 memory register);
        ``res[j]`` is the complete result carried by stage ``S[LEAD+j]`` (j = 1 … F−1) for rows that
        complete at the resolve stage (the operations ``complete``); ``wport`` is the potential
        memory's write port, whose last two writes are kept here. Which candidate wins depends only
        on registers that hold the same rows one stage earlier, so the choice is made a cycle ahead.
        Candidates whose value is already in a register a cycle ahead (``res[j]`` from ``res[j−1]``
        for j ≥ 2, the write before last from the last write) are folded into the S4 memory
        register itself; the rest (at most ``res[1]`` and the last write) are picked at S4 by a flat
        AND-OR multiplexer with registered selects, before the add. The wide registers (the S4 word and
        the last writes' data) are in the gated datapath ``dp``.
        """
        R, F = self.rows, self.F
        width = len(v_read)
        nxt = stages[LEAD - 1]  # the row that reaches the resolve stage next cycle
        h1v, h1r = Signal(name="wh1_valid"), Signal(self.rbits, name="wh1_r")
        h1d = Signal(width, name="wh1_data", reset_less=True)
        h2d = Signal(width, name="wh2_data", reset_less=True)
        m.d.sync += [h1v.eq(wport.en != 0), h1r.eq(wport.addr)]
        dp.d.sync += [h1d.eq(wport.data), h2d.eq(h1d)]
        # candidates, newest first: (distance in issue cycles, hit one cycle ahead, data at S4,
        # the same data one cycle ahead where a register holds it)
        cands: list[tuple[int, Value, Value, Value | None]] = []
        for j in range(1, F if complete else 1):
            s = stages[LEAD + j - 1]  # what S[LEAD + j] holds next cycle
            done: Value = Const(0, 1)
            for o in complete:
                done = done | (s.op == o)
            cands.append((j, s.valid & done & (s.r == nxt.r), res[j], res[j - 1] if j >= 2 else None))
        cands.append((F, (wport.en != 0) & (wport.addr == nxt.r), h1d, None))
        cands.append((F + 1, h1v & (h1r == nxt.r), h2d, h1d))
        needed = [c for c in cands if c[0] >= R]  # a row comes back no sooner than R cycles later
        if faults.active("no_forwarding"):
            needed = []
        # the S4 memory register: the newest early candidate that hits, else the memory word
        early: Value = v_read
        for _, hit, _, ahead in reversed(needed):  # oldest first: a newer hit overrides
            if ahead is not None:
                early = Mux(hit, ahead, early)
        v4 = Signal(width, name="v4", reset_less=True)
        dp.d.sync += v4.eq(early)
        word = Signal(width, name="vrow")
        value: Value = Const(0, width)
        newer: Value = Const(0, 1)
        late: Value = Const(0, 1)
        for k, (_, hit, late_data, ahead) in enumerate(needed):
            if ahead is None:
                sel = Signal(name=f"fwd_sel{k}")  # registered: taken unless a newer candidate hits
                m.d.sync += sel.eq(hit & ~newer)
                late = late | (hit & ~newer)
                value = value | Mux(sel, late_data, 0)
            newer = newer | hit
        none = Signal(name="fwd_none", init=1)
        m.d.sync += none.eq(~late)
        m.d.comb += word.eq(value | Mux(none, v4, 0))
        return word

    def _chunked(self, m: Module, dp: Module, stages: list[Any], units: list[Unit], state: list[dict[str, Value]],
                 ) -> list[dict[str, Value]]:
        """Run ``units`` over the ``F`` stages S3 … S(2+F), registering the state between chunks (in the
        gated datapath ``dp``); returns each lane's final state (combinational at S(2+F))."""
        plan = chunks(units, self.F)
        lanes = []
        for lane, s in enumerate(state):
            for c in range(self.F):
                for k, unit in enumerate(plan[c] if c < len(plan) else []):
                    s = unit(m, s, f"c{c}u{k}l{lane}")
                if c < self.F - 1:
                    nxt = {}
                    for key, value in s.items():
                        reg = Signal(value.shape(), name=f"st{LEAD + c + 1}_{key}{lane}", reset_less=True)
                        dp.d.sync += reg.eq(value)
                        nxt[key] = reg
                    s = nxt
            lanes.append(s)
        return lanes

    def _carry(self, dp: Module, value: Value, name: str) -> list[Value]:
        """``value`` at S3 carried to S4 … S(2+F) in the gated datapath: ``out[j]`` is the copy in stage S(3+j)."""
        out: list[Value] = [value]
        for j in range(1, self.F):
            reg = Signal(len(value), name=f"{name}{LEAD + j}", reset_less=True)
            dp.d.sync += reg.eq(out[-1])
            out.append(reg)
        return out

    def _push(self, m: Module, ser: RowSerializer, sw: Any, outs: list[Value], final: Value) -> None:
        """Push the write-back stage's row into the serializer: spikes of a FIRE pass (or, for a
        potential readout, the final potentials), and the end-of-window row."""
        L, R, n = self.lanes, self.rows, self.hi - self.lo
        # padding lanes exist only in the last row
        real = n - 1 if faults.active("padding_mask_off_by_one") else n
        lane_ok = Cat(*(Const(1, 1) if (R - 1) * L + lane < real else (sw.r != R - 1) for lane in range(L)))
        w = ser.w
        bits = self.layer.amplitude_bits if self.fires else self.layer.potential_bits
        wide = []
        for lane, value in enumerate(outs):  # each lane's value at its full width in the row word
            sig = Signal(bits, name=f"out{lane}")
            m.d.comb += sig.eq(value)
            wide.append(sig)
        outs = wide
        m.d.comb += [w.t.eq(sw.t), w.r.eq(sw.r), w.step_end.eq(sw.last_row), w.eow.eq(sw.op == Op.EOW),
                     w.vals.eq(Cat(*outs))]
        fire = sw.valid & (sw.op == Op.FIRE)
        eow = sw.valid & (sw.op == Op.EOW)
        if self.fires:
            m.d.comb += [w.mask.eq(Cat(*(c != 0 for c in outs)) & lane_ok), ser.push.eq(fire | eow)]
        else:
            m.d.comb += [w.mask.eq(lane_ok), ser.push.eq((fire & final) | eow)]
        with m.If(sw.op != Op.FIRE):
            m.d.comb += w.mask.eq(0)

    def _credit(self, m: Module, ser: RowSerializer, issue: Value, op: Value, t: Value) -> Value:
        """Whether one more pushing row (``FIRE``, ``EOW``) may issue: a register counts the
        serializer's free row slots not yet claimed by a row in flight (claimed at issue, freed
        when the serializer takes a row out), so the issue decision starts from a register."""
        free = Signal(range(ser.depth + 1), init=ser.depth, name="free_rows")
        if self.fires:
            claim = issue & ((op == Op.FIRE) | (op == Op.EOW))
        else:  # a potential readout pushes only the last step's fire pass
            claim = issue & (((op == Op.FIRE) & (t == self.params.t_last)) | (op == Op.EOW))
        free_next = Signal(range(ser.depth + 1), name="free_rows_next")
        # `free != 0` in a register of its own, loaded with the next count's comparison
        credit = Signal(init=1, name="credit")  # the serializer is never 0 rows deep
        m.d.comb += free_next.eq(free - claim + ser.pop)
        m.d.sync += [free.eq(free_next), credit.eq(free_next != 0)]
        return credit
