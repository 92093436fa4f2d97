"""Pieces shared by the synthesis flows: templates, the memory inventory, Yosys statistics."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError

__all__ = ["Memory", "cell_counts", "memories", "read_stat", "render", "template_text"]

_MEMORY = re.compile(r"^\s*reg \[(\d+):0\] (\w+) \[(\d+):0\];", re.MULTILINE)
_MODULE = re.compile(r"^module \\?(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Memory:
    """One memory array of the generated Verilog."""

    module: str
    name: str
    width: int
    depth: int

    @property
    def bits(self) -> int:
        """Capacity in bits."""
        return self.width * self.depth


def template_text(name: str) -> str:
    """Text of the flow template ``name`` (a path under ``flows/``, e.g. ``"xcup/synth.ys"``)."""
    return resources.files("snnhw.flows").joinpath(name).read_text()


def render(name: str, out: Path, **fields: Any) -> Path:
    """Fill the template ``name`` with ``fields`` and write it atomically to ``out``."""
    text = Template(template_text(name)).substitute({k: str(v) for k, v in fields.items()})
    atomic_write_text(out, text)
    return out


def memories(verilog: str) -> list[Memory]:
    """Every memory array (``reg [W-1:0] name [D-1:0];``) of the generated Verilog, by module."""
    out = []
    starts = [(m.start(), m.group(1)) for m in _MODULE.finditer(verilog)]
    for match in _MEMORY.finditer(verilog):
        module = ""
        for start, name in starts:
            if start > match.start():
                break
            module = name
        out.append(Memory(module=module, name=match.group(2), width=int(match.group(1)) + 1,
                          depth=int(match.group(3)) + 1))
    return out


def read_stat(path: Path) -> dict[str, Any]:
    """The whole-design section of a Yosys ``stat -json`` report."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ToolError(f"Yosys statistics unreadable ({err})", source=str(path)) from None
    design = data.get("design")
    if design is None:  # a single module
        modules = data.get("modules", {})
        if len(modules) != 1:
            raise ToolError("Yosys statistics have no design section", source=str(path))
        design = next(iter(modules.values()))
    return dict(design)


def cell_counts(stat: dict[str, Any]) -> dict[str, int]:
    """Cell type → count from a Yosys ``stat -json`` design section (escapes stripped)."""
    return {str(k).lstrip("\\"): int(v) for k, v in stat.get("num_cells_by_type", {}).items()}


def count(cells: dict[str, int], *patterns: str) -> int:
    """Total of the cells whose type matches any of the regular expressions ``patterns`` (full match)."""
    regex = re.compile("|".join(f"(?:{p})" for p in patterns))
    return sum(n for name, n in cells.items() if regex.fullmatch(name))
