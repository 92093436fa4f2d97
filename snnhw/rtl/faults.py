"""Known faults that can be switched into the generated design, for mutation checks of the test suite.

A co-simulation suite earns trust only if it fails on a wrong design. Each name
in :data:`FAULTS` is a small, plausible bug in the RTL generator; inside
``with inject(name):`` the generator builds the design with that bug, and
outside it nothing changes (the default design is what every other code path
gets, byte for byte). ``tests/mutation.py`` runs co-simulation cases against
each fault and records which cases catch which fault (``docs/testing.md``).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["FAULTS", "active", "inject"]

#: The known faults and what each one does to the design.
FAULTS: dict[str, str] = {
    "layer_delay": "a dense layer takes its input events one step late (a one-step delay between layers)",
    "binary_amplitude": "fire emits amplitude 1 and subtracts θ once, whatever V div θ is",
    "uncapped_amplitude": "fire does not cap the amplitude at 2^A − 1 (the quotient wraps to A bits)",
    "logical_leak_shift": "the leak shifts the potential right logically instead of arithmetically",
    "reversed_additions": "a core emits a row's spikes from the highest lane down, so the next layer adds "
                          "them in reverse order",
    "bias_after_inputs": "a dense layer adds its bias after the step's input events instead of before",
    "dropped_eow": "a core drops the end-of-window token of a window in which it emitted no spike",
    "padding_mask_off_by_one": "the last-row lane mask is one lane short: a core's last neuron never emits",
    "no_forwarding": "the read-modify-write forwarding path is missing (a row read in the cycle after its write "
                     "sees the stale word)",
}

_ACTIVE: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("snnhw_faults", default=frozenset())


def active(name: str) -> bool:
    """Whether fault ``name`` is switched on for the design being built."""
    if name not in FAULTS:
        raise KeyError(f"unknown fault {name!r}")
    return name in _ACTIVE.get()


@contextlib.contextmanager
def inject(*names: str) -> Iterator[None]:
    """Build designs with the faults ``names`` inside the ``with`` block."""
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise KeyError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    token = _ACTIVE.set(_ACTIVE.get() | frozenset(names))
    try:
        yield
    finally:
        _ACTIVE.reset(token)
