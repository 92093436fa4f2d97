"""The board's UART and host interface in the Amaranth simulator.

The host interface is driven with byte streams (random gaps, random back-pressure
on the transmit side) and an accelerator model that takes pixel beats with random
``tready`` and answers with result beats; corrupt, truncated and malformed frames
must be refused with the right ``NAK`` and must never reach the accelerator.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from amaranth.hdl import Module, Mux, Signal
from amaranth.sim import Simulator

from snnhw.board.hostif import HostInterface
from snnhw.board.protocol import (
    INFO_BYTES,
    NAK_BUSY,
    NAK_CRC,
    NAK_LENGTH,
    NAK_TRUNCATED,
    NAK_TYPE,
    T_INFO,
    T_NAK,
    T_RESULT,
    T_SAMPLE,
    T_STATUS,
    BoardInfo,
    FrameDecoder,
    crc16,
    decode_result,
    encode_frame,
    encode_sample,
)
from snnhw.board.uart import UARTReceiver, UARTTransmitter

pytestmark = pytest.mark.unit

INFO = BoardInfo(1, "ab" * 32, "cd" * 32, 7, 12, 2, 3, 4, 48_000_000, 3_000_000)


def test_crc_and_decoder():
    assert crc16(b"123456789") == 0x29B1
    good = encode_frame(T_STATUS)
    bad = bytearray(encode_frame(T_SAMPLE, b"\x01\x02\x03"))
    bad[5] ^= 0x10
    dec = FrameDecoder()
    frames = dec.feed(b"\x00\xff" + bytes(bad) + good[:3])
    frames += dec.feed(good[3:])
    assert [f.kind for f in frames] == [T_STATUS]
    assert dec.bad_crc == 1
    assert BoardInfo.unpack(INFO.pack()) == INFO and len(INFO.pack()) == INFO_BYTES


@pytest.mark.parametrize("divisor", [5, Fraction(100, 3), Fraction(37, 7)])
def test_uart_loopback_and_framing_error(divisor):
    m = Module()
    m.submodules.tx = tx = UARTTransmitter(divisor)
    m.submodules.rx = rx = UARTReceiver(divisor)
    force, level = Signal(), Signal(init=1)
    m.d.comb += rx.rx.eq(Mux(force, level, tx.tx))
    rng = random.Random(1)
    data = [rng.randrange(256) for _ in range(40)]
    got: list[int] = []

    async def send(ctx):
        for k, byte in enumerate(data):
            if k == 20:
                # a byte whose stop bit is low: dropped and counted as a framing error
                await ctx.tick().until(tx.i.ready)
                await ctx.tick().repeat(int(2 * divisor))
                ctx.set(force, 1)
                for bit in [0] + [(0x55 >> i) & 1 for i in range(8)] + [0, 0]:
                    ctx.set(level, bit)
                    await ctx.tick().repeat(int(divisor))
                ctx.set(level, 1)
                await ctx.tick().repeat(int(3 * divisor))
                ctx.set(force, 0)
            ctx.set(tx.i.payload, byte)
            ctx.set(tx.i.valid, 1)
            await ctx.tick().until(tx.i.ready)
            ctx.set(tx.i.valid, 0)
            await ctx.tick().repeat(rng.randrange(3) + 1)
        await ctx.tick().repeat(int(20 * divisor))

    recv = _receiver(rx, got)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(send)
    sim.add_testbench(recv, background=True)
    sim.add_testbench(errors := _reader(rx.framing_errors), background=True)
    sim.run()
    assert got == data
    assert errors.value == 1


@pytest.mark.parametrize("divisor", [Fraction(100, 3), Fraction(105, 3), Fraction(25, 3)])
def test_uart_at_the_exact_rate_both_ways(divisor):
    """A fractional divisor: the receiver takes bytes sent at the exact rate, from any phase, and the
    transmitter's bit edges stay within a cycle of the exact rate's."""
    rng = random.Random(int(divisor * 7))
    data = [rng.randrange(256) for _ in range(30)]
    m = Module()
    m.submodules.rx = rx = UARTReceiver(divisor)
    m.submodules.tx = tx = UARTTransmitter(divisor)
    got: list[int] = []
    edges: list[int] = []

    async def drive(ctx):
        cycle, t = 0, Fraction(rng.randrange(50, 100), 7)  # the exact rate, starting anywhere in a cycle
        ctx.set(rx.rx, 1)
        while cycle < t:
            await ctx.tick()
            cycle += 1
        for byte in data:
            for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [1]:
                t += divisor
                ctx.set(rx.rx, bit)
                while cycle < t:
                    await ctx.tick()
                    cycle += 1
            t += rng.randrange(3) * divisor / 3  # idle between bytes
            while cycle < t:
                await ctx.tick()
                cycle += 1
        await ctx.tick().repeat(int(40 * divisor))

    recv = _receiver(rx, got)

    async def send(ctx):
        # 0x55 three times, back to back: start 0, bits 1 0 1 0 1 0 1 0, stop 1 — an edge at every bit
        ctx.set(tx.i.payload, 0x55)
        ctx.set(tx.i.valid, 1)
        for _ in range(3):
            await ctx.tick().until(tx.i.ready & tx.i.valid)
        ctx.set(tx.i.valid, 0)

    async def watch(ctx):
        cycle, last = 0, 1
        async for _, _, level in ctx.tick().sample(tx.tx):
            cycle += 1
            if level != last:
                edges.append(cycle)
                last = level

    _simulate(m, drive, recv, send, watch)
    assert got == data
    # 30 edges, one at every bit boundary of the three bytes: each within a cycle of the exact rate's
    assert len(edges) == 30, edges
    assert all(abs((e - edges[0]) - k * divisor) < 1 for k, e in enumerate(edges)), [(e - edges[0]) - k * divisor for k, e in enumerate(edges)]


def _simulate(dut, main, *background) -> None:
    """Run ``main`` with the ``background`` benches on ``dut`` at a 100 MHz clock."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    for bench in background:
        sim.add_testbench(bench, background=True)
    sim.run()


