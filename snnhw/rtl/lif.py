"""Combinational LIF arithmetic shared by the cores: ``sat``, ``leak`` and ``fire``.

Each function builds Amaranth expressions for one lane and is a direct
transcription of ``docs/semantics.md``; the golden model is its twin.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Mux, Value

from snnhw.ir import Layer, LeakKind, Reset

__all__ = ["fire", "leak", "sat"]


def sat(value: Value, bits: int) -> Value:
    """Clamp ``value`` to the signed ``bits``-bit range, as a ``signed(bits)`` value."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    clamped = Mux(value > hi, hi, Mux(value < lo, lo, value))
    return clamped[:bits].as_signed()


def leak(v: Value, layer: Layer) -> Value:
    """``leak(V)`` of the layer: none, ``V − (V >> k)`` or ``V >> k`` (arithmetic shifts; never leaves the range)."""
    if layer.leak.kind is LeakKind.NONE:
        return v
    if layer.leak.kind is LeakKind.SHIFT:
        return (v - (v >> layer.leak.shift))[: layer.potential_bits].as_signed()
    return v >> layer.leak.shift


def fire(v: Value, layer: Layer) -> tuple[Value, Value]:
    """``fire(V)``: return ``(amplitude, V after the reset)``; amplitude 0 means no spike.

    With ``reset: subtract`` the amplitude ``min(V div θ, 2^A − 1)`` and the
    remainder come from an A-step restoring division by the constant θ (each
    step compares against ``θ·2^b``), which yields exactly the capped quotient
    and ``V − c·θ``. With ``reset: zero`` the amplitude is 1 and V becomes 0.
    """
    bits = layer.potential_bits
    theta = layer.threshold
    if layer.reset is Reset.ZERO:
        spike = v >= theta
        return Mux(spike, 1, 0), Mux(spike, 0, v)[:bits].as_signed()
    rem: Value = v
    amp_bits = []
    for b in reversed(range(layer.amplitude_bits)):
        step = theta << b
        take = rem >= step
        rem = Mux(take, rem - step, rem)
        amp_bits.append(take)
    return Cat(*reversed(amp_bits)), rem[:bits].as_signed()
