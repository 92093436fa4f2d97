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

from snnhw.layout.flow import CORNERS, UNTIL, LayoutOptions, run_layout

__all__ = ["CORNERS", "UNTIL", "LayoutOptions", "run_layout"]
