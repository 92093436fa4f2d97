"""RTL blocks in the Amaranth simulator against their golden twins, with random gaps and back-pressure."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from snnhw.ir import Layer, LayerKind, Leak, LeakKind, Reset, StreamWidths
from snnhw.model import simulate
from snnhw.model.stream import encode, merge
from snnhw.model.trace import first_divergence
from snnhw.netgen import random_network
from snnhw.rtl import lif
from snnhw.rtl.build import resolve_build
from snnhw.rtl.counter import Counter
from snnhw.rtl.fifo import SkidBuffer
from snnhw.rtl.memories import BankedRead
from snnhw.rtl.merge import SpikeMerge

from .activity import assert_active
from .rtl_harness import run_top


def _stream(rng: np.random.Generator, windows: int, T: int, indices: np.ndarray, rate: float) -> np.ndarray:
    rows = []
    for s in range(windows):
        for t in range(T):
            for n in indices:
                if rng.random() < rate:
                    rows.append((s, t, int(n), int(rng.integers(1, 4))))
    events = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return encode(events, windows)


def _run_merge(streams: list[np.ndarray], widths: StreamWidths, seed: int, gaps: float, bp: float,
               stats: dict[str, int] | None = None) -> np.ndarray:
    dut = SpikeMerge(widths, len(streams))
    rng = np.random.default_rng(seed)
    out: list[tuple[int, int, int]] = []
    expected_eows = sum(1 for tok in streams[0] if tok[2] == 0)

    async def bench(ctx):
        pos = [0] * len(streams)
        cycles = 0
        while sum(1 for t in out if t[2] == 0) < expected_eows:
            offered = []
            for k, s in enumerate(streams):
                port = getattr(dut, f"i{k}")
                valid = pos[k] < len(s) and rng.random() >= gaps
                offered.append(valid)
                ctx.set(port.valid, valid)
                if pos[k] < len(s):
                    dt, idx, amp = (int(v) for v in s[pos[k]])
                    ctx.set(port.payload, {"dt": dt, "idx": idx, "amp": amp})
            ready = rng.random() >= bp
            ctx.set(dut.o.ready, ready)
            sigs = [getattr(dut, f"i{k}").ready for k in range(len(streams))] + [dut.o.valid, dut.o.payload]
            _, _, *vals = await ctx.tick().sample(*sigs)
            for k in range(len(streams)):
                if offered[k] and vals[k]:
                    pos[k] += 1
            if ready and vals[-2]:
                p = vals[-1]
                out.append((int(p.dt), int(p.idx), int(p.amp)))
            cycles += 1
            assert cycles < 20000
        if stats is not None:
            stats["cycles"] = cycles

    top = Module()
    top.submodules.dut = dut
    toggle = Signal()  # a sync domain also for k = 1, where the merge is a wire
    top.d.sync += toggle.eq(~toggle)
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(out, dtype=np.int64).reshape(-1, 3)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_spike_merge_equals_golden_merge(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed * 10 + k)
    T, size = 6, 13
    widths = StreamWidths(3, 4, 2)
    owners = rng.integers(0, k, size=size)
    streams = [_stream(rng, 4, T, np.flatnonzero(owners == c), rate=0.3) for c in range(k)]
    got = _run_merge(streams, widths, seed, gaps=0.3, bp=0.3)
    assert np.array_equal(got, merge(streams))


@pytest.mark.parametrize("k", [2, 3, 4])
def test_spike_merge_full_throughput(k: int) -> None:
    """Busy inputs, no gaps, no back-pressure: one token per cycle leaves the merge (plus the tree's latency)."""
    widths = StreamWidths(3, 4, 2)
    rng = np.random.default_rng(3)
    streams = [_stream(rng, 2, 6, np.arange(c, 12, k), rate=1.0) for c in range(k)]
    stats: dict[str, int] = {}
    got = _run_merge(streams, widths, 0, gaps=0.0, bp=0.0, stats=stats)
    assert np.array_equal(got, merge(streams))
    depth = (k - 1).bit_length()  # registers on the way through the tree
    assert stats["cycles"] <= len(got) + depth + 1, (stats["cycles"], len(got))


def _lif_layer(leak: Leak, reset: Reset, amp_bits: int, p: int, theta: int) -> Layer:
    return Layer("l", LayerKind.DENSE, 1, 4, p, theta, leak, reset, amp_bits, weight=np.zeros((1, 1), dtype=np.int64), bias=None)


@pytest.mark.parametrize("leak", [Leak(LeakKind.NONE), Leak(LeakKind.SHIFT, 2), Leak(LeakKind.POW2, 1)], ids=str)
@pytest.mark.parametrize("reset,amp_bits,theta", [(Reset.SUBTRACT, 1, 5), (Reset.SUBTRACT, 3, 3),
                                                   (Reset.SUBTRACT, 3, 1), (Reset.ZERO, 2, 7)])
def test_lif_arithmetic_exhaustive(leak: Leak, reset: Reset, amp_bits: int, theta: int) -> None:
    """Every 6-bit potential through leak and fire against the definitions of docs/semantics.md."""
    p = 6
    layer = _lif_layer(leak, reset, amp_bits, p, theta)
    v = Signal(signed(p))
    m = Module()
    lk = Signal(signed(p))
    amp = Signal(amp_bits)
    rest = Signal(signed(p))
    c, vf = lif.fire(m, v, layer)
    m.d.comb += [lk.eq(lif.leak(v, layer)), amp.eq(c), rest.eq(vf)]

    async def bench(ctx):
        for value in range(-(1 << (p - 1)), 1 << (p - 1)):
            ctx.set(v, value)
            if leak.kind is LeakKind.NONE:
                want_leak = value
            elif leak.kind is LeakKind.SHIFT:
                want_leak = value - (value >> leak.shift)
            else:
                want_leak = value >> leak.shift
            if value < theta:
                want = (0, value)
            elif reset is Reset.ZERO:
                want = (1, 0)
            else:
                cc = min(value // theta, (1 << amp_bits) - 1)
                want = (cc, value - cc * theta)
            assert (ctx.get(lk), ctx.get(amp), ctx.get(rest)) == (want_leak, *want), value

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("b_bits", [5, 3])
def test_saturating_add_exhaustive(b_bits: int) -> None:
    """``lif.sat_add`` against the clamp of the exact sum, for every pair of operands (5-bit result)."""
    p = 5
    a, b, out = Signal(signed(p)), Signal(signed(b_bits)), Signal(signed(p))
    m = Module()
    m.d.comb += out.eq(lif.sat_add(m, a, b, p))

    async def bench(ctx):
        for x in range(-(1 << (p - 1)), 1 << (p - 1)):
            for y in range(-(1 << (b_bits - 1)), 1 << (b_bits - 1)):
                ctx.set(a, x)
                ctx.set(b, y)
                assert ctx.get(out) == min(max(x + y, -(1 << (p - 1))), (1 << (p - 1)) - 1), (x, y)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("run_time", [False, True], ids=["constant", "register"])
def test_fire_units_exhaustive(run_time: bool) -> None:
    """The cores' fire steps (``core.fire_units``, the threshold a constant or a loadable design's register)
    for every 6-bit potential and every threshold, against docs/semantics.md (subtract reset, 2-bit
    amplitude)."""
    from snnhw.rtl.core import fire_units

    p, amp_bits = 6, 2
    v = Signal(signed(p))
    th = Signal(p - 1)
    for theta in range(1, 1 << (p - 1)):
        layer = _lif_layer(Leak(LeakKind.NONE), Reset.SUBTRACT, amp_bits, p, theta)
        m = Module()
        state: dict = {"v": v}
        for k, unit in enumerate(fire_units(layer, fires=True, theta=th if run_time else None)):
            state = unit(m, state, f"u{k}")
        amp, rest = Signal(amp_bits), Signal(signed(p))
        m.d.comb += [amp.eq(state["amp"]), rest.eq(state["v"])]

        async def bench(ctx, theta: int = theta, amp: Signal = amp, rest: Signal = rest):
            ctx.set(th, theta)
            for value in range(-(1 << (p - 1)), 1 << (p - 1)):
                ctx.set(v, value)
                cc = 0 if value < theta else min(value // theta, (1 << amp_bits) - 1)
                assert (ctx.get(amp), ctx.get(rest)) == (cc, value - cc * theta), (theta, value)

        sim = Simulator(m)
        sim.add_testbench(bench)
        sim.run()


@pytest.mark.parametrize("config", [{"lanes": 2, "cores": 2, "fifo_depth": 1}])
def test_top_in_amaranth_simulator(config: dict) -> None:
    x = np.random.default_rng(1).integers(0, 8, size=(3, 7))
    network = random_network(5, input_size=7, input_bits=3, sizes=[5, 4, 3], time_steps=5, vary=True, active_on=x)
    golden = simulate(network, x)
    assert_active(network, golden)
    trace = run_top(network, resolve_build(network, config), x, seed=2, gaps=0.3, backpressure=0.4)
    assert first_divergence(network, golden, trace) is None


def _run_stream_block(dut, inputs: list, windows: int, seed: int, gaps: float, bp: float) -> np.ndarray:
    """Drive ``inputs`` into ``dut.i`` with idle gaps and collect ``dut.o`` tokens with back-pressure
    until ``windows`` end-of-window tokens have left."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, int, int]] = []

    async def bench(ctx):
        pos, eows, cycles = 0, 0, 0
        while eows < windows:
            valid = pos < len(inputs) and rng.random() >= gaps
            ctx.set(dut.i.valid, valid)
            if pos < len(inputs):
                ctx.set(dut.i.payload, inputs[pos])
            ready = rng.random() >= bp
            ctx.set(dut.o.ready, ready)
            _, _, i_ready, o_valid, o_payload = await ctx.tick().sample(dut.i.ready, dut.o.valid, dut.o.payload)
            if valid and i_ready:
                pos += 1
            if ready and o_valid:
                assert not o_payload.tick  # a single core emits no ticks
                out.append((int(o_payload.dt), int(o_payload.idx), int(o_payload.amp)))
                eows += int(o_payload.amp) == 0
            cycles += 1
            assert cycles < 50000

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(out, dtype=np.int64).reshape(-1, 3)


@pytest.mark.parametrize("lanes", [1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_encoder_core_equals_golden_layer(lanes: int, seed: int) -> None:
    from snnhw.rtl.encoder import EncoderCore

    network = random_network(60 + seed, input_size=7, input_bits=3, sizes=[5, 2], time_steps=5, vary=True, density=0.6)
    x = np.random.default_rng(seed).integers(0, 8, size=(3, 7))
    golden = simulate(network, x)
    layer = network.layers[0]
    dut = EncoderCore(layer, time_steps=5, input_bits=3, out_widths=network.stream_widths(0), lo=0, hi=layer.size,
                      lanes=lanes)
    assert len(golden.events[0]) > 0
    beats = [{"data": int(v), "abort": 0} for v in x.reshape(-1)]
    got = _run_stream_block(dut, beats, len(x), seed, gaps=0.3, bp=0.4)
    assert np.array_equal(got, encode(golden.events[0], len(x)))


@pytest.mark.parametrize("lanes", [1, 2, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_dense_core_equals_golden_layer(lanes: int, seed: int) -> None:
    from snnhw.rtl.dense import DenseCore

    network = random_network(70 + seed, input_size=6, input_bits=3, sizes=[6, 4, 2], time_steps=6, vary=True)
    x = np.random.default_rng(seed).integers(0, 8, size=(4, 6))
    golden = simulate(network, x)
    layer = network.layers[1]
    dut = DenseCore(layer, time_steps=6, in_widths=network.stream_widths(0), out_widths=network.stream_widths(1),
                    lo=0, hi=layer.size, lanes=lanes)
    tokens = encode(golden.events[0], len(x))
    inputs = [{"dt": int(dt), "idx": int(idx), "amp": int(amp)} for dt, idx, amp in tokens]
    assert len(golden.events[0]) > 0 and len(golden.events[1]) > 0
    got = _run_stream_block(dut, inputs, len(x), seed, gaps=0.3, bp=0.4)
    assert np.array_equal(got, encode(golden.events[1], len(x)))


@pytest.mark.parametrize("width", [12, 32])
def test_counter_is_exact_after_its_latency(width: int) -> None:
    """The pipelined-carry counter shows the exact count of ``latency`` cycles earlier, across every
    segment's carry and the wrap."""
    dut = Counter(width)
    rng = np.random.default_rng(width)
    cycles = 5000 if width == 12 else 700
    enables = rng.random(cycles) < 0.9
    seen: list[int] = []

    async def bench(ctx):
        for en in enables:
            ctx.set(dut.en, int(en))
            seen.append(ctx.get(dut.value))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    counts = np.concatenate([[0], np.cumsum(enables)]) % (1 << width)
    expected = [int(counts[max(0, c - dut.latency)]) for c in range(cycles)]
    assert dut.latency == (width + 7) // 8 - 1
    assert seen == expected
    if width == 12:
        assert enables.sum() >= 1 << width  # the counter wrapped


@pytest.mark.parametrize("seed", [0, 1])
def test_skid_buffer_passes_every_word_in_order(seed: int) -> None:
    """Gaps and back-pressure on both sides: every word once, in order; full rate when unblocked."""
    dut = SkidBuffer(unsigned(16))
    rng = np.random.default_rng(seed)
    words = [int(w) for w in rng.integers(0, 1 << 16, 400)]
    out: list[int] = []
    phases = [(0.0, 0.0), (0.3, 0.4)]  # first unblocked (checks the rate), then random

    async def bench(ctx):
        pos, cycles = 0, 0
        for gaps, bp in phases:
            target = len(out) + 200
            start = cycles
            while len(out) < target:
                valid = pos < len(words) and rng.random() >= gaps
                ready = rng.random() >= bp
                ctx.set(dut.i.valid, valid)
                ctx.set(dut.i.payload, words[pos] if pos < len(words) else 0)
                ctx.set(dut.o.ready, ready)
                _, _, i_ready, o_valid, o_data = await ctx.tick().sample(dut.i.ready, dut.o.valid, dut.o.payload)
                if valid and i_ready:
                    pos += 1
                if ready and o_valid:
                    out.append(o_data)
                cycles += 1
                assert cycles < 5000
            if gaps == 0.0:
                assert cycles - start <= 201  # one word per cycle after one cycle of latency

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert out == words[:len(out)] and len(out) == 400


def test_sample_framer_drops_short_and_long_samples() -> None:
    """Beats with tlast: good samples of 3 beats pass with ``abort`` low; a short one (tlast early) has
    ``abort`` on its last beat; a long one has it on its third beat and its further beats are swallowed
    through its tlast; each is counted once. The input is not ready during reset."""
    from amaranth.hdl import ClockDomain

    from snnhw.rtl.framing import SampleFramer

    dut = SampleFramer(8, 3, 12)
    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.dut = dut
    # (data, last) per beat: good, short (2), good, long (5), good
    beats = [(1, 0), (2, 0), (3, 1), (4, 0), (5, 1), (6, 0), (7, 0), (8, 1),
             (9, 0), (10, 0), (11, 0), (12, 0), (13, 1), (14, 0), (15, 0), (16, 1)]
    seen: list[tuple[int, int]] = []
    in_reset_ready: list[int] = []

    async def bench(ctx):
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.i.payload, {"data": 99, "last": 1})
        ctx.set(dut.o.ready, 1)
        for _ in range(3):  # held in reset with a beat offered: nothing is taken
            ctx.set(cd.rst, 1)
            in_reset_ready.append(ctx.get(dut.i.ready))
            in_reset_ready.append(ctx.get(dut.o.valid))
            await ctx.tick()
        ctx.set(cd.rst, 0)
        pos, cycles = 0, 0
        rng = np.random.default_rng(1)
        while pos < len(beats):
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, {"data": beats[pos][0], "last": beats[pos][1]})
            ready = bool(rng.random() < 0.7)
            ctx.set(dut.o.ready, ready)
            _, _, i_ready, o_valid, o_payload = await ctx.tick().sample(dut.i.ready, dut.o.valid, dut.o.payload)
            if i_ready:
                pos += 1
            if o_valid and ready:
                seen.append((int(o_payload.data), int(o_payload.abort)))
            cycles += 1
            assert cycles < 200
        ctx.set(dut.i.valid, 0)
        for _ in range(4):  # the counters trail by their latency
            await ctx.tick()
        assert ctx.get(dut.accepted) == 3 and ctx.get(dut.errors) == 2

    sim = Simulator(top)
    sim.add_clock(1e-8, domain=cd)
    sim.add_testbench(bench)
    sim.run()
    assert in_reset_ready == [0] * 6
    assert seen == [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1), (6, 0), (7, 0), (8, 0),
                    (9, 0), (10, 0), (11, 1), (14, 0), (15, 0), (16, 0)]


@pytest.mark.parametrize("banks", [3, 11, 22])
def test_banked_read_registered_word(banks: int) -> None:
    """``BankedRead.registered``: the word read at a random address every cycle, three cycles later, equal
    to the memory's contents; 3 banks (one register after the multiplexer), 11 and 22 (the multiplexer
    cut in two around it: groups of 4 and 8, the last group short)."""
    bank_depth, width = 4, 12
    depth = banks * bank_depth - 1
    rng = np.random.default_rng(banks)
    init = [int(v) for v in rng.integers(0, 1 << width, size=depth)]
    m, dp = Module(), Module()
    mem = BankedRead(m, "mem", width=width, depth=depth, init=init, attrs={}, bank_words=bank_depth)
    assert mem.banks == banks
    word = mem.registered(dp)
    m.submodules.dp = dp
    addrs = [int(a) for a in rng.integers(0, depth, size=200)]

    async def bench(ctx):
        for k, a in enumerate([*addrs, 0, 0, 0]):
            ctx.set(mem.addr, a)
            if k >= 3:
                assert ctx.get(word) == init[addrs[k - 3]], (k, addrs[k - 3])
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
