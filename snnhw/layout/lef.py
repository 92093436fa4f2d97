"""LEF views of the project's SRAM macros, for place and route.

The synthesis maps memories to ``snnhw_sp_<D>x<W>`` (single-port) and
``snnhw_tp_<D>x<W>`` (two-port) tiles (:mod:`snnhw.synth.macros`). Place and
route needs an abstract of each: its size, its pins and its power rails. They are
written here, at run time, from the outline of the fakeram7 LEF of the same shape
(``SIZE``; nothing else of that file is used, and nothing of it is copied):

* single-port: the fakeram7 outline;
* two-port: the same width and twice the height, so that its area is the
  :data:`~snnhw.synth.macros.TWO_PORT_AREA_FACTOR` × the single-port area that the
  synthesis reports assume;
* signal pins on M4 along the left edge, one per M4 track (0.048 µm pitch, on
  the asap7 track grid when the macro's origin is on a multiple of 0.048 µm),
  in the order of the fakeram7 files (read data, write data, addresses, enables,
  clock);
* VDD and VSS rails on M4 across the macro, every 0.768 µm, as in fakeram7,
  which the power grid connects to M5;
* obstructions on M1–M3 over the whole macro and on M4 beside the pin column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError
from snnhw.synth.macros import TWO_PORT_AREA_FACTOR, MacroModel

__all__ = ["MacroView", "macro_views", "pins_of", "write_macro_lef"]

#: M4 track pitch and offset of the asap7 platform (``make_tracks.tcl``), µm.
PIN_PITCH = 0.048
PIN_OFFSET = 0.060
PIN_DEPTH = 0.036
PIN_WIDTH = 0.024
#: Power rails: 0.096 µm wide, VSS at 0.768·k, VDD at 0.384 + 0.768·k (fakeram7's pattern).
RAIL_PITCH = 0.768
RAIL_WIDTH = 0.096
#: Clearance between the pin column and the M4 obstruction and rails.
PIN_CLEARANCE = 0.060

@dataclass(frozen=True)
class MacroView:
    """The physical view of one macro cell: name, outline (µm) and pin names, in edge order."""

    name: str
    width_um: float
    height_um: float
    pins: tuple[tuple[str, str], ...]  # (name, INPUT|OUTPUT)


def pins_of(kind: str, depth: int, width: int) -> tuple[tuple[str, str], ...]:
    """The signal pins of a ``"sp"`` or ``"tp"`` tile, in the order they sit along the edge."""
    abits = max(1, (depth - 1).bit_length())
    bus = lambda name, n, d: tuple((f"{name}[{i}]", d) for i in range(n))  # noqa: E731
    if kind == "sp":
        return (bus("rd_out", width, "OUTPUT") + bus("wd_in", width, "INPUT") + bus("addr_in", abits, "INPUT")
                + (("we_in", "INPUT"), ("ce_in", "INPUT"), ("clk", "INPUT")))
    return (bus("rd_out", width, "OUTPUT") + bus("wd_in", width, "INPUT") + bus("rd_addr", abits, "INPUT")
            + bus("wr_addr", abits, "INPUT") + (("rd_ce", "INPUT"), ("wr_ce", "INPUT"), ("we_in", "INPUT"),
                                                 ("clk", "INPUT")))


def _outline(fakeram_dir: Path, model: MacroModel) -> tuple[float, float]:
    """The outline that :func:`snnhw.synth.macros.parse_fakeram` read from the LEF beside the liberty file."""
    if model.outline_um is None:
        lef = fakeram_dir / f"fakeram7_{model.depth}x{model.width}.lef"
        raise ToolError("no fakeram7 LEF with a SIZE statement for this macro shape (place and route needs its "
                        "outline)", source=str(lef))
    return model.outline_um


def macro_views(models: list[MacroModel], fakeram_dir: Path) -> list[MacroView]:
    """The views of every single- and two-port tile of ``models``."""
    views = []
    for m in models:
        w, h = _outline(fakeram_dir, m)
        for kind, factor in (("sp", 1.0), ("tp", TWO_PORT_AREA_FACTOR)):
            height = round(h * factor, 3)
            pins = pins_of(kind, m.depth, m.width)
            need = PIN_OFFSET + PIN_PITCH * len(pins)
            if need > height:
                raise ToolError(f"{len(pins)} pins do not fit on the {height} µm edge of {m.name(kind)}",
                                source=m.source)
            views.append(MacroView(m.name(kind), w, height, pins))
    return views


def _rect(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"RECT {x0:.3f} {y0:.3f} {x1:.3f} {y1:.3f} ;"


def _macro(view: MacroView) -> list[str]:
    w, h = view.width_um, view.height_um
    out = [f"MACRO {view.name}", "  CLASS BLOCK ;", f"  FOREIGN {view.name} 0 0 ;", "  ORIGIN 0 0 ;",
           f"  SIZE {w:.3f} BY {h:.3f} ;", "  SYMMETRY X Y R90 ;"]
    for i, (name, direction) in enumerate(view.pins):
        y = PIN_OFFSET + PIN_PITCH * i
        out += [f"  PIN {name}", f"    DIRECTION {direction} ;", "    USE SIGNAL ;", "    PORT",
                "      LAYER M4 ;", f"        {_rect(0.0, y - PIN_WIDTH / 2, PIN_DEPTH, y + PIN_WIDTH / 2)}",
                "    END", f"  END {name}"]
    x0 = PIN_DEPTH + PIN_CLEARANCE
    for net, use, first in (("VSS", "GROUND", 0.0), ("VDD", "POWER", RAIL_PITCH / 2)):
        rails = []
        y = first
        while y + RAIL_WIDTH <= h:
            rails.append(f"      {_rect(x0, y, w - RAIL_WIDTH, y + RAIL_WIDTH)}")
            y += RAIL_PITCH
        out += [f"  PIN {net}", "    DIRECTION INOUT ;", f"    USE {use} ;", "    PORT", "      LAYER M4 ;",
                *rails, "    END", f"  END {net}"]
    out += ["  OBS"]
    for layer in ("M1", "M2", "M3"):
        out += [f"    LAYER {layer} ;", f"      {_rect(0.0, 0.0, w, h)}"]
    out += ["    LAYER M4 ;", f"      {_rect(x0, 0.0, w, h)}", "  END", f"END {view.name}", ""]
    return out


def write_macro_lef(views: list[MacroView], path: Path) -> Path:
    """Write the LEF of ``views`` to ``path``."""
    lines = ["# snnhw SRAM macro abstracts (generated; outlines from the fakeram7 LEFs of the same shape).",
             "VERSION 5.8 ;", 'BUSBITCHARS "[]" ;', 'DIVIDERCHAR "/" ;', ""]
    for view in views:
        lines += _macro(view)
    lines.append("END LIBRARY")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
