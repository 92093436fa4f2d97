"""A wide event counter with a pipelined carry.

A 32-bit counter incremented in one cycle is a 32-bit carry chain: the longest
path of the design on UltraScale+ (eight carry cells in a row). This counter
is built of 8-bit segments; a segment's carry into the next one is a register,
so no path crosses more than one segment. The upper segments therefore lag
the lower ones by a cycle each, and the output realigns them with delay
registers: ``value`` is the exact count as it stood :attr:`Counter.latency`
cycles earlier.
"""

from __future__ import annotations

import math

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SEGMENT_BITS", "Counter", "counter_latency"]

#: Width of one segment of the counter.
SEGMENT_BITS = 8


def counter_latency(width: int) -> int:
    """Cycles by which a :class:`Counter` of ``width`` bits trails the events it counts."""
    return math.ceil(width / SEGMENT_BITS) - 1


class Counter(wiring.Component):
    """Counts the cycles in which ``en`` is high; ``value`` wraps at ``2**width``.

    Parameters
    ----------
    width:
        Counter width in bits.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.segments = math.ceil(width / SEGMENT_BITS)
        super().__init__({"en": In(1), "value": Out(width)})

    @property
    def latency(self) -> int:
        """Cycles by which ``value`` trails the events (0 for a counter of one segment)."""
        return counter_latency(self.width)

    def elaborate(self, platform) -> Module:
        m = Module()
        n = self.segments
        inc = self.en
        parts = []
        for k in range(n):
            bits = min(SEGMENT_BITS, self.width - k * SEGMENT_BITS)
            seg = Signal(bits, name=f"seg{k}")
            with m.If(inc):
                m.d.sync += seg.eq(seg + 1)
            if k < n - 1:
                carry = Signal(name=f"carry{k}")  # segment k wraps: segment k + 1 counts one a cycle later
                m.d.sync += carry.eq(inc & (seg == (1 << bits) - 1))
                inc = carry
            out = seg
            for d in range(n - 1 - k):  # realign: segment k trails segment n − 1 by n − 1 − k cycles
                reg = Signal(bits, name=f"seg{k}_d{d + 1}")
                m.d.sync += reg.eq(out)
                out = reg
            parts.append(out)
        m.d.comb += self.value.eq(Cat(*parts))
        return m
