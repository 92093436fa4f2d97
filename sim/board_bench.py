"""cocotb bench of the board core: a pseudo-terminal bridged to the UART pins.

Run by :class:`snnhw.board.simlink.SimulatedBoard`. The bench opens a
pseudo-terminal, writes the name of its terminal side to ``$SNNHW_BOARD_DIR/port``
and then moves bytes between the terminal and the board core's UART pins, bit by
bit at ``$SNNHW_BOARD_DIVISOR`` clock cycles per bit, until ``$SNNHW_BOARD_DIR/stop``
appears. A host program opens the terminal with pyserial exactly like a board's
USB serial port.
"""

from __future__ import annotations

import os
import time
import tty
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

#: Clock cycles simulated between two polls of an idle terminal.
IDLE_CYCLES = 256


async def _send_byte(dut, byte: int, divisor: int) -> None:
    for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [1]:
        dut.uart_rx.value = bit
        await ClockCycles(dut.clk, divisor)


async def _monitor_tx(dut, divisor: int, master: int, activity: list[int]) -> None:
    while True:
        await FallingEdge(dut.uart_tx)
        activity[0] += 1
        await ClockCycles(dut.clk, divisor // 2)
        byte = 0
        for k in range(8):
            await ClockCycles(dut.clk, divisor)
            byte |= int(dut.uart_tx.value) << k
        await ClockCycles(dut.clk, divisor)
        os.write(master, bytes([byte]))


@cocotb.test()
async def board(dut) -> None:
    work = Path(os.environ["SNNHW_BOARD_DIR"])
    divisor = int(os.environ["SNNHW_BOARD_DIVISOR"])
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
    cocotb.start_soon(_monitor_tx(dut, divisor, master, activity))
    stop = work / "stop"
    polls = 0
    while True:
        try:
            data = os.read(master, 4096)
        except (BlockingIOError, OSError):
            data = b""
        if data:
            for byte in data:
                await _send_byte(dut, byte, divisor)
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
