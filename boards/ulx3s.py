"""Radiona ULX3S with an LFE5U-85F: amaranth-boards' ``ULX3S_85F_Platform``.

Clocking: the board's 25 MHz oscillator (pin G2) drives an EHXPLLL whose CLKOP is
the accelerator clock; the core is held in reset until the PLL locks. The host
link is the FT231X USB serial port of the board (``uart`` 0: FPGA receive M1,
transmit L4, 3.3 V).

Default build: 16 lanes per core at 100 MHz (25 MHz · 4) and 3 Mbaud, the FT231X's
highest rate, at 33⅓ clocks per bit (the UART times bits to within a cycle of any
clock-to-baud ratio). The ECP5 PLL's phase detector needs at least 3.125 MHz, so
from 25 MHz it makes 25 · m / n with n ≤ 8. The default build meets timing at
100 MHz (101.2 MHz after routing, nextpnr seed 1; docs/results.md), with a margin
of about 1 %: a change to the RTL can move it below, and the build then fails
unless --allow-timing-failure is given (or --clock-mhz lowers the clock).

LEDs: 0 heartbeat (1 Hz), 1 PLL locked, 2 a sample in flight, 3 a frame was refused.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Instance, Module, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer
from snnhw.boards.common import BoardDef, PLLPlan, connect_core, ecp5_pll

__all__ = ["ULX3S85F"]

#: The board oscillator.
OSC_HZ = 25_000_000


class _Top(Elaboratable):
    def __init__(self, core: Elaboratable, plan: PLLPlan) -> None:
        self.core, self.plan = core, plan

    def elaborate(self, platform) -> Module:
        m = Module()
        clk25 = platform.request("clk25", 0, dir="-")
        m.submodules.clk25_buf = clk_in = io.Buffer("i", clk25)
        locked, clk = Signal(), Signal()
        m.domains.sync = ClockDomain("sync")
        m.d.comb += ClockSignal("sync").eq(clk)
        p = self.plan.params
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=f"{self.plan.in_hz / 1e6:g}",
            a_FREQUENCY_PIN_CLKOP=f"{self.plan.out_hz / 1e6:g}",
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1", a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_CLKOP_ENABLE="ENABLED",
            p_CLKI_DIV=p["CLKI_DIV"], p_CLKFB_DIV=p["CLKFB_DIV"], p_CLKOP_DIV=p["CLKOP_DIV"],
            p_CLKOP_CPHASE=p["CLKOP_CPHASE"], p_CLKOP_FPHASE=p["CLKOP_FPHASE"], p_FEEDBK_PATH="CLKOP",
            i_RST=0, i_STDBY=0, i_CLKI=clk_in.i, o_CLKOP=clk, i_CLKFB=clk,
            i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1, i_PLLWAKESYNC=0,
            i_ENCLKOP=0, o_LOCK=locked)
        platform.add_clock_constraint(clk, self.plan.out_hz)
        m.submodules.reset_sync = ResetSynchronizer(~locked, domain="sync")

        connect_core(m, platform, self.core, locked, self.plan.out_hz)
        return m


class ULX3S85F(BoardDef):
    name = "ulx3s-85f"
    part = "LFE5U-85F-6BG381C"
    description = "Radiona ULX3S, Lattice ECP5 LFE5U-85F: bitstream with Yosys, nextpnr-ecp5 and ecppack"
    toolchain = "trellis"
    default_clock_hz = 100_000_000
    default_baud = 3_000_000
    default_lanes = 16
    default_reason = ("the fastest clock measured to meet timing for the 16-lane mnist board build: 101.2 MHz after "
                      "routing at a 100 MHz constraint (nextpnr seed 1); 100 MHz is 25 MHz · 4 from the PLL, at 33⅓ "
                      "clocks per 3 Mbaud bit")
    reference = ("amaranth-boards 0.0.21 ULX3S_85F_Platform (ULX3S schematic v3.0.x: 25 MHz oscillator on G2, "
                 "FT231X on M1/L4)")

    def platform(self) -> Any:
        try:
            from amaranth_boards.ulx3s import ULX3S_85F_Platform
        except ImportError:
            from snnhw.errors import BuildError
            raise BuildError("amaranth-boards is not installed: pip install 'snnhw[board]'", key="--board",
                             value=self.name) from None
        return ULX3S_85F_Platform()

    def clock_plan(self, clock_hz: int) -> PLLPlan:
        return ecp5_pll(OSC_HZ, clock_hz)

    def top(self, core: Elaboratable, clock_hz: int) -> Elaboratable:
        return _Top(core, self.clock_plan(clock_hz))

    def program_args(self, bitstream: str) -> list[str]:
        return ["--board", "ulx3s", bitstream]
