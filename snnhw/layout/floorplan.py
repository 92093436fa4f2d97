"""The floorplan: die and core sized from cell and macro area, and a deterministic macro placement.

Macros are placed by snnhw, not by ``rtl_macro_placer``, so that the placement
is the same on every run (deterministic outputs) and costs no time on designs
with hundreds of macros:

* macros in instance-name order (so the tiles of one memory, and the memories of
  one core, sit together), stacked in columns from the core's left edge up;
* each column as wide as its widest macro, with ``MACRO_PLACE_HALO`` around every
  macro (no standard cells there: the tap-cell step cuts the rows);
* mirrored (``MY``) so that the pin edge faces the standard cells on the right;
* origins on a 0.432 µm × 2.16 µm grid: whole placement sites (0.054 µm) and M5
  tracks (0.048 µm) across, whole rows (0.270 µm) and M4 tracks (0.048 µm) up, so
  every macro pin lies on a routing track.

The core is a square grown in 2 % steps until the area right of the macro columns
holds the standard cells at ``CORE_UTILIZATION``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["GRID_X_UM", "GRID_Y_UM", "Floorplan", "Placement", "plan"]

GRID_X_UM = 0.432
GRID_Y_UM = 2.160
#: Die margin around the core (for the I/O pins and the power-grid edge), µm: a whole number of grid steps.
CORE_MARGIN_UM = 4.32


@dataclass(frozen=True)
class Placement:
    """One macro's placed origin (µm, lower-left of the placed outline) and orientation."""

    instance: str
    master: str
    x_um: float
    y_um: float
    orient: str
    width_um: float
    height_um: float


@dataclass(frozen=True)
class Floorplan:
    """Die and core boxes (µm) and the macro placements."""

    die: tuple[float, float, float, float]
    core: tuple[float, float, float, float]
    macros: tuple[Placement, ...]
    utilization: float
    halo_um: float
    stdcell_region_um2: float


def _up(value: float, grid: float) -> float:
    return round(math.ceil(value / grid - 1e-9) * grid, 3)


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _columns(macros: list[tuple[str, str, float, float]], height: float, halo: float,
             x0: float, y0: float) -> tuple[list[Placement], float] | None:
    """Stack ``macros`` in columns of ``height`` from (x0, y0); None when one macro is taller than a column."""
    placed: list[Placement] = []
    x, y, column_width = _up(x0 + halo, GRID_X_UM), y0 + halo, 0.0
    for inst, master, w, h in macros:
        if _up(y0 + halo, GRID_Y_UM) + h + halo > y0 + height:
            return None
        ys = _up(y, GRID_Y_UM)
        if ys + h + halo > y0 + height:
            x, ys, column_width = _up(x + column_width + 2 * halo, GRID_X_UM), _up(y0 + halo, GRID_Y_UM), 0.0
        placed.append(Placement(inst, master, x, ys, "MY", w, h))
        column_width = max(column_width, w)
        y = ys + h + 2 * halo
    right = max((p.x_um + p.width_um + halo for p in placed), default=x0)
    return placed, right - x0


def plan(stdcell_area_um2: float, macros: list[tuple[str, str, float, float]], *, utilization: float,
         halo_um: float) -> Floorplan:
    """Size the core and place ``macros`` (instance, master, width, height in µm).

    Parameters
    ----------
    stdcell_area_um2:
        Standard-cell area of the netlist.
    utilization:
        ``CORE_UTILIZATION`` as a fraction: standard-cell area over the area left to standard cells.
    halo_um:
        Keep-out around every macro (``MACRO_PLACE_HALO``).
    """
    if not 0 < utilization < 1:
        raise ValueError("utilization must be between 0 and 1")
    ordered = sorted(macros, key=lambda m: _natural(m[0]))
    need = stdcell_area_um2 / utilization
    halo_area = sum((w + 2 * halo_um) * (h + 2 * halo_um) for _, _, w, h in ordered)
    side = _up(math.sqrt(need + halo_area), GRID_Y_UM)
    x0 = y0 = CORE_MARGIN_UM
    while True:
        result = _columns(ordered, side, halo_um, x0, y0) if ordered else ([], 0.0)
        if result is not None:
            placed, macro_width = result
            region = (side - macro_width) * side
            if macro_width < side and region >= need:
                break
        side = _up(side * 1.02, GRID_Y_UM)
    core = (x0, y0, round(x0 + side, 3), round(y0 + side, 3))
    die = (0.0, 0.0, round(core[2] + CORE_MARGIN_UM, 3), round(core[3] + CORE_MARGIN_UM, 3))
    return Floorplan(die, core, tuple(placed), utilization, halo_um, region)
