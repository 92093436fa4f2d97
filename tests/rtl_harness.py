"""Amaranth-simulator harness for RTL blocks: stream drivers and monitors with gaps and back-pressure."""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator
from snnhw.sim.records import records_to_trace

from snnhw.ir import Network
from snnhw.model.trace import Trace
from snnhw.rtl.build import Build
from snnhw.rtl.top import Accelerator, pack_beats, score_bits


def run_top(network: Network, build: Build, inputs: np.ndarray, *, seed: int = 0, gaps: float = 0.0,
            backpressure: float = 0.0, max_cycles: int = 2_000_000) -> Trace:
    """Simulate the accelerator top on ``inputs`` and return the trace its streams carried."""
    dut = Accelerator(network, build)
    rng = np.random.default_rng(seed)
    beats = pack_beats(inputs, network.input.bits, build.pixels_per_beat)
    per_sample = len(beats[0]) if beats else 0
    pixels = [word for sample in beats for word in sample]
    n, _ = inputs.shape
    n_out = network.output_size
    taps: list[list[int]] = [[] for _ in network.layers]
    results: list[int] = []
    fired = [i for i in range(len(network.layers)) if network.fires(i)]
    tap_sigs = [(getattr(dut, f"tap_{i}_tvalid"), getattr(dut, f"tap_{i}_tdata")) for i in fired]

    async def bench(ctx):
        k = 0
        cycles = 0
        while len(results) < n * (n_out + 1):
            valid = k < len(pixels) and rng.random() >= gaps
            ctx.set(dut.s_axis_pixel_tvalid, valid)
            ctx.set(dut.s_axis_pixel_tdata, int(pixels[k]) if k < len(pixels) else 0)
            ctx.set(dut.s_axis_pixel_tlast, k < len(pixels) and k % per_sample == per_sample - 1)
            ctx.set(dut.m_axis_result_tready, rng.random() >= backpressure)
            sigs = [dut.s_axis_pixel_tready, dut.m_axis_result_tvalid, dut.m_axis_result_tready,
                    dut.m_axis_result_tdata]
            for v, d in tap_sigs:
                sigs += [v, d]
            _, _, *vals = await ctx.tick().sample(*sigs)
            if valid and vals[0]:
                k += 1
            if vals[1] and vals[2]:
                results.append(vals[3])
            for j, i in enumerate(fired):
                if vals[4 + 2 * j]:
                    taps[i].append(vals[5 + 2 * j])
            cycles += 1
            assert cycles < max_cycles, "simulation did not finish"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return records_to_trace(network, n, [np.array(t, dtype=np.uint64) for t in taps], np.array(results),
                            score_bits(network))
