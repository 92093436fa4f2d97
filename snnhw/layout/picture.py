"""``layout.png``: the die drawn from the routed DEF with matplotlib.

Macros as outlined boxes, standard-cell density as a heat map (cells per bin),
and the clock tree's buffers (``clkbuf*``/``clkload*`` from clock tree synthesis)
as dots. Component sizes come from the DEF's own placement; a macro's outline
from the LEF written beside it (``macros.lef``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PlacedDesign", "draw_layout", "read_def"]

_UNITS = re.compile(r"^UNITS DISTANCE MICRONS (\d+)", re.M)
_DIE = re.compile(r"^DIEAREA\s+\(\s*(-?\d+)\s+(-?\d+)\s*\)\s+\(\s*(-?\d+)\s+(-?\d+)\s*\)", re.M)
_COMPONENT = re.compile(r"^\s*-\s+(\S+)\s+(\S+)(?:[^;]*?)\+\s+(?:PLACED|FIXED|FIRM|COVER)\s+\(\s*(-?\d+)\s+(-?\d+)\s*\)\s+(\S+)",
                        re.M)
_LEF_MACRO = re.compile(r"^MACRO (\S+)\n(?:.*\n)*?\s*SIZE ([\d.]+) BY ([\d.]+) ;", re.M)


@dataclass(frozen=True)
class PlacedDesign:
    """A DEF's die box (µm) and its placed components: (name, master, x, y in µm, orientation)."""

    die: tuple[float, float, float, float]
    components: list[tuple[str, str, float, float, str]]


def read_def(path: Path) -> PlacedDesign:
    """Die box (µm) and the placed components (name, master, x, y in µm, orientation) of a DEF."""
    text = path.read_text(errors="replace")
    units = _UNITS.search(text)
    die = _DIE.search(text)
    if not units or not die:
        raise ValueError(f"{path}: not a placed DEF (no UNITS or DIEAREA)")
    dbu = float(units.group(1))
    section = text[text.find("\nCOMPONENTS"):text.find("\nEND COMPONENTS")]
    components = [(m.group(1), m.group(2), int(m.group(3)) / dbu, int(m.group(4)) / dbu, m.group(5))
                  for m in _COMPONENT.finditer(section)]
    x0, y0, x1, y1 = (int(v) / dbu for v in die.groups())
    return PlacedDesign((x0, y0, x1, y1), components)


def draw_layout(def_path: Path, png: Path, *, title: str = "", bins: int = 60) -> Path:
    """Draw ``def_path`` into ``png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    data = read_def(def_path)
    x0, y0, x1, y1 = data.die
    components = data.components
    lef = def_path.parent.parent / "macros.lef"
    sizes = {m.group(1): (float(m.group(2)), float(m.group(3)))
             for m in _LEF_MACRO.finditer(lef.read_text())} if lef.is_file() else {}
    cells = np.array([(x, y) for _, master, x, y, _ in components
                      if master not in sizes and not master.startswith(("FILLER", "DECAP", "TAPCELL"))]).reshape(-1, 2)
    clock = np.array([(x, y) for name, _, x, y, _ in components
                      if name.startswith(("clkbuf", "clkload"))]).reshape(-1, 2)
    fig, ax = plt.subplots(figsize=(7, 7 * (y1 - y0) / max(x1 - x0, 1e-9) + 0.6))
    if len(cells):
        hist, _, _ = np.histogram2d(cells[:, 0], cells[:, 1], bins=bins, range=[[x0, x1], [y0, y1]])
        image = ax.imshow(hist.T, origin="lower", extent=(x0, x1, y0, y1), cmap="Blues", aspect="equal")
        fig.colorbar(image, ax=ax, fraction=0.04, label="standard cells per bin")
    for _, master, x, y, orient in components:
        if master in sizes:
            w, h = sizes[master]
            if orient in ("R90", "R270", "MXR90", "MYR90", "E", "W", "FE", "FW"):
                w, h = h, w
            ax.add_patch(Rectangle((x, y), w, h, fill=True, facecolor="#f4a261", edgecolor="#9c4a1a", lw=0.6,
                                   alpha=0.85))
    if len(clock):
        ax.scatter(clock[:, 0], clock[:, 1], s=3, c="#d62828", label=f"clock-tree buffers ({len(clock)})")
        ax.legend(loc="upper right", fontsize=8)
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black", lw=1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("µm")
    ax.set_ylabel("µm")
    macros = sum(1 for c in components if c[1] in sizes)
    ax.set_title(f"{title}\n{x1 - x0:.1f} × {y1 - y0:.1f} µm, {macros} SRAM macros (orange), {len(cells)} cells",
                 fontsize=9)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=130)
    plt.close(fig)
    return png
