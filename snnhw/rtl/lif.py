"""Combinational LIF arithmetic shared by the cores: ``sat``, ``leak`` and ``fire``.

Each function builds the logic of one lane and is a direct transcription of
``docs/semantics.md``; the golden model is its twin. ``sat`` and ``fire`` give
every intermediate value its own signal: an expression used several times
would otherwise be copied into the netlist once per use, and chained stages
(``fire`` with 8 amplitude bits, ``sat`` of ``leak`` of ``sat``) multiply those
copies.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed

from snnhw.ir import Layer, LeakKind, Reset
from snnhw.rtl import faults

__all__ = ["fire", "leak", "sat", "sat_add"]


def sat(m: Module, value: Value, bits: int, name: str = "sat") -> Value:
    """Clamp ``value`` to the signed ``bits``-bit range; returns a ``signed(bits)`` signal.

    The value is in range exactly when its bits from ``bits − 1`` up to the sign are all equal,
    so the clamp is a narrow reduction and a mux (no comparator carry chains); the sign picks
    the bound.
    """
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    wide = Signal(signed(max(len(value) + 1, bits + 1)), name=f"{name}_in")
    out = Signal(signed(bits), name=name)
    top = wide[bits - 1:]
    in_range = (top == 0) | (top == (1 << len(top)) - 1)
    m.d.comb += [wide.eq(value), out.eq(Mux(in_range, wide[:bits].as_signed(), Mux(wide[-1], lo, hi)))]
    return out


def sat_add(m: Module, a: Value, b: Value, bits: int, name: str = "sat") -> Value:
    """``sat(a + b)`` to the signed ``bits``-bit range, for signed ``a`` and ``b`` of at most ``bits`` bits:
    a ``bits``-bit adder whose overflow (operands of one sign, a sum of the other) picks the bound — one
    carry chain a bit shorter than the widened sum's, and no range check after it. Other operands
    take :func:`sat` of the widened sum."""
    if not (a.shape().signed and b.shape().signed and len(a) <= bits and len(b) <= bits):
        return sat(m, a + b, bits, name=name)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    x, y = Signal(signed(bits), name=f"{name}_a"), Signal(signed(bits), name=f"{name}_b")
    total = Signal(signed(bits), name=f"{name}_sum")
    out = Signal(signed(bits), name=name)
    over = (x[-1] == y[-1]) & (total[-1] != x[-1])
    m.d.comb += [x.eq(a), y.eq(b), total.eq(x + y), out.eq(Mux(over, Mux(x[-1], lo, hi), total))]
    return out


def leak(v: Value, layer: Layer, shift: Value | int | None = None) -> Value:
    """``leak(V)`` of the layer: none, ``V − (V >> k)`` or ``V >> k`` (arithmetic shifts; never leaves the range).
    ``shift``: k as a run-time value (a loadable design's register; default the layer's constant)."""
    if layer.leak.kind is LeakKind.NONE:
        return v
    if shift is not None and not isinstance(shift, int):
        shifted = v >> shift  # a barrel shifter; arithmetic, as v is signed
        if layer.leak.kind is LeakKind.SHIFT:
            return (v - shifted)[: layer.potential_bits].as_signed()
        return shifted[: layer.potential_bits].as_signed()
    k = layer.leak.shift
    shifted = v >> k
    if faults.active("logical_leak_shift"):
        shifted = Cat(v.as_unsigned() >> k, Const(0, k)).as_signed()
    if layer.leak.kind is LeakKind.SHIFT:
        return (v - shifted)[: layer.potential_bits].as_signed()
    return shifted


def fire(m: Module, v: Value, layer: Layer, name: str = "fire") -> tuple[Value, Value]:
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
    if faults.active("binary_amplitude"):
        spike = v >= theta
        return Mux(spike, 1, 0), Mux(spike, v - theta, v)[:bits].as_signed()
    steps = layer.amplitude_bits
    if faults.active("uncapped_amplitude"):
        steps = min(bits, layer.amplitude_bits + 8)
    rem: Value = v
    amp_bits = []
    for b in reversed(range(steps)):
        step = theta << b
        take = Signal(name=f"{name}_take{b}")
        nxt = Signal(signed(bits), name=f"{name}_rem{b}")
        m.d.comb += [take.eq(rem >= step), nxt.eq(Mux(take, rem - step, rem))]
        rem = nxt
        amp_bits.append(take)
    amp = Cat(*reversed(amp_bits))
    return (amp[: layer.amplitude_bits] if steps > layer.amplitude_bits else amp), rem
