"""cocotb testbench parts for the generated accelerator: stream driver, monitors, the TB class.

Timing convention: inputs change on the falling clock edge; after the
simulator settles (``ReadOnly``) the bench samples every handshake, which are
the values the next rising edge acts on. One coroutine does this for every
stream, which keeps the Python work per cycle small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from snnhw.sim.rng import SplitMix64

__all__ = ["TB", "Records", "StreamDriver"]


class StreamDriver:
    """Drives an AXI4-Stream sink port (``<prefix>_tdata/tvalid/tlast``) with random idle gaps.

    Parameters
    ----------
    dut:
        The cocotb top handle.
    prefix:
        Port prefix, e.g. ``s_axis_pixel``.
    gaps:
        Probability that ``tvalid`` stays low in a cycle where a beat is waiting.
    """

    def __init__(self, dut, prefix: str, gaps: float, rng: SplitMix64) -> None:
        self.tdata = getattr(dut, f"{prefix}_tdata")
        self.tvalid = getattr(dut, f"{prefix}_tvalid")
        self.tlast = getattr(dut, f"{prefix}_tlast")
        self.tready = getattr(dut, f"{prefix}_tready")
        self.gaps, self.rng = gaps, rng
        self.beats: list[tuple[int, bool]] = []
        self.pos = 0
        self.offered = False

    def drive(self) -> None:
        """Set the port for this cycle (call after the falling edge)."""
        self.offered = self.pos < len(self.beats) and (self.gaps == 0 or self.rng.random() >= self.gaps)
        self.tvalid.value = int(self.offered)
        if self.offered:
            data, last = self.beats[self.pos]
            self.tdata.value = data
            self.tlast.value = int(last)

    def sample(self) -> bool:
        """Whether a beat transfers at the next rising edge (call in ``ReadOnly``); advances if so."""
        if self.offered and int(self.tready.value):
            self.pos += 1
            return True
        return False


@dataclass
class Records:
    """What the bench saw: tap words per layer, result beats and cycle stamps."""

    taps: dict[int, list[int]] = field(default_factory=dict)
    results: list[int] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    sample_start: list[int] = field(default_factory=list)
    sample_end: list[int] = field(default_factory=list)
    cycles: int = 0


class TB:
    """Testbench for ``snnhw_top``: clock, reset, pixel driver, result sink with back-pressure, tap monitors."""

    def __init__(self, dut, *, layers: list[int], n_x: int, gaps: float = 0.0, backpressure: float = 0.0,
                 seed: int = 0, bits: int = 8, pixels_per_beat: int = 1) -> None:
        self.dut = dut
        self.rng = SplitMix64(seed)  # the batch harness draws the same sequence
        self.n_x = n_x
        self.bits, self.ppb = bits, pixels_per_beat
        self.beats_per_sample = -(-n_x // pixels_per_beat)
        self.backpressure = backpressure
        self.pixels = StreamDriver(dut, "s_axis_pixel", gaps, self.rng)
        self.starts: set[int] = set()  # beat positions that begin a well-formed sample
        self.taps = [(i, getattr(dut, f"tap_{i}_tvalid"), getattr(dut, f"tap_{i}_tdata")) for i in layers]
        self.records = Records(taps={i: [] for i in layers})
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())  # type: ignore[arg-type]

    async def reset(self) -> None:
        """Hold reset for 2 cycles."""
        self.dut.rst.value = 1
        self.dut.s_axis_pixel_tvalid.value = 0
        if hasattr(self.dut, "s_axis_config_tvalid"):
            self.dut.s_axis_config_tvalid.value = 0
        self.dut.m_axis_result_tready.value = 0
        for _ in range(2):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def load_weights(self, rows: list[list[int]]) -> None:
        """Write weights through the ``wl_<layer>_*`` ports, one per cycle: rows ``(layer, core, addr, lane, value)``."""
        dut = self.dut
        last = None
        for layer, core, addr, lane, value in rows:
            await FallingEdge(dut.clk)
            if last is not None and last != layer:
                getattr(dut, f"wl_{last}_en").value = 0
            getattr(dut, f"wl_{layer}_core").value = core
            getattr(dut, f"wl_{layer}_addr").value = addr
            getattr(dut, f"wl_{layer}_lane").value = lane
            getattr(dut, f"wl_{layer}_data").value = value
            getattr(dut, f"wl_{layer}_en").value = 1
            last = layer
        await FallingEdge(dut.clk)
        if last is not None:
            getattr(dut, f"wl_{last}_en").value = 0

    async def configure(self, words: Sequence[tuple[int, bool]]) -> None:
        """Send configuration words ``(word, tlast)`` on ``s_axis_config``, one per cycle, then one idle
        cycle (as the batch harness does)."""
        if not words:
            return
        dut = self.dut
        for word, last in words:
            await FallingEdge(dut.clk)
            dut.s_axis_config_tdata.value = int(word)
            dut.s_axis_config_tlast.value = int(last)
            dut.s_axis_config_tvalid.value = 1
        await FallingEdge(dut.clk)
        dut.s_axis_config_tvalid.value = 0

    def load(self, samples: list[list[int]], malformed: Sequence[tuple[int, int]] = ()) -> None:
        """Queue samples (each ``n_x`` values) on the pixel stream, ``pixels_per_beat`` values a beat
        (value k in bits ``[bits·k + bits − 1 : bits·k]``, the last beat of a sample padded with zeros).

        ``malformed``: ``(before, beats)`` pairs: a sample of ``beats`` beats (``tlast`` on its last),
        other than the sample size, is sent before sample ``before`` (the hardware drops it; its beats
        repeat the next sample's, or ones past its end)."""
        extra: dict[int, list[int]] = {}
        for before, beats in malformed:
            extra.setdefault(int(before), []).append(int(beats))
        for index, sample in enumerate([*samples, None]):
            for beats in extra.get(index, []):
                for j in range(beats):
                    self.pixels.beats.append(((j * 2654435761) & ((1 << (self.bits * self.ppb)) - 1),
                                              j == beats - 1))
            if sample is None:
                break
            words = []
            for start in range(0, len(sample), self.ppb):
                word = 0
                for k, value in enumerate(sample[start:start + self.ppb]):
                    word |= int(value) << (self.bits * k)
                words.append(word)
            self.starts.add(len(self.pixels.beats))
            for j, word in enumerate(words):
                self.pixels.beats.append((word, j == len(words) - 1))

    async def run(self, n_results: int, timeout: int, progress: Path | None = None) -> Records:
        """Run until ``n_results`` result beats have arrived (or fail after ``timeout`` cycles).

        ``progress``: a file rewritten with the number of finished samples as they finish.
        """
        dut, rec = self.dut, self.records
        rvalid, rready, rdata, rlast = (dut.m_axis_result_tvalid, dut.m_axis_result_tready, dut.m_axis_result_tdata,
                                        dut.m_axis_result_tlast)
        bp = self.backpressure
        cycle = 0
        while len(rec.results) < n_results:
            await FallingEdge(dut.clk)
            self.pixels.drive()
            ready = bp == 0 or self.rng.random() >= bp
            rready.value = int(ready)
            await ReadOnly()
            before = self.pixels.pos
            if self.pixels.sample() and before in self.starts:
                rec.sample_start.append(cycle)
            if ready and int(rvalid.value):
                if not rdata.value.is_resolvable:
                    raise ValueError(f"result beat {len(rec.results)} at cycle {cycle} is {rdata.value}")
                rec.results.append(int(rdata.value))
                if int(rlast.value):
                    rec.seq.append(int(dut.m_axis_result_tuser.value))
                    rec.sample_end.append(cycle)
                    if progress is not None:
                        progress.write_text(str(len(rec.sample_end)))
            for i, tvalid, tdata in self.taps:
                if int(tvalid.value):
                    rec.taps[i].append(int(tdata.value))
            cycle += 1
            if cycle > timeout:
                raise TimeoutError(f"no result after {timeout} cycles ({len(rec.results)} of {n_results} beats)")
        rec.cycles = cycle
        return rec
