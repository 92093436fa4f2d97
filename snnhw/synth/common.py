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

__all__ = ["Memory", "cell_counts", "count", "macro_fanout", "memories", "read_stat", "render", "replicas_in_json",
           "replicas_in_verilog", "synthesis_copy", "template_text"]

_MEMORY = re.compile(r"^\s*reg \[(\d+):0\] (\w+) \[(\d+):0\];", re.MULTILINE)
_MODULE = re.compile(r"^module \\?(\S+)", re.MULTILINE)
_INIT_BLOCK = re.compile(r"^  initial begin\n((?:    \w+\[\d+\] = \d+'(?:h[0-9a-fA-F]+|d\d+);\n)+)  end\n", re.MULTILINE)
_INIT_LINE = re.compile(r"    (\w+)\[(\d+)\] = \d+'([hd])([0-9a-fA-F]+);")


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


def synthesis_copy(run_dir: Path, top: str, guest_dir: str = "/run") -> str:
    """Write ``<top>_synth.v``: the generated Verilog with each memory image moved to a ``$readmemh`` file.

    Amaranth writes memory contents as one ``initial`` assignment per word; Yosys's
    Verilog front end takes minutes on the 10⁴–10⁵ words of a large weight memory
    (superlinearly), but reads the same contents from a hex file in a second. Only
    ``initial`` blocks that assign one memory's words 0, 1, 2, … in order are moved
    (files ``mem/<n>_<memory>.hex``, read at ``guest_dir``); everything else is
    copied unchanged, so the design is the same. Returns the file name.
    """
    text = (run_dir / f"{top}.v").read_text()
    mem_dir = run_dir / "mem"
    mem_dir.mkdir(exist_ok=True)
    counter = [0]

    def move(match: re.Match[str]) -> str:
        words = _INIT_LINE.findall(match.group(1))
        names = {name for name, _, _, _ in words}
        if len(names) != 1 or any(int(addr) != i for i, (_, addr, _, _) in enumerate(words)):
            return match.group(0)
        name = names.pop()
        file = f"{counter[0]}_{name}.hex"
        counter[0] += 1
        values = (value if base == "h" else f"{int(value):x}" for _, _, base, value in words)
        atomic_write_text(mem_dir / file, "\n".join(values) + "\n")
        return f'  initial $readmemh("{guest_dir}/mem/{file}", {name});\n'

    out = _INIT_BLOCK.sub(move, text)
    name = f"{top}_synth.v"
    atomic_write_text(run_dir / name, out)
    return name


_COPY_WIRE = re.compile(r"^\s*wire\s+(?:\[[^\]]*\]\s*)?(\S+_copy)\s*;", re.M)
_COPY_ALIAS = re.compile(r"^\s*assign\s+(\S+_copy)\b[^=;]*=\s*(\S+_copy)\b", re.M)


def replicas_in_verilog(netlist: str) -> dict[str, int]:
    """Replicated registers (kept nets named ``*_copy``) in a mapped Verilog netlist.

    ``registers`` counts the copies; ``merged`` those that synthesis folded into another copy (the
    netlist then ties the copy to the other one with an ``assign``).
    """
    names = set(_COPY_WIRE.findall(netlist))
    merged = {match.group(1) for match in _COPY_ALIAS.finditer(netlist)}
    return {"registers": len(names), "merged": len(merged & names)}


def replicas_in_json(netlist: dict[str, Any], top: str) -> dict[str, int]:
    """As :func:`replicas_in_verilog`, for a Yosys JSON netlist: a copy is merged when its bits are
    those of another copy."""
    nets = netlist.get("modules", {}).get(top, {}).get("netnames", {})
    seen: set[tuple[int, ...]] = set()
    registers = merged = 0
    for name in sorted(nets):
        if not name.endswith("_copy"):
            continue
        registers += 1
        bits = tuple(b for b in nets[name]["bits"] if isinstance(b, int))
        if bits in seen:
            merged += 1
        seen.add(bits)
    return {"registers": registers, "merged": merged}


_TIE = re.compile(r"TIE(?:HI|LO)\w*\s+\S+\s*\(\s*\.[HL]\(([^)]+)\)")
_MACRO = re.compile(r"\n\s*(snnhw_[st]p_\w+)\s+\S+\s*\((.*?)\);", re.S)
_PIN = re.compile(r"\.(\w+)\(([^()]*)\)")


def macro_fanout(netlist: str) -> dict[str, Any]:
    """The net that drives the input pins of the most SRAM macros in a mapped ASAP7 netlist.

    Each macro counts once per net (a bus slice such as ``addr [5:0]`` loads every bit once);
    constants and the nets of tie cells (``hilomap``) are left out. Returns ``max_loads`` and ``net``.
    """
    ties = set(_TIE.findall(netlist))
    loads: dict[str, int] = {}
    for match in _MACRO.finditer(netlist):
        for pin, net in _PIN.findall(match.group(2)):
            if pin == "clk" or pin.endswith("out"):
                continue
            for part in re.split(r",\s*", net.strip("{} \n")):
                part = part.strip()
                if part and "'" not in part and part not in ties:
                    loads[part] = loads.get(part, 0) + 1
    if not loads:
        return {"max_loads": 0, "net": None}
    net = max(sorted(loads), key=lambda k: loads[k])
    return {"max_loads": loads[net], "net": net}

