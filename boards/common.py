"""What every board definition provides, and the clock-generator solvers they share."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib import io

from snnhw.errors import BuildError

__all__ = ["BoardDef", "PLLPlan", "connect_core", "ecp5_pll", "mmcme4"]


@dataclass(frozen=True)
class PLLPlan:
    """Divider settings of a clock generator that makes ``out_hz`` from ``in_hz`` exactly."""

    in_hz: int
    out_hz: int
    vco_hz: int
    params: dict[str, Any]


class BoardDef:
    """A board: its platform, its default clock and baud rate, and the top that puts a
    :class:`~snnhw.board.core.BoardCore` on it.

    Subclasses set the class attributes and implement :meth:`platform`, :meth:`clock_plan`
    and :meth:`top`.
    """

    #: Name used on the command line (``--board``).
    name: str = ""
    #: FPGA part, as the vendor writes it.
    part: str = ""
    #: One line for ``snnhw board build --help`` and the docs.
    description: str = ""
    #: ``"trellis"`` (Yosys, nextpnr-ecp5, ecppack: run here) or ``"vivado"`` (project written, not run).
    toolchain: str = ""
    #: Default accelerator clock (Hz) and UART baud rate (at least 4 clocks per bit; need not be a whole number).
    default_clock_hz: int = 0
    default_baud: int = 0
    #: Lanes per core when neither ``--build`` nor ``--lanes``/``--cores`` is given (None: the network's
    #: own default build). With the default clock, the board's default build.
    default_lanes: int | None = None
    #: Where the default build comes from, for ``board.json`` and the docs.
    default_reason: str = ""
    #: Where the board facts (pins, clocks) come from.
    reference: str = ""

    def default_lanes_for(self, build_file: Any, lanes: int | None, cores: int | None) -> int | None:
        """``lanes``, or the board's default lanes when no build option was given."""
        if build_file is None and lanes is None and cores is None:
            return self.default_lanes
        return lanes

    def platform(self) -> Any:
        raise NotImplementedError

    def clock_plan(self, clock_hz: int) -> PLLPlan:
        raise NotImplementedError

    def top(self, core: Elaboratable, clock_hz: int) -> Elaboratable:
        raise NotImplementedError

    def program_args(self, bitstream: str) -> list[str]:
        """``openFPGALoader`` arguments that load ``bitstream`` into the board's SRAM."""
        raise NotImplementedError


def connect_core(m: Module, platform: Any, core: Any, locked: Signal, clock_hz: int) -> None:
    """Add ``core`` to ``m`` and wire it to the board's ``uart`` 0 and ``led`` 0–3 through I/O buffers.

    LEDs: 0 heartbeat (1 Hz), 1 clock generator locked, 2 a sample in flight, 3 a frame was refused.
    """
    uart = platform.request("uart", 0, dir="-")
    m.submodules.rx_buf = rx = io.Buffer("i", uart.rx)
    m.submodules.tx_buf = tx = io.Buffer("o", uart.tx)
    m.submodules.core = core
    m.d.comb += [core.uart_rx.eq(rx.i), tx.o.eq(core.uart_tx)]
    leds = []
    for k in range(4):
        m.submodules[f"led{k}_buf"] = buf = io.Buffer("o", platform.request("led", k, dir="-"))
        leds.append(buf)
    beat = Signal(range(clock_hz // 2))
    blink, refused = Signal(), Signal()
    with m.If(beat == clock_hz // 2 - 1):
        m.d.sync += [beat.eq(0), blink.eq(~blink)]
    with m.Else():
        m.d.sync += beat.eq(beat + 1)
    with m.If(core.naks != 0):
        m.d.sync += refused.eq(1)
    m.d.comb += [leds[0].o.eq(blink), leds[1].o.eq(locked), leds[2].o.eq(core.busy), leds[3].o.eq(refused)]


def _unreachable(clock_hz: int, in_hz: int, what: str, hint: str) -> BuildError:
    return BuildError(f"{what} cannot make this clock exactly from {in_hz / 1e6:g} MHz ({hint})",
                      key="--clock-mhz", value=clock_hz / 1e6)


def ecp5_pll(in_hz: int, out_hz: int) -> PLLPlan:
    """EHXPLLL settings (feedback from CLKOP) for ``out_hz`` from ``in_hz``, exactly.

    Limits from Lattice TN1263 (ECP5 sysCLOCK PLL): input 8–400 MHz, phase-detector input
    (``in / CLKI_DIV``) 3.125–400 MHz, VCO (``out · CLKOP_DIV``) 400–800 MHz, output 3.125–400 MHz.
    Among exact solutions the one with the highest phase-detector frequency and the VCO nearest
    600 MHz is taken.
    """
    best: tuple[tuple[float, float], PLLPlan] | None = None
    if not 3_125_000 <= out_hz <= 400_000_000:
        raise _unreachable(out_hz, in_hz, "the ECP5 PLL", "its output range is 3.125–400 MHz")
    for refdiv in range(1, 129):
        pfd = Fraction(in_hz, refdiv)
        if pfd < 3_125_000:
            break
        if pfd > 400_000_000:
            continue
        fb = Fraction(out_hz) / pfd
        if fb.denominator != 1 or not 1 <= fb <= 80:
            continue
        for opdiv in range(1, 129):
            vco = out_hz * opdiv
            if 400_000_000 <= vco <= 800_000_000:
                score = (-float(pfd), abs(vco - 600_000_000))
                plan = PLLPlan(in_hz, out_hz, vco, {
                    "CLKI_DIV": refdiv, "CLKFB_DIV": int(fb), "CLKOP_DIV": opdiv, "CLKOP_CPHASE": opdiv // 2,
                    "CLKOP_FPHASE": 0})
                if best is None or score < best[0]:
                    best = (score, plan)
    if best is None:
        raise _unreachable(out_hz, in_hz, "the ECP5 PLL",
                           "it needs out = in · CLKFB_DIV / CLKI_DIV with in / CLKI_DIV ≥ 3.125 MHz")
    return best[1]


def mmcme4(in_hz: int, out_hz: int, *, vco_min: int = 800_000_000, vco_max: int = 1_600_000_000) -> PLLPlan:
    """MMCME4_BASE settings (integer ``CLKFBOUT_MULT_F``, ``DIVCLK_DIVIDE``, ``CLKOUT0_DIVIDE_F``) for
    ``out_hz`` from ``in_hz``, exactly.

    Limits from Xilinx DS925 (Zynq UltraScale+ MPSoC data sheet, MMCM switching characteristics,
    speed grade -2): VCO 800–1600 MHz, phase-detector input 10–500 MHz; multiplier 2–128, input
    divider 1–106, output divider 1–128.
    """
    best: tuple[tuple[float, float], PLLPlan] | None = None
    for d in range(1, 107):
        pfd = Fraction(in_hz, d)
        if pfd < 10_000_000:
            break
        if pfd > 500_000_000:
            continue
        for mult in range(2, 129):
            vco = pfd * mult
            if not vco_min <= vco <= vco_max:
                continue
            o = vco / out_hz
            if o.denominator != 1 or not 1 <= o <= 128:
                continue
            score = (-float(pfd), abs(float(vco) - 1_200_000_000))
            plan = PLLPlan(in_hz, out_hz, int(vco), {"DIVCLK_DIVIDE": d, "CLKFBOUT_MULT_F": float(mult),
                                                     "CLKOUT0_DIVIDE_F": float(o)})
            if best is None or score < best[0]:
                best = (score, plan)
    if best is None:
        raise _unreachable(out_hz, in_hz, "the MMCM", "with integer multiplier and dividers in range")
    return best[1]