def _receiver(rx, got: list[int]):
    """A bench that takes every byte the receiver ``rx`` delivers into ``got``."""
    async def bench(ctx):
        ctx.set(rx.o.ready, 1)
        async for _, _, valid, payload in ctx.tick().sample(rx.o.valid, rx.o.payload):
            if valid:
                got.append(payload)
    return bench


def _reader(signal):
    async def bench(ctx):
        async for _, _, value in ctx.tick().sample(signal):
            bench.value = value
    bench.value = None
    return bench


class Harness:
    """A host interface with an accelerator model: pixel beats in, scripted result beats out."""

    def __init__(self, *, input_size=7, input_bits=12, ppb=2, output_size=3, result_bits=32, timeout=300, seed=0,
                 slots=2, result_slots=2):
        self.dut = HostInterface(input_size=input_size, input_bits=input_bits, pixels_per_beat=ppb,
                                 output_size=output_size, result_bits=result_bits, info=INFO.pack(),
                                 timeout_cycles=timeout, slots=slots, result_slots=result_slots)
        self.rng = random.Random(seed)
        self.beats: list[tuple[int, int]] = []  # (tdata, tlast) the accelerator accepted
        self.tx = bytearray()
        self.input_size, self.bits, self.ppb, self.out, self.rb = input_size, input_bits, ppb, output_size, result_bits // 8

    def model_result(self, beats):
        """The result an accelerator model returns for a sample: scores and prediction from the values."""
        values = []
        for data, _ in beats:
            values += [(data >> (self.bits * k)) & ((1 << self.bits) - 1) for k in range(self.ppb)]
        values = values[:self.input_size]
        scores = [sum(values[k::self.out]) - 1000 for k in range(self.out)]
        return scores, int(np.argmax(scores))

    def run(self, stream: bytes, *, gaps=0.3, tx_stall=0.3, accel_stall=0.3, results_delay=5, tail=3000,
            chunks=None):
        dut, rng = self.dut, self.rng
        sim = Simulator(dut)
        sim.add_clock(1e-8)
        chunks = chunks or [stream]
        done = [False]

        async def host(ctx):
            for chunk in chunks:
                for byte in chunk:
                    while rng.random() < gaps:
                        await ctx.tick()
                    ctx.set(dut.rx.payload, byte)
                    ctx.set(dut.rx.valid, 1)
                    await ctx.tick()
                    ctx.set(dut.rx.valid, 0)
                if len(chunks) > 1:
                    await ctx.tick().repeat(2 * dut.timeout_cycles)
            await ctx.tick().repeat(tail)
            done[0] = True

        async def accel(ctx):
            sample: list[tuple[int, int]] = []
            cycle = 0
            while not done[0]:
                ctx.set(dut.cycle_count, cycle)
                ready = rng.random() >= accel_stall
                ctx.set(dut.pixel_tready, ready)
                await ctx.delay(1e-9)
                if ready and ctx.get(dut.pixel_tvalid):
                    beat = (ctx.get(dut.pixel_tdata), ctx.get(dut.pixel_tlast))
                    sample.append(beat)
                    self.beats.append(beat)
                    if beat[1]:
                        await ctx.tick()
                        cycle += 1
                        for _ in range(results_delay):
                            ctx.set(dut.cycle_count, cycle)
                            await ctx.tick()
                            cycle += 1
                        scores, pred = self.model_result(sample)
                        words = [s & ((1 << (8 * self.rb)) - 1) for s in scores] + [pred]
                        k = 0
                        while k < len(words):
                            ctx.set(dut.cycle_count, cycle)
                            ctx.set(dut.result_tdata, words[k])
                            ctx.set(dut.result_tlast, k == len(words) - 1)
                            ctx.set(dut.result_tvalid, 1)
                            await ctx.delay(1e-9)
                            took = ctx.get(dut.result_tready)
                            await ctx.tick()
                            cycle += 1
                            k += took
                        ctx.set(dut.result_tvalid, 0)
                        sample = []
                        continue
                await ctx.tick()
                cycle += 1

        async def uart(ctx):
            while not done[0]:
                ready = rng.random() >= tx_stall
                ctx.set(dut.tx.ready, ready)
                await ctx.delay(1e-9)
                if ready and ctx.get(dut.tx.valid):
                    self.tx.append(ctx.get(dut.tx.payload))
                await ctx.tick()

        sim.add_testbench(host)
        sim.add_testbench(accel, background=True)
        sim.add_testbench(uart, background=True)
        sim.run()
        dec = FrameDecoder()
        return dec.feed(bytes(self.tx)), dec


