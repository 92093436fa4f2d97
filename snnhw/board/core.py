"""The board core: UART, host interface and accelerator, ready for a board's clock and pins.

:class:`BoardCore` is everything a board runs except the clock generator and
the I/O buffers, which the board definitions in ``boards/`` add; it is also
what ``snnhw board run --port sim`` simulates.
"""

from __future__ import annotations

from fractions import Fraction

from amaranth.hdl import Module, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from snnhw.board.hostif import HostInterface
from snnhw.board.protocol import PROTOCOL_VERSION, BoardInfo
from snnhw.board.uart import UARTReceiver, UARTTransmitter
from snnhw.errors import BuildError
from snnhw.ir import Network
from snnhw.rtl.build import Build
from snnhw.rtl.fifo import SkidBuffer
from snnhw.rtl.generate import build_hash
from snnhw.rtl.top import Accelerator, result_bits

__all__ = ["BOARD_CONFIG_WORDS", "BOARD_RESULT_SLOTS", "BOARD_SLOTS", "FRAME_TIMEOUT_S", "BoardCore", "board_info",
           "clocks_per_bit", "uart_divisor"]

#: A frame whose line stays idle this long (seconds) before it is complete is dropped as truncated.
FRAME_TIMEOUT_S = 0.02
#: Words of the configuration-frame buffer of a loadable board (one block RAM): the longest configuration
#: frame a ``CONFIG`` frame carries (the host splits its WRITE frames to fit).
BOARD_CONFIG_WORDS = 512
#: Sample slots of the host interface: frames received and waiting for the accelerator, the one arriving
#: included. They are the host's window (``INFO.window``): enough to keep the line busy across the 16 ms
#: an FTDI bridge may hold a short result frame back (its latency timer), at 2.6 ms per MNIST frame at
#: 3 Mbaud.
BOARD_SLOTS = 8
#: Result slots of the host interface: results waiting for the UART.
BOARD_RESULT_SLOTS = 2


def uart_divisor(clock_hz: int, baud: int) -> Fraction:
    """Clock cycles per UART bit, ``clock / baud`` (a fraction where the clock is not a multiple of the baud
    rate: the UART then times each bit to within one cycle of the exact rate, :mod:`snnhw.board.uart`)."""
    if baud <= 0:
        raise BuildError("must be a positive baud rate", key="--baud", value=baud)
    divisor = Fraction(clock_hz, baud)
    if divisor < 4:
        raise BuildError(f"needs at least 4 clock cycles per bit at {clock_hz / 1e6:g} MHz", key="--baud", value=baud)
    return divisor


def clocks_per_bit(divisor: Fraction) -> float | int:
    """``divisor`` for a report: an integer, or the fraction's value to 6 decimals."""
    return divisor.numerator if divisor.denominator == 1 else round(float(divisor), 6)


def board_info(network: Network, build: Build, clock_hz: int, baud: int) -> BoardInfo:
    """The ``INFO`` a board built from ``network`` and ``build`` answers with (a loadable board: its
    design's network, and the words a ``CONFIG`` frame may carry)."""
    return BoardInfo(PROTOCOL_VERSION, network.content_hash(), build_hash(build), network.input.size,
                     network.input.bits, BOARD_SLOTS, network.output_size,
                     result_bits(network) // 8, int(clock_hz), int(baud),
                     BOARD_CONFIG_WORDS if build.load is not None else 0)


class BoardCore(wiring.Component):
    """UART (8N1 at ``baud``) ↔ :class:`HostInterface` ↔ :class:`~snnhw.rtl.top.Accelerator`.

    Ports: ``uart_rx`` (from the host), ``uart_tx`` (to the host), ``busy`` (a sample is in flight)
    and ``naks`` (frames refused, wraps): the last two for LEDs.
    """

    def __init__(self, network: Network, build: Build, *, clock_hz: int, baud: int,
                 timeout_s: float = FRAME_TIMEOUT_S) -> None:
        self.network, self.build = network, build
        self.clock_hz, self.baud = int(clock_hz), int(baud)
        self.divisor = uart_divisor(self.clock_hz, self.baud)
        if build.pixels_per_beat * network.input.bits < 8:
            raise BuildError(f"a board's pixel beats carry at least 8 bits; {build.pixels_per_beat} values of "
                             f"{network.input.bits} bits are fewer (raise pixels_per_beat, or leave it auto)",
                             key="pixels_per_beat", value=build.pixels_per_beat)
        self.timeout_cycles = max(int(20 * self.divisor), int(timeout_s * self.clock_hz))
        self.info = board_info(network, build, self.clock_hz, self.baud)
        super().__init__({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1), "busy": Out(1), "naks": Out(8)})

    def elaborate(self, platform) -> Module:
        m = Module()
        net, build = self.network, self.build
        m.submodules.uart_rx = rx = UARTReceiver(self.divisor)
        m.submodules.uart_tx = tx = UARTTransmitter(self.divisor)
        m.submodules.host = host = HostInterface(
            input_size=net.input.size, input_bits=net.input.bits, pixels_per_beat=build.pixels_per_beat,
            output_size=net.output_size, result_bits=result_bits(net), info=self.info.pack(),
            timeout_cycles=self.timeout_cycles, config_words=self.info.config_words, slots=BOARD_SLOTS,
            result_slots=BOARD_RESULT_SLOTS)
        m.submodules.accel = acc = Accelerator(net, build)
        m.d.comb += [rx.rx.eq(self.uart_rx), self.uart_tx.eq(tx.tx), self.busy.eq(host.busy), self.naks.eq(host.naks)]
        wiring.connect(m, rx.o, host.rx)
        # the transmitter takes its bytes from a register slice: the frame writer's byte multiplexer and
        # the UART's shift register are a cycle apart
        m.submodules.tx_slice = tx_slice = SkidBuffer(unsigned(8))
        wiring.connect(m, host.tx, tx_slice.i)
        wiring.connect(m, tx_slice.o, tx.i)
        # accelerator port ↔ host-interface port; the accelerator's inputs are driven by the host
        links = [("s_axis_pixel_tdata", "pixel_tdata"), ("s_axis_pixel_tvalid", "pixel_tvalid"),
                 ("s_axis_pixel_tlast", "pixel_tlast"), ("s_axis_pixel_tready", "pixel_tready"),
                 ("m_axis_result_tdata", "result_tdata"), ("m_axis_result_tvalid", "result_tvalid"),
                 ("m_axis_result_tlast", "result_tlast"), ("m_axis_result_tready", "result_tready"),
                 ("cycle_count", "cycle_count")]
        if build.load is not None:  # a loadable accelerator: CONFIG frames go to its configuration stream
            links += [(f"s_axis_config_{p}", f"config_{p}") for p in ("tdata", "tvalid", "tlast", "tready")]
            links += [(f"config_{p}", f"cfg_{p}") for p in ("committed", "hash", "crc_errors", "errors", "refused")]
        for acc_port, host_port in links:
            a, h = getattr(acc, acc_port), getattr(host, host_port)
            m.d.comb += a.eq(h) if acc.signature.members[acc_port].flow is wiring.In else h.eq(a)
        return m
