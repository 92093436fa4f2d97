"""AMD Xilinx ZCU104 (Zynq UltraScale+ XCZU7EV-2FFVC1156E): a Vivado project, not run here.

amaranth-boards has no ZCU104, so :class:`ZCU104Platform` subclasses Amaranth's
``XilinxPlatform`` with the programmable-logic pins this design uses, from the
*ZCU104 Evaluation Board User Guide* (UG1267):

* ``clk125``: the 125 MHz LVDS programmable-logic user clock, F23 (P) / E23 (N);
* ``uart``: the FT4232HL's programmable-logic UART (the fourth port of the USB
  serial device), FPGA receive A20 and transmit C19, LVCMOS18;
* ``led``: the four user LEDs D5, D6, A5, B5 (LVCMOS33).

The same pins appear in LiteX-Boards' ``xilinx_zcu104`` platform. Clocking: an
MMCME4_BASE makes the accelerator clock from 125 MHz; the core is held in reset
until it locks. Default 100 MHz (VCO 1000 MHz) and 2 Mbaud, 50 clocks per bit:
a conservative clock, because no timing analysis of UltraScale+ runs on these
machines (Vivado's report after implementation is the one that counts), and a
baud rate the FT4232HL makes exactly (12 MHz / 6).

LEDs: 0 heartbeat (1 Hz), 1 MMCM locked, 2 a sample in flight, 3 a frame was refused.
"""

from __future__ import annotations

from typing import Any, ClassVar

from amaranth.build import Attrs, Clock, DiffPairs, Pins, Resource, Subsignal
from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Instance, Module, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer
from amaranth.vendor import XilinxPlatform
from snnhw.boards.common import BoardDef, PLLPlan, connect_core, mmcme4

__all__ = ["ZCU104", "ZCU104Platform"]

#: The programmable-logic user clock.
CLK_HZ = 125_000_000


class ZCU104Platform(XilinxPlatform):
    """ZCU104 programmable logic: the pins snnhw uses (UG1267)."""

    device = "xczu7ev"
    package = "ffvc1156"
    speed = "2-e"
    default_clk = "clk125"
    resources: ClassVar[list[Any]] = [
        Resource("clk125", 0, DiffPairs("F23", "E23", dir="i"), Clock(CLK_HZ), Attrs(IOSTANDARD="LVDS")),
        Resource("uart", 0, Subsignal("rx", Pins("A20", dir="i")), Subsignal("tx", Pins("C19", dir="o")),
                 Attrs(IOSTANDARD="LVCMOS18")),
        *[Resource("led", k, Pins(pin, dir="o"), Attrs(IOSTANDARD="LVCMOS33"))
          for k, pin in enumerate(["D5", "D6", "A5", "B5"])],
    ]
    connectors: ClassVar[list[Any]] = []


class _Top(Elaboratable):
    def __init__(self, core: Elaboratable, plan: PLLPlan) -> None:
        self.core, self.plan = core, plan

    def elaborate(self, platform) -> Module:
        m = Module()
        clk = platform.request("clk125", 0, dir="-")
        m.submodules.clk_buf = clk_in = io.Buffer("i", clk)
        locked, fb, clkout = Signal(), Signal(), Signal()
        m.domains.sync = ClockDomain("sync")
        p = self.plan.params
        m.submodules.mmcm = Instance(
            "MMCME4_BASE",
            p_CLKIN1_PERIOD=1e9 / self.plan.in_hz, p_DIVCLK_DIVIDE=p["DIVCLK_DIVIDE"],
            p_CLKFBOUT_MULT_F=p["CLKFBOUT_MULT_F"], p_CLKOUT0_DIVIDE_F=p["CLKOUT0_DIVIDE_F"],
            i_CLKIN1=clk_in.i, i_CLKFBIN=fb, o_CLKFBOUT=fb, o_CLKOUT0=clkout, o_LOCKED=locked, i_RST=0, i_PWRDWN=0)
        m.submodules.bufg = Instance("BUFG", i_I=clkout, o_O=ClockSignal("sync"))
        m.submodules.reset_sync = ResetSynchronizer(~locked, domain="sync")

        connect_core(m, platform, self.core, locked, self.plan.out_hz)
        return m


class ZCU104(BoardDef):
    name = "zcu104"
    part = "xczu7ev-ffvc1156-2-e"
    description = "AMD Xilinx ZCU104, Zynq UltraScale+ XCZU7EV: Vivado project (Verilog, XDC, Tcl, build script)"
    toolchain = "vivado"
    default_clock_hz = 100_000_000
    default_baud = 2_000_000
    default_reason = ("100 MHz assumed: no open timing model of UltraScale+ exists here, so Vivado's report after "
                      "implementation confirms or refutes it; the network's own default build")
    reference = "UG1267 ZCU104 Evaluation Board User Guide (PL clock F23/E23, PL UART A20/C19, user LEDs)"

    def platform(self) -> Any:
        return ZCU104Platform()

    def clock_plan(self, clock_hz: int) -> PLLPlan:
        return mmcme4(CLK_HZ, clock_hz)

    def top(self, core: Elaboratable, clock_hz: int) -> Elaboratable:
        return _Top(core, self.clock_plan(clock_hz))

    def program_args(self, bitstream: str) -> list[str]:
        return ["--board", "zcu104", bitstream]
