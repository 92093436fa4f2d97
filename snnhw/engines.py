"""Engines that run a network on a batch of inputs and return a trace.

Every engine takes the same arguments and returns the same
:class:`~snnhw.model.trace.Trace`, so ``snnhw run --engine NAME`` and the
tests can compare any two engines key by key. The golden model is the
reference; simulator engines (Verilator, Icarus) are registered here by the
RTL package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from snnhw.ir import Network
from snnhw.model.golden import simulate
from snnhw.model.trace import Trace

__all__ = ["ENGINES", "Engine", "run_engine"]


class Engine(Protocol):
    """What an engine is: ``engine(network, inputs, progress=callback) -> Trace``."""

    def __call__(
        self, network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None
    ) -> Trace: ...


def _golden(network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None) -> Trace:
    return simulate(network, inputs, progress=progress)


#: Engines by name, with a one-line description each.
ENGINES: dict[str, tuple[Engine, str]] = {
    "golden": (_golden, "the numpy golden model of the integer semantics (the reference)"),
}


def run_engine(
    name: str, network: Network, inputs: np.ndarray, *, progress: Callable[[int], None] | None = None
) -> Trace:
    """Run engine ``name`` on ``inputs``."""
    engine, _ = ENGINES[name]
    return engine(network, inputs, progress=progress)