def _sample(rng, size=7, bits=12):
    return np.array([rng.randrange(1 << bits) for _ in range(size)])


def test_sample_round_trip_with_backpressure():
    rng = random.Random(3)
    h = Harness(seed=3)
    samples = [_sample(rng) for _ in range(3)]
    frames, dec = h.run(b"".join(encode_sample(10 + k, s, 12) for k, s in enumerate(samples)), gaps=0.0,
                        chunks=[encode_sample(10 + k, s, 12) for k, s in enumerate(samples)])
    assert dec.bad_crc == 0
    assert [f.kind for f in frames] == [T_RESULT] * 3
    for k, (frame, sample) in enumerate(zip(frames, samples)):
        res = decode_result(frame.payload, 3, 4)
        beats = h.beats[4 * k:4 * (k + 1)]
        assert [b[1] for b in beats] == [0, 0, 0, 1]
        scores, pred = h.model_result(beats)
        values = []
        for data, _ in beats:
            values += [(data >> (12 * j)) & 0xFFF for j in range(2)]
        assert values == [*sample.tolist(), 0]  # the last beat padded with zeros
        assert res.seq == 10 + k and res.scores.tolist() == scores and res.prediction == pred
        assert res.cycles >= 4 + 5  # beats, the model's delay, the result beats


def test_status_request():
    h = Harness()
    frames, _ = h.run(encode_frame(T_STATUS), gaps=0.5)
    assert [f.kind for f in frames] == [T_INFO]
    assert BoardInfo.unpack(frames[0].payload) == INFO


@pytest.mark.parametrize("damage, code", [("crc", NAK_CRC), ("payload", NAK_CRC), ("length", NAK_LENGTH),
                                          ("type", NAK_TYPE), ("truncate", NAK_TRUNCATED)])
