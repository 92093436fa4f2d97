"""cocotb bench of the board core: a pseudo-terminal bridged to the UART pins.

Run by :class:`snnhw.board.simlink.SimulatedBoard`. The bench opens a
pseudo-terminal, writes the name of its terminal side to ``$SNNHW_BOARD_DIR/port``
and then moves bytes between the terminal and the board core's UART pins, bit by
bit at ``$SNNHW_BOARD_DIVISOR`` clock cycles per bit (a fraction: bits of whole cycles whose
average is exact), until ``$SNNHW_BOARD_DIR/stop``
appears. A host program opens the terminal with pyserial exactly like a board's
USB serial port.

The bench also times the frames on the simulated line, in clock cycles: when
each SAMPLE frame's first bit went to the board, and when each RESULT frame's
last bit came back. It writes them to ``$SNNHW_BOARD_DIR/frames.json`` when it
stops; :class:`snnhw.board.simlink.SimulatedBoard` turns them into the link's
throughput in simulated time.
"""

from __future__ import annotations

import json
import os
import time
import tty
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge
from cocotb.utils import get_sim_time

from snnhw.board.uart import bit_periods

#: Clock cycles simulated between two polls of an idle terminal.
IDLE_CYCLES = 256
#: The simulated clock period (ns): the bench's time unit is one clock cycle.
PERIOD_NS = 10


def _cycle() -> int:
    return int(get_sim_time(unit="ns")) // PERIOD_NS


class FrameTimes:
    """Frames of one direction of the line, cut out of its bytes: (type, cycle) of each frame, the cycle
    being the one its first byte started (``at="start"``) or its last byte ended (``at="end"``)."""

    def __init__(self, at: str) -> None:
        self.at, self.buffer, self.started = at, bytearray(), 0
        self.frames: list[tuple[int, int]] = []

    def byte(self, value: int, start: int, end: int) -> None:
        if not self.buffer:
            if value != 0x5A:  # not a frame's first byte: skipped, as the board's parser does
                return
            self.started = start
        self.buffer.append(value)
        if len(self.buffer) >= 4 and len(self.buffer) == 6 + int.from_bytes(self.buffer[2:4], "little"):
            self.frames.append((self.buffer[1], self.started if self.at == "start" else end))
            self.buffer.clear()


async def _send_byte(dut, byte: int, line: Iterator[int], times: FrameTimes) -> None:
    start = _cycle()
    for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [1]:
        dut.uart_rx.value = bit
        await ClockCycles(dut.clk, next(line))
    times.byte(byte, start, _cycle())


async def _monitor_tx(dut, divisor: Fraction, master: int, activity: list[int], times: FrameTimes) -> None:
    half = int(divisor / 2)
    while True:
        await FallingEdge(dut.uart_tx)
        start = _cycle()
        activity[0] += 1
        line = bit_periods(divisor)
        await ClockCycles(dut.clk, half)  # the middle of the start bit, then the middle of each bit
        byte = 0
        for k in range(8):
            await ClockCycles(dut.clk, next(line))
            byte |= int(dut.uart_tx.value) << k
        await ClockCycles(dut.clk, next(line))
        times.byte(byte, start, _cycle() + half)  # the stop bit's end
        os.write(master, bytes([byte]))


@cocotb.test()
async def board(dut) -> None:
    work = Path(os.environ["SNNHW_BOARD_DIR"])
    divisor = Fraction(os.environ["SNNHW_BOARD_DIVISOR"])
    line = bit_periods(divisor)  # the host's side of the line, timed as the board's UART times its bits
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    tmp = work / "port.tmp"
    tmp.write_text(os.ttyname(slave))
    tmp.replace(work / "port")

    Clock(dut.clk, 10, unit="ns").start()
    dut.uart_rx.value = 1
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    activity = [0]
    sent, received = FrameTimes("start"), FrameTimes("end")
    cocotb.start_soon(_monitor_tx(dut, divisor, master, activity, received))
    stop = work / "stop"
    polls = 0
    while True:
        try:
            data = os.read(master, 4096)
        except (BlockingIOError, OSError):
            data = b""
        if data:
            for byte in data:
                await _send_byte(dut, byte, line, sent)
            continue
        polls += 1
        if polls % 64 == 0 and stop.exists():
            break
        before = activity[0]
        await ClockCycles(dut.clk, IDLE_CYCLES)
        if activity[0] == before and not int(dut.busy.value):
            time.sleep(0.0005)  # nothing moving: do not spin the simulator while the host thinks
    os.close(master)
    os.close(slave)
    tmp = work / "frames.json.tmp"
    tmp.write_text(json.dumps({"to_board": sent.frames, "from_board": received.frames}))
    tmp.replace(work / "frames.json")
