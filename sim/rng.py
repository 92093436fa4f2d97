"""The stream benches' random source, identical in Python (the cocotb bench) and C++ (the batch harness)."""

from __future__ import annotations

__all__ = ["SplitMix64"]

_MASK = (1 << 64) - 1


class SplitMix64:
    """The stream benches' random source (Steele, Lea and Flood's SplitMix64), identical in C++ and Python.

    ``random()`` is a float in [0, 1) from the top 53 bits of the next output, as the harness computes it.
    """

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK

    def next(self) -> int:
        """The next 64-bit output."""
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1)."""
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)