def test_bad_frames_are_refused_and_never_fed(damage, code):
    rng = random.Random(5)
    frame = bytearray(encode_sample(7, _sample(rng), 12))
    if damage == "crc":
        frame[-1] ^= 0x01
    elif damage == "payload":
        frame[9] ^= 0x80
    elif damage == "length":
        frame = bytearray(encode_frame(T_SAMPLE, bytes(frame[4:-3])))
    elif damage == "type":
        frame = bytearray(encode_frame(0x42, bytes(frame[4:-2])))
    else:
        frame = frame[:-4]
    good = encode_sample(8, _sample(rng), 12)
    h = Harness(seed=5)
    frames, _ = h.run(b"", chunks=[bytes(frame), good])
    assert [f.kind for f in frames] == [T_NAK, T_RESULT]
    assert frames[0].payload[1] == code
    assert len(h.beats) == 4  # only the good frame reached the accelerator
    assert decode_result(frames[1].payload, 3, 4).seq == 8


@pytest.mark.parametrize("slots, result_slots", [(2, 1), (3, 2), (4, 1)])
def test_samples_in_flight_answered_in_order(slots, result_slots):
    """Frames back to back, several in flight: every one fed once, answered in order with its seq."""
    rng = random.Random(60 + slots)
    samples = [_sample(rng) for _ in range(slots)]  # the window: never refused
    h = Harness(seed=60 + slots, slots=slots, result_slots=result_slots)
    frames, dec = h.run(b"".join(encode_sample(200 + k, x, 12) for k, x in enumerate(samples)), gaps=0.0,
                        tx_stall=0.5, accel_stall=0.5, tail=6000)
    assert dec.bad_crc == 0 and [f.kind for f in frames] == [T_RESULT] * len(samples)
    assert len(h.beats) == 4 * len(samples)
    for k, (frame, sample) in enumerate(zip(frames, samples)):
        res = decode_result(frame.payload, 3, 4)
        beats = h.beats[4 * k:4 * (k + 1)]
        values = [(data >> (12 * j)) & 0xFFF for data, _ in beats for j in range(2)]
        assert values == [*sample.tolist(), 0] and [b[1] for b in beats] == [0, 0, 0, 1]
        assert res.seq == (200 + k) & 0xFF and (res.scores.tolist(), res.prediction) == h.model_result(beats)


def test_sample_without_a_free_slot_is_refused_with_its_seq():
    rng = random.Random(6)
    samples = [_sample(rng) for _ in range(6)]
    h = Harness(seed=6, slots=2, result_slots=1)
    # results leave slowly: the slots fill, and later frames find none free
    frames, _ = h.run(b"".join(encode_sample(k, x, 12) for k, x in enumerate(samples)), gaps=0.0, tx_stall=0.97,
                      accel_stall=0.0, tail=20000)
    results = [decode_result(f.payload, 3, 4) for f in frames if f.kind == T_RESULT]
    naks = [f.payload for f in frames if f.kind == T_NAK]
    assert naks and all(p[1] == NAK_BUSY for p in naks)
    refused = {p[0] for p in naks}
    answered = [r.seq for r in results]
    # a NAK that finds the transmitter busy with another NAK replaces it: the host's timeout covers that
    assert refused | set(answered) <= set(range(6)) and not refused & set(answered) and answered[:2] == [0, 1]
    assert answered == sorted(answered)  # in order
    assert len(h.beats) == 4 * len(answered)  # a refused frame never reaches the accelerator
    for r in results:
        values = [(data >> (12 * j)) & 0xFFF for data, _ in h.beats[4 * answered.index(r.seq):][:4] for j in range(2)]
        assert values == [*samples[r.seq].tolist(), 0]


