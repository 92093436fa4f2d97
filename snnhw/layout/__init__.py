"""Layout: place and route of the ASAP7 netlist with OpenROAD, and sign-off after routing.

* :mod:`snnhw.layout.runtime` — where OpenROAD comes from (the PyPI wheel, or a private
  C runtime on systems older than glibc 2.38) and how its process starts;
* :mod:`snnhw.layout.orfix` — the fix for the crash of the 0.0.1 wheel;
* :mod:`snnhw.layout.lef` — LEF views of the project's SRAM macros;
* :mod:`snnhw.layout.floorplan` — die size and the deterministic macro placement;
* :mod:`snnhw.layout.flow` — the flow and its sign-off (``snnhw synth --layout``);
* :mod:`snnhw.layout.picture` — ``layout.png``.

See ``docs/flows.md`` ("Layout").
"""

from typing import Any

__all__ = ["CORNERS", "UNTIL", "LayoutOptions", "run_layout"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``python -m snnhw.layout.runtime`` does not import the runtime twice.
    if name in __all__:
        from snnhw.layout import flow

        return getattr(flow, name)
    raise AttributeError(name)
