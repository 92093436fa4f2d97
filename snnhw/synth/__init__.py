"""Synthesis flows: UltraScale+ and ECP5 (Yosys, nextpnr), ASAP7 (Yosys + OpenSTA), OpenROAD-flow-scripts.

:func:`synthesize` generates the accelerator for a network and build, runs one
target's open-source flow and writes ``report.json`` and ``report.md``;
:func:`compare` tabulates and plots several runs. See ``docs/flows.md``.
"""

from snnhw.synth.flow import DEFAULT_CLOCK_MHZ, TARGETS, synthesize
from snnhw.synth.report import compare, load_report

__all__ = ["DEFAULT_CLOCK_MHZ", "TARGETS", "compare", "load_report", "synthesize"]
