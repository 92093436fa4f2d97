"""Switching activity and connectivity of a mapped netlist: SAIF files and Yosys netlists.

:func:`read_saif` reads a SAIF 2.0 file (as Verilator's ``--trace-saif`` writes
it) into per-net toggle counts (``TC``) and time at one (``T1``), keyed by the
net's hierarchical path below the top instance. :func:`read_netlist` reads a
flat netlist written by Yosys ``write_verilog -noattr -noexpr`` into cell
instances with their pin-to-net connections.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from snnhw.errors import ToolError

__all__ = ["Instance", "Netlist", "Saif", "net_resolver", "read_netlist", "read_saif"]


@dataclass
class Saif:
    """Toggle counts and times at one, per net (``scope/net`` below the top instance; bits as ``net[k]``)."""

    duration: int
    timescale_ps: float
    tc: dict[str, int] = field(default_factory=dict)
    t1: dict[str, int] = field(default_factory=dict)


_TOKEN = re.compile(r'\(|\)|"[^"]*"|[^\s()]+')


def read_saif(path: Path) -> Saif:
    """Parse a SAIF file; raises :class:`~snnhw.errors.ToolError` on a malformed one."""
    text = re.sub(r"^\s*//.*$", "", path.read_text(errors="replace"), flags=re.M)
    tokens = _TOKEN.findall(text)
    pos = 0

    def parse() -> list | str:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok != "(":
            return tok
        items: list = []
        while tokens[pos] != ")":
            items.append(parse())
        pos += 1
        return items

    try:
        tree = parse()
    except (IndexError, RecursionError) as err:
        raise ToolError(f"malformed SAIF file ({type(err).__name__})", source=str(path)) from None
    if not isinstance(tree, list) or not tree or tree[0] != "SAIFILE":
        raise ToolError("not a SAIF file", source=str(path))
    duration, scale = 0, 1.0
    units = {"s": 1e12, "ms": 1e9, "us": 1e6, "ns": 1e3, "ps": 1.0, "fs": 1e-3}
    out = Saif(0, 1.0)
    tops = []
    for item in tree[1:]:
        if not isinstance(item, list) or not item:
            continue
        if item[0] == "DURATION":
            duration = int(float(item[1]))
        elif item[0] == "TIMESCALE":
            m = re.fullmatch(r"([\d.]+)\s*([a-z]*)", " ".join(str(x) for x in item[1:]))
            if m:
                scale = float(m.group(1)) * units.get(m.group(2) or "s", 1.0)
        elif item[0] == "INSTANCE":
            tops.append(item)
    out.duration, out.timescale_ps = duration, scale

    def walk(inst: list, prefix: str) -> None:
        for item in inst[2:]:
            if not isinstance(item, list) or not item:
                continue
            if item[0] == "NET":
                for net in item[1:]:
                    if not isinstance(net, list):
                        continue
                    name = str(net[0]).replace("\\", "")
                    for rec in net[1:]:
                        if isinstance(rec, list) and len(rec) == 2:
                            if rec[0] == "TC":
                                out.tc[prefix + name] = int(rec[1])
                            elif rec[0] == "T1":
                                out.t1[prefix + name] = int(rec[1])
            elif item[0] == "INSTANCE":
                walk(item, prefix + str(item[1]).replace("\\", "") + "/")

    for top in tops:
        walk(top, "")
    return out


@dataclass
class Instance:
    """One cell instance: its type, its name and the net on each of its pins (bits as ``net[k]``)."""

    cell: str
    name: str
    pins: dict[str, list[str]]
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Netlist:
    """A flat mapped netlist: the top's ports, its wire widths and its cell instances."""

    top: str
    ports: dict[str, int]
    widths: dict[str, tuple[int, int]]
    instances: list[Instance]
    assigns: list[tuple[str, str]] = field(default_factory=list)  # (lhs bit, rhs bit)


def net_resolver(netlist: Netlist) -> Callable[[str], str]:
    """A function from a net bit to the bit it is assigned from (through chains of ``assign``), so that
    the bits of one electrical net share one name."""
    alias: dict[str, str] = {}

    def canon(net: str) -> str:
        seen = []
        while net in alias and alias[net] != net:
            seen.append(net)
            net = alias[net]
        for s in seen:
            alias[s] = net
        return net

    for lhs, rhs in netlist.assigns:
        a, b = canon(lhs), canon(rhs)
        if a != b:
            alias[a] = b
    return canon


