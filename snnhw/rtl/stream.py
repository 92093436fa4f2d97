"""Spike streams: the valid/ready differential-time token stream and its layouts.

A spike stream carries tokens ``(dt, idx, amp)`` (``dt`` in the low bits, then
``idx``, then ``amp``, as :func:`snnhw.model.stream.pack`), one window after
another, each window closed by the end-of-window token ``(0, 0, 0)``. It uses
:class:`amaranth.lib.stream.Signature`: ``payload``, ``valid``, ``ready``; a
transfer happens in a cycle where both are high, and ``valid`` never depends
on ``ready``.

Inside a layer split into several cores, the cores' streams carry one more
bit, ``tick``: a tick token ``(dt, 0, 0, tick=1)`` says "this core has emitted
every spike up to step t", which lets a merge unit forward a busy core's
spikes while another core is silent. Ticks never leave the layer.
"""

from __future__ import annotations

from amaranth.hdl import unsigned
from amaranth.lib import data, stream

from snnhw.ir import StreamWidths

__all__ = ["core_layout", "spike_signature", "token_layout", "value_layout"]


def token_layout(widths: StreamWidths) -> data.StructLayout:
    """The token layout ``{dt, idx, amp}`` of a layer's spike stream (``dt`` at the LSB)."""
    return data.StructLayout({"dt": unsigned(widths.dt), "idx": unsigned(widths.idx), "amp": unsigned(widths.amp)})


def core_layout(widths: StreamWidths) -> data.StructLayout:
    """The token layout of a core's stream inside a layer: ``{dt, idx, amp, tick}``."""
    return data.StructLayout({"dt": unsigned(widths.dt), "idx": unsigned(widths.idx), "amp": unsigned(widths.amp),
                              "tick": unsigned(1)})


def value_layout(idx_bits: int, value_bits: int) -> data.StructLayout:
    """Layout of the final-potential stream of a ``readout: potential`` layer: ``{idx, value, last}``."""
    return data.StructLayout({"idx": unsigned(idx_bits), "value": unsigned(value_bits), "last": unsigned(1)})


def spike_signature(layout: data.StructLayout) -> stream.Signature:
    """A valid/ready stream signature carrying ``layout``."""
    return stream.Signature(layout)
