"""A UART (8 data bits, no parity, 1 stop bit) with stream interfaces, in Amaranth.

``divisor`` is the number of clock cycles per bit, ``clock / baud``: an integer,
or a fraction (:class:`fractions.Fraction`) when the clock is not a multiple of
the baud rate. A fractional divisor ``q + r/b`` gives each bit ``q`` or ``q + 1``
cycles, chosen by an accumulator as a line-drawing algorithm does, so that the
bit edges stay within one clock cycle of where the exact rate puts them: at
100 MHz and 3 Mbaud (33⅓ cycles per bit) a bit lasts 33, 33 then 34 cycles.
The receiver synchronises its line through two flip-flops, finds a start bit on
a falling edge, samples each bit in its middle and checks the stop bit: a byte
whose stop bit is low (a framing error, for example a break or a baud-rate
mismatch) is dropped and counted. The receiver cannot hold the line back, so
its output stream must be ready within one byte time; a byte not taken by then
is lost and counted as an overrun.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from amaranth.hdl import Module, Signal, Value, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["BitTimer", "UARTReceiver", "UARTTransmitter", "bit_periods"]


def _parts(divisor: Fraction | int) -> tuple[int, int, int]:
    d = Fraction(divisor)
    if d < 4:
        raise ValueError(f"a UART needs at least 4 clock cycles per bit, got {d}")
    q = d.numerator // d.denominator
    return q, d.numerator - q * d.denominator, d.denominator


def bit_periods(divisor: Fraction | int) -> Iterator[int]:
    """The cycles of successive bits at ``divisor`` cycles per bit, as :class:`BitTimer` times them from a
    restart: the model that test benches drive and sample a line with."""
    q, r, b = _parts(divisor)
    acc = 0
    while True:
        acc += r
        yield q + (acc >= b)
        acc -= b if acc >= b else 0


class BitTimer:
    """Reloads of a bit-period down-counter: ``reload(m)`` sets ``timer`` to the next bit's cycles less one,
    ``q - 1`` or ``q`` (see :func:`bit_periods`); ``restart(m)`` returns the accumulator to 0."""

    def __init__(self, divisor: Fraction | int, timer: Signal) -> None:
        self.q, self.r, self.b = _parts(divisor)
        self.timer = timer
        self.acc = Signal(range(max(self.b, 2)), name="bit_acc") if self.r else None

    def next_period(self) -> Value:
        if self.acc is None:
            return Value.cast(self.q - 1)
        return Value.cast(self.q - 1) + (self.acc + self.r >= self.b)

    def reload(self, m: Module) -> None:
        m.d.sync += self.timer.eq(self.next_period())
        if self.acc is not None:
            bump = self.acc + self.r >= self.b
            m.d.sync += self.acc.eq(self.acc + self.r - (bump * self.b))

    def restart(self, m: Module) -> None:
        if self.acc is not None:
            m.d.sync += self.acc.eq(0)


class UARTTransmitter(wiring.Component):
    """Serialises the bytes of stream ``i`` onto ``tx`` (idle high)."""

    def __init__(self, divisor: Fraction | int) -> None:
        self.divisor = Fraction(divisor)
        _parts(self.divisor)
        super().__init__({"i": In(stream.Signature(unsigned(8))), "tx": Out(1, init=1)})

    def elaborate(self, platform) -> Module:
        m = Module()
        timer = Signal(range(int(self.divisor) + 1))
        bits_timer = BitTimer(self.divisor, timer)
        shift = Signal(10, init=0x3FF)  # stop bit, 8 data bits (LSB first), start bit
        bits = Signal(range(11))
        # the next byte is taken as the stop bit ends, so bytes sent back to back leave no idle cycle
        m.d.comb += [self.tx.eq(shift[0]), self.i.ready.eq((bits == 0) | ((bits == 1) & (timer == 0)))]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [shift.eq(self.i.payload << 1 | (1 << 9)), bits.eq(10)]
            bits_timer.reload(m)
        with m.Elif(bits != 0):
            with m.If(timer == 0):
                m.d.sync += [shift.eq(shift >> 1 | (1 << 9)), bits.eq(bits - 1)]
                bits_timer.reload(m)
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class UARTReceiver(wiring.Component):
    """Deserialises ``rx`` into the bytes of stream ``o``.

    ``framing_errors`` and ``overruns`` count dropped bytes (they wrap).
    """

    def __init__(self, divisor: Fraction | int) -> None:
        self.divisor = Fraction(divisor)
        _parts(self.divisor)
        super().__init__({"rx": In(1, init=1), "o": Out(stream.Signature(unsigned(8))),
                          "framing_errors": Out(8), "overruns": Out(8)})

    def elaborate(self, platform) -> Module:
        m = Module()
        sync_ff = Signal(2, init=0b11)
        m.d.sync += sync_ff.eq(sync_ff << 1 | self.rx)
        line = sync_ff[1]
        q = int(self.divisor)
        timer = Signal(range(q + 1))  # a bit's cycles less one (q − 1 or q), or half a bit's
        bits_timer = BitTimer(self.divisor, timer)
        bit = Signal(range(9))
        shift = Signal(8)
        full = Signal()
        data = Signal(8)
        m.d.comb += [self.o.valid.eq(full), self.o.payload.eq(data)]
        with m.If(self.o.ready & full):
            m.d.sync += full.eq(0)

        with m.FSM():
            with m.State("IDLE"), m.If(~line):
                # the middle of the start bit, then a whole bit to the middle of bit 0
                m.d.sync += [timer.eq(q // 2 - 1), bit.eq(0)]
                bits_timer.restart(m)
                m.next = "START"
            with m.State("START"):
                with m.If(timer == 0):
                    with m.If(line):  # a glitch, not a start bit
                        m.next = "IDLE"
                    with m.Else():
                        bits_timer.reload(m)
                        m.next = "DATA"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("DATA"):
                with m.If(timer == 0):
                    m.d.sync += [shift.eq(line << 7 | shift >> 1), bit.eq(bit + 1)]
                    bits_timer.reload(m)
                    with m.If(bit == 7):
                        m.next = "STOP"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("STOP"):
                with m.If(timer == 0):
                    with m.If(line):
                        with m.If(full & ~self.o.ready):
                            m.d.sync += self.overruns.eq(self.overruns + 1)
                        with m.Else():
                            m.d.sync += [data.eq(shift), full.eq(1)]
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += self.framing_errors.eq(self.framing_errors + 1)
                        m.next = "BREAK"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("BREAK"), m.If(line):
                # wait for the line to return high before looking for the next start bit
                    m.next = "IDLE"
        return m