@pytest.mark.parametrize("size, bits, ppb", [(11, 5, 3), (9, 1, 8), (6, 3, 4), (13, 16, 1)])
def test_packed_values_cut_into_beats(size, bits, ppb):
    """Values packed in the frame's bits come out as the accelerator's beats, the last one padded with 0."""
    rng = random.Random(size * bits)
    h = Harness(input_size=size, input_bits=bits, ppb=ppb, output_size=2, result_bits=16, seed=size)
    samples = [np.array([rng.randrange(1 << bits) for _ in range(size)]) for _ in range(2)]
    frames, _ = h.run(b"".join(encode_sample(k, x, bits) for k, x in enumerate(samples)), gaps=0.2)
    nb = -(-size // ppb)
    assert [f.kind for f in frames] == [T_RESULT] * 2 and len(h.beats) == 2 * nb
    for k, sample in enumerate(samples):
        values = [(data >> (bits * j)) & ((1 << bits) - 1) for data, _ in h.beats[k * nb:(k + 1) * nb]
                  for j in range(ppb)]
        assert values == [*sample.tolist()] + [0] * (nb * ppb - size)
        assert all(data >> (bits * ppb) == 0 for data, _ in h.beats)


def test_eight_bit_values_one_per_beat():
    rng = random.Random(7)
    h = Harness(input_size=5, input_bits=8, ppb=1, output_size=2, result_bits=8, seed=7)
    s = np.array([rng.randrange(256) for _ in range(5)])
    frames, _ = h.run(encode_sample(3, s, 8))
    assert [b[0] for b in h.beats] == s.tolist()
    res = decode_result(frames[0].payload, 2, 1)
    scores, pred = h.model_result(h.beats)
    assert res.scores.tolist() == [((v + 128) % 256) - 128 for v in scores] and res.prediction == pred
    assert frames[0].payload[0] == 3


def test_config_frames_fed_after_their_crc_and_answered_with_the_status():
    from snnhw.board.protocol import T_LOADED, LoadStatus, encode_config

    rng = random.Random(8)
    dut = HostInterface(input_size=7, input_bits=12, pixels_per_beat=2, output_size=3, result_bits=32,
                        info=INFO.pack(), timeout_cycles=300, config_words=8)
    good = [rng.randrange(1 << 32) for _ in range(5)]
    bad = bytearray(encode_config(2, [1, 2, 3]))
    bad[7] ^= 0x10  # a payload bit: the CRC-16 fails, nothing is fed
    chunks = [encode_config(1, good), bytes(bad), encode_config(3, list(range(9))),  # 9 words: too long
              encode_config(4, []), encode_config(5, [0xDEADBEEF])]
    fed: list[tuple[int, int]] = []
    tx = bytearray()
    done = [False]
    frames_in = [0]

    async def host(ctx):
        for chunk in chunks:
            for byte in chunk:
                while rng.random() < 0.3:
                    await ctx.tick()
                ctx.set(dut.rx.payload, byte)
                ctx.set(dut.rx.valid, 1)
                await ctx.tick()
                ctx.set(dut.rx.valid, 0)
            await ctx.tick().repeat(700)
        done[0] = True

    async def accel(ctx):  # the loader's side: random tready, a status that counts the frames fed
        while not done[0]:
            ready = rng.random() >= 0.4
            ctx.set(dut.config_tready, ready)
            ctx.set(dut.cfg_committed, frames_in[0] % 2)
            ctx.set(dut.cfg_hash, 0x1122334455667788 + frames_in[0])
            ctx.set(dut.cfg_crc_errors, 10 + frames_in[0])
            ctx.set(dut.cfg_errors, 20)
            ctx.set(dut.cfg_refused, 30)
            await ctx.delay(1e-9)
            if ready and ctx.get(dut.config_tvalid):
                fed.append((ctx.get(dut.config_tdata), ctx.get(dut.config_tlast)))
                frames_in[0] += ctx.get(dut.config_tlast)
            await ctx.tick()

    async def uart(ctx):
        while not done[0]:
            ready = rng.random() >= 0.3
            ctx.set(dut.tx.ready, ready)
            await ctx.delay(1e-9)
            if ready and ctx.get(dut.tx.valid):
                tx.append(ctx.get(dut.tx.payload))
            await ctx.tick()

    _simulate(dut, host, accel, uart)
    frames = FrameDecoder().feed(bytes(tx))
    assert [f.kind for f in frames] == [T_LOADED, T_NAK, T_NAK, T_LOADED, T_LOADED]
    assert frames[1].payload[1] == NAK_CRC and frames[2].payload[1] == NAK_LENGTH
    # only the good frames' words reached the loader, tlast on each frame's last word
    assert fed == [(w, int(k == 4)) for k, w in enumerate(good)] + [(0xDEADBEEF, 1)]
    first, empty, last = (LoadStatus.unpack(frames[k].payload) for k in (0, 3, 4))
    assert first == LoadStatus(1, True, 0x1122334455667789, 11, 20, 30)
    assert empty == LoadStatus(4, True, 0x1122334455667789, 11, 20, 30)  # a status request feeds nothing
    assert last == LoadStatus(5, False, 0x112233445566778A, 12, 20, 30)
