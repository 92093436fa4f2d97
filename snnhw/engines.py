"""Engines that run a network on a batch of inputs and return a trace.

Every engine takes the same arguments and returns the same
:class:`~snnhw.model.trace.Trace`, so ``snnhw run --engine NAME`` and the
tests can compare any two engines key by key. The golden model is the
reference; the simulator engines generate the accelerator's Verilog, simulate
it and record the trace from the hardware's own streams: ``verilator`` from a
compiled C++ harness (:mod:`snnhw.sim.batch`, the fast one), ``cocotb-verilator``
and ``icarus`` through the cocotb bench. All three drive the streams the same
way and give identical traces, cycle counts included. Hardware options (a :class:`~snnhw.rtl.build.Build`)
only matter to the simulator engines and never change a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from snnhw.ir import Network
from snnhw.model.golden import simulate
from snnhw.model.trace import Trace

__all__ = ["ENGINES", "SIMULATOR_OF", "Engine", "run_engine"]


class Engine(Protocol):
    """What an engine is: ``engine(network, inputs, progress=callback, build=None) -> Trace``."""

    def __call__(
        self, network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None,
        build: Any = None,
    ) -> Trace: ...


def _golden(network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None,
            build: Any = None) -> Trace:
    return simulate(network, inputs, progress=progress)


def _simulator(name: str) -> Engine:
    def engine(network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None,
               build: Any = None) -> Trace:
        from snnhw.rtl.build import resolve_build

        build = build if build is not None else resolve_build(network)
        if name == "verilator":
            from snnhw.sim.batch import batch_sim

            trace, _ = batch_sim(network, build, inputs, progress=progress)
            return trace
        from snnhw.sim.runner import cosim

        trace, _ = cosim(network, build, inputs, simulator=SIMULATOR_OF[name], progress=progress)
        return trace

    return engine


#: The simulator each hardware engine runs on.
SIMULATOR_OF = {"verilator": "verilator", "cocotb-verilator": "verilator", "icarus": "icarus"}

#: Engines by name, with a one-line description each.
ENGINES: dict[str, tuple[Engine, str]] = {
    "golden": (_golden, "the numpy golden model of the integer semantics (the reference)"),
    "verilator": (_simulator("verilator"), "the generated Verilog on Verilator from a compiled C++ harness (fast)"),
    "cocotb-verilator": (_simulator("cocotb-verilator"), "the generated Verilog on Verilator through cocotb"),
    "icarus": (_simulator("icarus"), "the generated Verilog on Icarus Verilog through cocotb"),
}


def run_engine(
    name: str, network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None,
    build: Any = None,
) -> Trace:
    """Run engine ``name`` on ``inputs`` (``build``: a resolved build, for the simulator engines)."""
    engine, _ = ENGINES[name]
    return engine(network, inputs, progress=progress, build=build)
