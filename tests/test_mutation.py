"""The fast subset of the mutation check: each known fault is caught by a co-simulation case of the suite.

For each fault of :data:`snnhw.rtl.faults.FAULTS`, the case below (one of the
suite's own Icarus cases, chosen from the whole matrix of ``python -m
tests.mutation``, recorded in ``docs/testing.md``) must report a difference
against the golden model, a malformed stream or a hang. Without the fault the
same case is bit-exact (it is part of ``tests/test_cosim.py``).
"""

from __future__ import annotations

import pytest

from snnhw.rtl.build import resolve_build
from snnhw.rtl.faults import FAULTS, active, inject
from snnhw.rtl.generate import verilog_text

from .mutation import catches, suite_cases

pytestmark = pytest.mark.slow

KILLERS = {
    "layer_delay": "combination[combo-spike_count-0]-l1",
    "binary_amplitude": "combination[combo-spike_count-0]-l3c2f1",
    "uncapped_amplitude": "combination[combo-spike_count-0]-l1",
    "logical_leak_shift": "combination[combo-spike_count-8]-l1",
    "reversed_additions": "combination[combo-spike_count-0]-l3c2f1",
    "bias_after_inputs": "combination[combo-potential-0]-l1",
    "dropped_eow": "combination[combo-potential-16]-l1",
    "padding_mask_off_by_one": "combination[combo-spike_count-0]-l1",
    "no_forwarding": "combination[combo-spike_count-0]-l3c2f1",
}
CASES = {c.name: c for c in suite_cases()}


def test_every_fault_has_a_killer() -> None:
    assert set(KILLERS) == set(FAULTS)
    assert set(KILLERS.values()) <= set(CASES)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_caught(fault: str) -> None:
    case = CASES[KILLERS[fault]]
    build = resolve_build(case.network, case.config)
    clean = verilog_text(case.network, build)
    with inject(fault):
        assert active(fault)
        assert verilog_text(case.network, build) != clean, "the fault must change this case's design"
    assert not active(fault)
    assert verilog_text(case.network, build) == clean, "outside inject() the design is the default one"
    assert catches(case, fault) is not None, f"{fault} went unnoticed by {case.name}"


def test_unknown_fault_refused() -> None:
    with pytest.raises(KeyError, match="unknown fault"), inject("no_such_fault"):
        pass
