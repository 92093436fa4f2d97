"""Power data of standard cells, read from liberty files with ``liberty-parser``.

For every cell: its area, its leakage averaged over the states the library lists
(``leakage_power`` groups with a ``when``; the unconditional group where there is
no state), whether it is sequential, and per pin

* input pins: capacitance, whether it is a clock pin, and the internal energy of
  one transition of the pin (``internal_power`` under the pin, averaged over its
  ``when`` states, summed over the power and ground pins), a function of the
  pin's input slew;
* output pins: the internal energy of one output transition (``internal_power``
  under the pin, averaged over its related input pins and states, summed over
  power and ground pins), a function of input slew and output load.

A rise and a fall are kept apart: one toggle is half a rise and half a fall on
average. Units are the library's: energy in fJ (V · fF), capacitance in fF,
leakage in pW, time in ps (checked for ASAP7). Parsed libraries are cached as
JSON under the user cache, keyed by the file's SHA-256 (the 20 MB ASAP7 files
take tens of seconds to parse).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError

__all__ = ["CellPower", "Library", "PinPower", "Table", "load_library"]

log = logging.getLogger(__name__)

#: Bump when the cached form changes.
_CACHE_VERSION = 1


@dataclass(frozen=True)
class Table:
    """A 1-D (slew) or 2-D (slew × load) NLDM table; lookups interpolate bilinearly and clamp at the edges."""

    index_1: tuple[float, ...]
    index_2: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]

    def at(self, slew: float, load: float = 0.0) -> float:
        v = np.asarray(self.values, dtype=float)
        if len(self.index_1) == 0:
            return float(v.reshape(-1)[0])
        if v.ndim == 1 or (v.shape[0] == 1 and len(self.index_2) == 0):
            return float(np.interp(slew, self.index_1, v.reshape(-1)))
        if len(self.index_2) == 0:
            return float(np.interp(slew, self.index_1, v[:, 0]))
        rows = [np.interp(load, self.index_2, v[k]) for k in range(len(self.index_1))]
        return float(np.interp(slew, self.index_1, rows))

    def at_many(self, slew: float, loads: np.ndarray) -> np.ndarray:
        """:meth:`at` for many loads at one slew (bilinear interpolation is separable: slew first, then load)."""
        loads = np.asarray(loads, dtype=float)
        v = np.asarray(self.values, dtype=float)
        if len(self.index_1) == 0 or len(self.index_2) == 0 or v.ndim == 1 or v.shape[1] == 1:
            return np.full(loads.shape, self.at(slew))
        cols = np.array([np.interp(slew, self.index_1, v[:, k]) for k in range(v.shape[1])])
        return np.interp(loads, self.index_2, cols)

    def to_json(self) -> dict[str, Any]:
        return {"i1": list(self.index_1), "i2": list(self.index_2), "v": [list(r) for r in self.values]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Table:
        return cls(tuple(d["i1"]), tuple(d["i2"]), tuple(tuple(r) for r in d["v"]))


@dataclass(frozen=True)
class PinPower:
    """Internal energy (fJ) of a pin's transitions: each entry is one (related pin, state) case, every power and
    ground pin's table of that case summed; the energy of a transition is the mean over the cases."""

    rise: tuple[tuple[Table, ...], ...] = ()
    fall: tuple[tuple[Table, ...], ...] = ()

    def energy(self, slew: float, load: float = 0.0) -> tuple[float, float]:
        """Mean internal energy (fJ) of one rise and of one fall."""
        def mean(cases: tuple[tuple[Table, ...], ...]) -> float:
            if not cases:
                return 0.0
            return float(np.mean([sum(t.at(slew, load) for t in case) for case in cases]))
        return mean(self.rise), mean(self.fall)

    def energy_many(self, slew: float, loads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`energy` for many loads at one slew."""
        loads = np.asarray(loads, dtype=float)

        def mean(cases: tuple[tuple[Table, ...], ...]) -> np.ndarray:
            if not cases:
                return np.zeros(loads.shape)
            per_case = [np.sum([t.at_many(slew, loads) for t in case], axis=0) for case in cases]
            return np.asarray(np.mean(per_case, axis=0))
        return mean(self.rise), mean(self.fall)

    def to_json(self) -> dict[str, Any]:
        return {"rise": [[t.to_json() for t in c] for c in self.rise], "fall": [[t.to_json() for t in c] for c in self.fall]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PinPower:
        return cls(tuple(tuple(Table.from_json(t) for t in c) for c in d["rise"]),
                   tuple(tuple(Table.from_json(t) for t in c) for c in d["fall"]))


@dataclass
class CellPower:
    """What the energy model needs of one cell."""

    name: str
    area: float
    leakage_pw: float
    sequential: bool
    inputs: dict[str, float] = field(default_factory=dict)  # pin → capacitance (fF)
    clocks: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    power: dict[str, PinPower] = field(default_factory=dict)  # pin → internal energy of its transitions

    def to_json(self) -> dict[str, Any]:
        return {"area": self.area, "leakage_pw": self.leakage_pw, "sequential": self.sequential,
                "inputs": self.inputs, "clocks": sorted(self.clocks), "outputs": sorted(self.outputs),
                "power": {k: v.to_json() for k, v in self.power.items()}}

    @classmethod
    def from_json(cls, name: str, d: dict[str, Any]) -> CellPower:
        return cls(name, d["area"], d["leakage_pw"], d["sequential"], dict(d["inputs"]), set(d["clocks"]),
                   set(d["outputs"]), {k: PinPower.from_json(v) for k, v in d["power"].items()})


@dataclass
class Library:
    """Cells of one or more liberty files, with the nominal voltage and the units checked."""

    voltage: float
    cells: dict[str, CellPower]
    files: list[str]


def _numbers(text: Any) -> list[float]:
    out: list[float] = []
    for part in str(text).replace('"', " ").replace("\\", " ").replace(",", " ").split():
        try:
            out.append(float(part))
        except ValueError:
            continue
    return out


def _attr(group: Any, name: str, default: Any = None) -> Any:
    for a in group.attributes:
        if a.name == name:
            return a.value
    return default


def _table(group: Any) -> Table:
    i1 = tuple(_numbers(_attr(group, "index_1", "")))
    i2 = tuple(_numbers(_attr(group, "index_2", "")))
    raw = _attr(group, "values", "")
    rows = raw if isinstance(raw, list) else [raw]
    values = [tuple(_numbers(r)) for r in rows]
    flat = [x for r in values for x in r]
    if i1 and i2 and len(flat) == len(i1) * len(i2):
        values = [tuple(flat[k * len(i2):(k + 1) * len(i2)]) for k in range(len(i1))]
    elif i1 and len(flat) == len(i1):
        values = [(x,) for x in flat]
    return Table(i1, i2 if len(values) and len(values[0]) == len(i2) else (), tuple(values))


def _pin_power(groups: list[Any]) -> PinPower:
    # cases keyed by (related pin, when); each case sums its power and ground pins' tables
    rise: dict[tuple[str, str], list[Table]] = {}
    fall: dict[tuple[str, str], list[Table]] = {}
    for g in groups:
        key = (str(_attr(g, "related_pin", "")).strip('"'), str(_attr(g, "when", "")).strip('"'))
        for h in g.groups:
            if h.group_name == "rise_power":
                rise.setdefault(key, []).append(_table(h))
            elif h.group_name == "fall_power":
                fall.setdefault(key, []).append(_table(h))
    return PinPower(tuple(tuple(v) for v in rise.values()), tuple(tuple(v) for v in fall.values()))


def _cell(group: Any) -> CellPower:
    name = str(group.args[0]).strip('"')
    leak_states: dict[str, float] = {}
    unconditional = 0.0
    for g in group.groups:
        if g.group_name == "leakage_power":
            when = str(_attr(g, "when", "")).strip('"')
            value = float(_numbers(_attr(g, "value", 0))[0])
            if when:
                leak_states[when] = leak_states.get(when, 0.0) + value
            else:
                unconditional += value
    leakage = float(np.mean(list(leak_states.values()))) if leak_states else unconditional
    if not leak_states and not unconditional:
        leakage = float(_numbers(_attr(group, "cell_leakage_power", 0))[0]) if _attr(group, "cell_leakage_power") else 0.0
    cell = CellPower(name, float(_attr(group, "area", 0.0)), leakage,
                     any(g.group_name in ("ff", "latch", "ff_bank", "latch_bank") for g in group.groups))
    for pin in group.groups:
        if pin.group_name != "pin":
            continue
        pname = str(pin.args[0]).strip('"')
        direction = str(_attr(pin, "direction", "")).strip('"')
        if direction == "input":
            cell.inputs[pname] = float(_numbers(_attr(pin, "capacitance", 0))[0]) if _attr(pin, "capacitance") else 0.0
            if str(_attr(pin, "clock", "false")).strip('"') == "true":
                cell.clocks.add(pname)
        elif direction == "output":
            cell.outputs.add(pname)
        powers = [g for g in pin.groups if g.group_name == "internal_power"]
        if powers:
            cell.power[pname] = _pin_power(powers)
    return cell


def _parse(path: Path) -> dict[str, Any]:
    try:
        from liberty.parser import parse_liberty
    except ImportError:
        raise ToolError("liberty-parser is not installed: pip install 'snnhw[power]'") from None
    log.info("parsing %s (cached afterwards)", path)
    lib = parse_liberty(path.read_text(errors="replace"))
    units = {a.name: str(a.value).strip('"') for a in lib.attributes
             if a.name in ("time_unit", "leakage_power_unit", "voltage_unit")}
    cap = _attr(lib, "capacitive_load_unit")
    volt = _attr(lib, "nom_voltage")
    if units.get("time_unit") != "1ps" or units.get("leakage_power_unit") != "1pW" or \
            not (isinstance(cap, list) and float(cap[0]) == 1 and str(cap[1]).lower() == "ff"):
        raise ToolError(f"the energy model needs a library in ps, pW and fF, got {units} and capacitance {cap}",
                        source=str(path))
    return {"version": _CACHE_VERSION, "voltage": float(volt),
            "cells": {c.name: c.to_json() for c in map(_cell, lib.get_groups("cell"))}}


def load_library(paths: list[Path], cache: Path | None = None) -> Library:
    """Read (or load from the cache) the power data of the cells in ``paths``."""
    from snnhw.sim.runner import cache_dir

    where = cache if cache is not None else cache_dir() / "liberty"
    cells: dict[str, CellPower] = {}
    voltages = set()
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
        cached = where / f"{path.stem}-{digest}.json"
        data = None
        if cached.exists():
            try:
                data = json.loads(cached.read_text())
                if data.get("version") != _CACHE_VERSION:
                    data = None
            except ValueError:
                data = None
        if data is None:
            data = _parse(path)
            os.makedirs(where, exist_ok=True)
            atomic_write_text(cached, json.dumps(data))
        voltages.add(data["voltage"])
        for name, d in data["cells"].items():
            cells[name] = CellPower.from_json(name, d)
    if len(voltages) != 1:
        raise ToolError(f"the libraries disagree about their nominal voltage: {sorted(voltages)}")
    return Library(voltages.pop(), cells, [str(p) for p in paths])
