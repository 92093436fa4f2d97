"""``snnhw synth``: generate the accelerator, run one target's flow, write one report.

A run directory holds the generated Verilog and ``metadata.json``, the tool
scripts and logs, and ``report.json`` / ``report.md`` (schema in
``docs/flows.md``). Every figure is a plain number, or ``null`` where it does not
apply to the target; ``units`` and ``sources`` name the unit of each figure and
the tool and stage it came from.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from snnhw import __version__
from snnhw._io import atomic_write_text
from snnhw.errors import BuildError, InputError, ToolError
from snnhw.ir import Network
from snnhw.model import simulate
from snnhw.netgen import random_inputs
from snnhw.rtl.build import Build
from snnhw.rtl.cycles import event_bound, input_events_from_trace, sample_cycles, steady_cycles
from snnhw.rtl.generate import TOP_NAME, build_hash, generate
from snnhw.synth.report import render_markdown

__all__ = ["DEFAULT_CLOCK_MHZ", "SCHEMA", "TARGETS", "performance", "synthesize"]

log = logging.getLogger(__name__)

#: Report schema identifier.
SCHEMA = "snnhw.synth-report/1"
#: The targets of ``snnhw synth``.
TARGETS = ("xcup", "ecp5", "asap7")
#: Default target clocks (MHz): xcup is an assumption (no open UltraScale+ timing), ecp5 is nextpnr's target
#: (the report gives the achieved Fmax), asap7 is OpenSTA's target (the report gives Fmax from the worst path).
DEFAULT_CLOCK_MHZ = {"xcup": 250.0, "ecp5": 100.0, "asap7": 1500.0}
#: Samples of random inputs for the cycle model when no inputs are given.
RANDOM_SAMPLES = 64

FPGA_KEYS = ("lut", "ff", "carry", "dsp", "bram36_equiv", "uram", "ebr", "logic_depth", "fmax_mhz")
ASIC_KEYS = ("area_um2", "sequential_area_um2", "macro_area_um2", "macro_count", "cells", "clock_gates",
             "clock_period_ps", "wns_ps", "tns_ps", "fmax_mhz", "corner")
UNITS = {
    "fpga.lut": "cells", "fpga.ff": "cells", "fpga.carry": "cells", "fpga.dsp": "cells",
    "fpga.bram36_equiv": "RAMB36 (a RAMB18 counts 0.5)", "fpga.uram": "URAM288", "fpga.ebr": "DP16KD",
    "fpga.logic_depth": "cells on the longest register-to-register path", "fpga.fmax_mhz": "MHz",
    "asic.area_um2": "um2", "asic.sequential_area_um2": "um2", "asic.macro_area_um2": "um2", "asic.cells": "cells",
    "asic.macro_count": "SRAM macro instances", "asic.clock_gates": "ICG cells",
    "asic.clock_period_ps": "ps", "asic.wns_ps": "ps", "asic.tns_ps": "ps", "asic.fmax_mhz": "MHz",
    "performance.cycles_per_sample": "cycles", "performance.cycles_per_sample_measured": "cycles",
    "performance.event_bound_cycles": "cycles",
    "performance.latency_cycles": "cycles", "performance.clock_mhz": "MHz", "performance.latency_us": "us",
    "performance.samples_per_s": "samples/s",
}


def _events(network: Network, x: np.ndarray) -> np.ndarray:
    trace = simulate(network, x)
    return input_events_from_trace(network, trace.events, len(x))


def performance(network: Network, build: Build, x: np.ndarray, clock_mhz: float, clock_source: str, *,
                inputs_label: str, cosim: int = 0, progress: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``performance`` section: cycles from the model (and, with ``cosim``, Verilator) at ``clock_mhz``."""
    events = _events(network, x)
    per_sample, latency = sample_cycles(network, build, events, x)
    perf: dict[str, Any] = {
        "cycles_per_sample": per_sample,
        "event_bound_cycles": float(event_bound(network, build, events).mean()) if len(x) else 0.0,
        "cycles_per_sample_measured": None,
        "latency_cycles": latency,
        "samples": len(x),
        "inputs": inputs_label,
        "clock_mhz": clock_mhz,
        "clock_source": clock_source,
    }
    sources = {
        "performance.cycles_per_sample": f"cycle model, back to back, golden-model event counts on {inputs_label}",
        "performance.latency_cycles": "cycle model, one sample alone through the empty accelerator",
        "performance.event_bound_cycles": ("mean over the samples of the largest layer's spike-forced rows: "
                                           "encoder T·R, dense (input events + T)·R"),
        "performance.clock_mhz": clock_source,
    }
    if cosim:
        from snnhw.model.trace import first_divergence
        from snnhw.program import boot_frames
        from snnhw.sim.runner import cosim as run_cosim

        xs = x[:cosim]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(xs), desc="verilator co-simulation", unit="sample", leave=False)
        try:
            boot = boot_frames(network, build)  # an empty loadable design is loaded first
            trace, counters = run_cosim(network, build, xs, simulator="verilator", config=boot,
                                        target=network if boot else None,
                                        progress=bar.update if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        where = first_divergence(network, simulate(network, xs), trace)
        if where is not None:
            raise ToolError(f"co-simulation differs from the golden model: {where}")
        perf["cycles_per_sample_measured"] = steady_cycles(counters["end"], float(counters["total"]))
        perf["cosim_samples"] = len(xs)
        perf["cosim_bit_exact"] = True
        sources["performance.cycles_per_sample_measured"] = (
            f"Verilator co-simulation of {len(xs)} samples back to back (bit-exact against the golden model), "
            "steady state: (end of sample N − end of sample 1) / (N − 1)")
    cycles = perf["cycles_per_sample_measured"] or per_sample
    # No clock (a tool that found no clocked path) leaves the times null rather than failing.
    perf["latency_us"] = latency / clock_mhz if clock_mhz else None
    perf["samples_per_s"] = clock_mhz * 1e6 / cycles if clock_mhz and cycles else None
    sources["performance.latency_us"] = "latency_cycles / clock_mhz"
    sources["performance.samples_per_s"] = "clock_mhz / cycles_per_sample" + (" (measured)" if cosim else "")
    return perf, sources


def _inputs(network: Network, inputs: np.ndarray | None) -> tuple[np.ndarray, str]:
    if inputs is not None:
        return np.asarray(inputs, dtype=np.int64), f"{len(inputs)} given inputs"
    return random_inputs(network, RANDOM_SAMPLES, 0), f"{RANDOM_SAMPLES} random uniform inputs (seed 0)"


def synthesize(
    network: Network,
    build: Build,
    target: str,
    out: str | os.PathLike[str],
    *,
    clock_mhz: float | None = None,
    corner: str = "FF",
    pdk: str | None = None,
    fakeram: str | None = None,
    part: str | None = None,
    seed: int | None = None,
    inputs: np.ndarray | None = None,
    cosim: int = 0,
    clock_gating: bool | None = None,
    orfs: bool = False,
    layout: Any = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Generate ``network`` under ``build`` into ``out``, run ``target``'s flow, write ``report.json``/``.md``.

    Parameters
    ----------
    target:
        ``"xcup"``, ``"ecp5"`` or ``"asap7"``.
    clock_mhz:
        Target clock; defaults to :data:`DEFAULT_CLOCK_MHZ`.
    corner, pdk, fakeram:
        ASAP7 corner (``FF`` or ``TT``), liberty directory and fakeram7 directory.
    part:
        FPGA part (ECP5: ``LFE5U-85F`` by default; UltraScale+: the part named in the Vivado script).
    seed:
        ECP5: nextpnr's placement seed (default :data:`snnhw.synth.ecp5.SEED`).
    inputs:
        Samples whose golden-model event counts drive the cycle model (default: random inputs).
    cosim:
        Also co-simulate the first ``cosim`` samples on Verilator and report measured cycles.
    clock_gating:
        ASAP7 only: put flip-flops that share an enable behind ICG cells (Yosys ``clockgate``; default on,
        off with ``layout``, whose detailed routing took longer with gated clocks; ``docs/flows.md``).
    orfs:
        ASAP7 only: also write (and, with ``FLOW_HOME`` set, run) an OpenROAD-flow-scripts design.
    layout:
        ASAP7 only: a :class:`snnhw.layout.LayoutOptions`; place and route the netlist with OpenROAD and
        sign it off after routing (the ``layout`` section; the headline clock becomes the post-route one).

    Returns
    -------
    dict
        The report (also written to ``out/report.json``).
    """
    if target not in TARGETS:
        raise InputError(f"unknown target; choose one of {', '.join(TARGETS)}", key="--target", value=target)
    if orfs and target != "asap7":
        raise InputError("--orfs applies to --target asap7 only", key="--orfs")
    if layout is not None:
        if target != "asap7":
            raise InputError("--layout applies to --target asap7 only", key="--layout")
        from snnhw.layout.flow import find_platform
        from snnhw.layout.runtime import find_openroad
        from snnhw.synth.asap7 import find_liberty

        # fail in one line before the long synthesis when OpenROAD or the platform files are missing
        find_openroad()
        find_platform(find_liberty(pdk), layout.platform)
    if target == "asap7":
        for index, layer in enumerate(build.layers):
            if layer.memory == "distributed":
                raise BuildError("ASAP7 has SRAM macros (block) and flip-flops (registers), no distributed RAM; "
                                 "choose auto, block or registers", key=f"layers.{index}.memory", value=layer.memory)
    clock = float(clock_mhz if clock_mhz is not None else DEFAULT_CLOCK_MHZ[target])
    if not clock > 0:
        raise InputError("must be positive", key="--clock-mhz", value=clock)
    if target == "ecp5" and part is not None:
        from snnhw.synth.ecp5 import PARTS

        if part not in PARTS:
            raise InputError(f"unknown ECP5 part; choose one of {', '.join(PARTS)}", key="--part", value=part)
    x, inputs_label = _inputs(network, inputs)
    if cosim > len(x):
        raise InputError(f"more co-simulated samples than inputs ({len(x)})", key="--cosim", value=cosim)
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    generate(network, build, run_dir)
    result: dict[str, Any]
    if target == "xcup":
        from snnhw.synth.xcup import DEFAULT_PART as XCUP_PART
        from snnhw.synth.xcup import run_xcup

        result = run_xcup(run_dir, TOP_NAME, clock_mhz=clock, part=part or XCUP_PART, progress=progress)
        clock_used, clock_source = clock, "assumed"
    elif target == "ecp5":
        from snnhw.synth.ecp5 import DEFAULT_PART as ECP5_PART
        from snnhw.synth.ecp5 import run_ecp5

        result = run_ecp5(run_dir, TOP_NAME, clock_mhz=clock, part=part or ECP5_PART, seed=seed, progress=progress)
        clock_used, clock_source = result["fpga"]["fmax_mhz"], "measured:nextpnr"
    else:
        from snnhw.synth.asap7 import run_asap7

        # ICG clock gating by default, except for place and route (slower detailed routing with it)
        gating = clock_gating if clock_gating is not None else layout is None
        result = run_asap7(run_dir, TOP_NAME, clock_mhz=clock, corner=corner, pdk=pdk, fakeram=fakeram,
                           progress=progress, clock_gating=gating)
        clock_used, clock_source = result["asic"]["fmax_mhz"], "measured:opensta"
        if layout is not None:
            from snnhw.layout.flow import run_layout

            placed = run_layout(run_dir, result, layout, pdk=pdk, fakeram=fakeram, progress=progress)
            result["layout"] = placed
            if placed["fmax_mhz"] is not None:
                clock_used = placed["fmax_mhz"]
                clock_source = f"measured:openroad ({placed['stage']}, {placed['corner']}, with parasitics)"
    perf, perf_sources = performance(network, build, x, clock_used, clock_source, inputs_label=inputs_label,
                                     cosim=cosim, progress=progress)
    fpga = {k: result.get("fpga", {}).get(k) for k in FPGA_KEYS} if target != "asap7" else {k: None for k in FPGA_KEYS}
    asic = {k: result.get("asic", {}).get(k) for k in ASIC_KEYS} if target == "asap7" else {k: None for k in ASIC_KEYS}
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "target": target,
        "target_clock_mhz": clock,
        "network": {"name": network.name, "sha256": network.content_hash(), "layers": [layer.size for layer in network.layers],
                    "input_size": network.input.size, "time_steps": network.time_steps},
        "build": build.to_json() | {"sha256": build_hash(build)},
        "tools": {"snnhw": __version__} | result["tools"],
        "fpga": fpga,
        "asic": asic,
        "performance": perf,
        "details": {k: v for k, v in result.get("fpga", result.get("asic", {})).items()
                    if k not in FPGA_KEYS and k not in ASIC_KEYS},
        "units": {k: v for k, v in UNITS.items() if not k.startswith("fpga" if target == "asap7" else "asic")},
        "sources": dict(sorted((result["sources"] | perf_sources).items())),
        "notes": result.get("notes", []),
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        "runtime_s": None,
    }
    if "pdk" in result:
        report["pdk"] = result["pdk"]
    if "layout" in result:
        from snnhw.layout.flow import LAYOUT_SOURCES, LAYOUT_UNITS

        report["layout"] = result["layout"]
        report["units"] |= LAYOUT_UNITS
        report["sources"] = dict(sorted((report["sources"] | LAYOUT_SOURCES).items()))
    if orfs:
        from snnhw.synth.orfs import run_orfs, write_orfs

        # the constraint of --layout: the netlist's pre-layout Fmax at the run's corner
        files = write_orfs(run_dir, TOP_NAME, network=network.name, network_hash=network.content_hash(),
                           build_hash=build_hash(build), clock_mhz=float(report["asic"]["fmax_mhz"]), corner=corner,
                           pdk=pdk, fakeram=fakeram)
        routed = run_orfs(run_dir, TOP_NAME, f"snnhw_{network.content_hash()[:8]}", progress=progress)
        report["orfs"] = {"config": str(files["config"].resolve()), "ran": routed is not None, "metrics": routed}
        if routed is None:
            report["notes"].append(f"ORFS design written to {files['config'].parent}; run it with "
                                   f"make -C $FLOW_HOME DESIGN_CONFIG={files['config'].resolve()} "
                                   "(or set FLOW_HOME and pass --orfs again).")
        else:
            report["sources"]["orfs.metrics"] = "OpenROAD-flow-scripts final report (6_report.json)"
    # Wall time is tool timing noise: recorded beside the figures, never compared.
    report["runtime_s"] = round(time.monotonic() - started, 1)
    atomic_write_text(run_dir / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(run_dir / "report.md", render_markdown(report))
    log.info("report written to %s", run_dir / "report.json")
    return report
