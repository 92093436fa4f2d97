"""Mutation check: does the co-simulation suite catch known faults in the generated design?

Each fault of :data:`snnhw.rtl.faults.FAULTS` is switched into the RTL generator
in turn, and the Icarus co-simulation cases of ``tests/test_cosim.py`` run against
the faulty design. A case *catches* a fault when its trace differs from the golden
model, when the stream it carried is malformed, or when the simulation does not
finish. ``tests/test_mutation.py`` runs one catching case per fault in ``make
test``; the whole matrix, which ``docs/testing.md`` records, comes from::

    python -m tests.mutation [--faults a,b] [--out table.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from snnhw.ir import Network
from snnhw.model import simulate
from snnhw.model.trace import first_divergence
from snnhw.rtl.build import resolve_build
from snnhw.rtl.faults import FAULTS, inject

from .activity import inputs_for


@dataclass(frozen=True)
class CosimCase:
    """One co-simulation case: a network, a build and the stream timing."""

    name: str
    network: Network
    config: dict[str, Any] = field(hash=False)
    n: int
    seed: int
    gaps: float = 0.3
    backpressure: float = 0.4

    def run(self, simulator: str = "icarus") -> str | None:
        """``None`` when the hardware matches the golden model bit for bit, else what went wrong."""
        from snnhw.sim.runner import cosim

        x = inputs_for(self.network, self.n, self.seed)
        try:
            trace, _ = cosim(self.network, resolve_build(self.network, self.config), x, simulator=simulator,
                             gaps=self.gaps, backpressure=self.backpressure, seed=self.seed)
        except Exception as err:
            return f"{type(err).__name__}: {err}"
        return first_divergence(self.network, simulate(self.network, x), trace)


def suite_cases() -> list[CosimCase]:
    """The Icarus co-simulation cases of the suite (combination, awkward-size and random networks)."""
    from .fuzz_rtl import case as fuzz_case
    from .test_cosim import AWKWARD
    from .test_golden import COMBINATION_NETWORKS

    cases = []
    for index, net in enumerate(COMBINATION_NETWORKS):
        cases.append(CosimCase(f"combination[{net.name}]-l1", net, {}, 3, index))
        cases.append(CosimCase(f"combination[{net.name}]-l3c2f1", net, {"lanes": 3, "cores": 2, "fifo_depth": 1},
                               3, index + 100))
    for net in AWKWARD:
        cases.append(CosimCase(f"awkward[{net.name}]-l2c3f1", net, {"lanes": 2, "cores": 3, "fifo_depth": 1}, 4, 3))
        cases.append(CosimCase(f"awkward[{net.name}]-lanes-eq-size", net, {"lanes": 64, "fifo_depth": 2}, 4, 3))
    for seed in range(4):
        c = fuzz_case(seed)
        x_seed = seed  # fuzz cases carry their own inputs; wrap them as a case with those inputs
        cases.append(_FuzzCase(f"random[{seed}]", c.network, c.config, len(c.inputs), x_seed, c.gaps,
                               c.backpressure))
    return cases


@dataclass(frozen=True)
class _FuzzCase(CosimCase):
    """A case of ``tests/fuzz_rtl.py`` (its inputs come from the fuzz case, not from ``inputs_for``)."""

    def run(self, simulator: str = "icarus") -> str | None:
        from .fuzz_rtl import check

        try:
            return check(self.seed, simulator)
        except Exception as err:
            return f"{type(err).__name__}: {err}"


def catches(case: CosimCase, fault: str) -> str | None:
    """What ``case`` reports with ``fault`` switched in (``None``: the fault went unnoticed)."""
    with inject(fault):
        return case.run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated faults (default: all)")
    parser.add_argument("--out", help="write the markdown table here as well")
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    cases = suite_cases()
    lines = ["| fault | cases that catch it | first catching case |", "|---|---|---|"]
    matrix: dict[str, dict[str, bool]] = {c.name: {} for c in cases}
    missed = 0
    start = time.monotonic()
    for fault in faults:
        caught = []
        for c in cases:
            why = catches(c, fault)
            matrix[c.name][fault] = why is not None
            if why is not None:
                caught.append((c.name, why.splitlines()[0][:100]))
        missed += not caught
        first = f"`{caught[0][0]}` ({caught[0][1]})" if caught else "**none**"
        lines.append(f"| `{fault}` | {len(caught)} of {len(cases)} | {first} |")
        print(lines[-1], flush=True)
    summary = (f"{len(faults) - missed} of {len(faults)} faults caught; {len(cases)} cases, "
               f"{time.monotonic() - start:.0f} s")
    lines += ["", summary, "", "| case | " + " | ".join(f"`{f}`" for f in faults) + " |",
              "|---|" + "---|" * len(faults)]
    for name, row in matrix.items():
        lines.append(f"| `{name}` | " + " | ".join("caught" if row[f] else "·" for f in faults) + " |")
    text = "\n".join(lines) + "\n"
    print(summary)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