_MODULE = re.compile(r"^module\s+(\S+)\s*\(", re.M)
_DECL = re.compile(r"^\s*(input|output|inout|wire)\s+(?:\[(\d+):(\d+)\]\s+)?(\S+?)\s*;", re.M)
_INST = re.compile(r"^\s*([A-Za-z_][\w$]*)\s+(?:#\((.*?)\)\s*)?(\\\S+|[A-Za-z_][\w$]*)\s*\((.*?)\);", re.M | re.S)
_ASSIGN = re.compile(r"^\s*assign\s+(.*?)\s*=\s*(.*?)\s*;", re.M | re.S)
_CONN = re.compile(r"\.(\w+)\(\s*(.*?)\s*\)(?=\s*,\s*\.|\s*$)", re.S)


def _bits(expr: str, widths: dict[str, tuple[int, int]]) -> list[str]:
    """The bits of a connection expression, most significant first (constants as ``1'b0``/``1'b1``)."""
    expr = expr.strip()
    if not expr:
        return []
    if expr.startswith("{") and expr.endswith("}"):
        out: list[str] = []
        depth, start = 0, 1
        for k, ch in enumerate(expr[1:-1], start=1):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                out += _bits(expr[start:k], widths)
                start = k + 1
        return out + _bits(expr[start:-1], widths)
    m = re.fullmatch(r"(\d+)'([bhd])([0-9a-fA-FxXzZ_]+)", expr)
    if m:
        width, base, digits = int(m.group(1)), m.group(2), m.group(3).replace("_", "")
        value = int(digits.replace("x", "0").replace("z", "0"), {"b": 2, "h": 16, "d": 10}[base])
        return [f"1'b{(value >> k) & 1}" for k in reversed(range(width))]
    m = re.fullmatch(r"(\\\S+|[\w$]+)\s*\[(\d+)(?::(\d+))?\]", expr)
    if m:
        name = m.group(1).replace("\\", "")
        hi, lo = int(m.group(2)), int(m.group(3) if m.group(3) is not None else m.group(2))
        step = -1 if hi >= lo else 1
        return [f"{name}[{k}]" for k in range(hi, lo + step, step)]
    name = expr.replace("\\", "").strip()
    if name in widths:
        hi, lo = widths[name]
        if hi == lo == 0 and widths[name] == (0, 0):
            return [name]
        step = -1 if hi >= lo else 1
        return [f"{name}[{k}]" for k in range(hi, lo + step, step)]
    return [name]


def read_netlist(path: Path) -> Netlist:
    """Parse a flat Yosys netlist (``write_verilog -noattr -noexpr``) whose top is the last module."""
    text = path.read_text(errors="replace")
    starts = [m.start() for m in _MODULE.finditer(text)]
    if not starts:
        raise ToolError("no module in the netlist", source=str(path))
    body = text[starts[-1]:]
    top = _MODULE.match(body).group(1).replace("\\", "")  # type: ignore[union-attr]
    widths: dict[str, tuple[int, int]] = {}
    ports: dict[str, int] = {}
    for kind, hi, lo, name in _DECL.findall(body):
        name = name.replace("\\", "")
        widths[name] = (int(hi), int(lo)) if hi else (0, 0)
        if kind in ("input", "output", "inout"):
            ports[name] = abs(int(hi) - int(lo)) + 1 if hi else 1
    instances = []
    for cell, params, name, conns in _INST.findall(body):
        if cell in ("module", "input", "output", "wire", "assign", "reg", "endmodule", "inout"):
            continue
        pins = {pin: _bits(expr, widths) for pin, expr in _CONN.findall(conns.strip())}
        inst = Instance(cell, name.replace("\\", "").strip(), pins)
        if params:
            inst.params = dict(re.findall(r"\.(\w+)\((.*?)\)", params, re.S))
        instances.append(inst)
    assigns = []
    for lhs, rhs in _ASSIGN.findall(body):
        left, right = _bits(lhs, widths), _bits(rhs, widths)
        if len(left) == len(right):
            assigns += list(zip(left, right))
    return Netlist(top, ports, widths, instances, assigns)
