"""Golden models (numpy only; never imports Amaranth).

* :func:`simulate` — the bit-exact integer semantics of a whole network;
* :mod:`snnhw.model.stream` — the differential-time token codec and the
  spike-merge model;
* :class:`Trace` — what every engine returns, saved in the trace file format.
"""

from snnhw.model.golden import simulate
from snnhw.model.stream import decode, encode, merge, pack, unpack
from snnhw.model.trace import LayerStats, Trace, check_inputs, compare_traces, load_inputs, load_trace

__all__ = [
    "LayerStats",
    "Trace",
    "check_inputs",
    "compare_traces",
    "decode",
    "encode",
    "load_inputs",
    "load_trace",
    "merge",
    "pack",
    "simulate",
    "unpack",
]
