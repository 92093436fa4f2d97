"""Energy of a mapped ASAP7 netlist from its switching activity.

Inputs: the flat netlist (:func:`~snnhw.power.activity.read_netlist`), per-net
toggle counts from a gate-level simulation (:func:`~snnhw.power.activity.read_saif`),
the cells' power data (:func:`~snnhw.power.liberty.load_library`) and the SRAM
macro shapes. The model, term by term:

* **internal energy** of each standard cell: for every output transition, the
  cell's ``internal_power`` table at the assumed input slew and the output's
  load (rise and fall each half of the toggles); for every transition of an
  input pin that has ``internal_power`` (clock pins, and data pins' passive
  power), that pin's table at the assumed slew. *Modelled* from the liberty.
* **switching energy**: ½·C·V² per transition of every net, C the sum of the
  input-pin capacitances it drives (cells and macros). No wire capacitance
  exists before layout: *missing*, see :data:`WIRE_NOTE`.
* **leakage**: each cell's state-averaged ``leakage_power`` times the run time
  at the modelled clock.
* **SRAM**: reads and writes counted in the macro models, times an energy per
  access from :class:`SramModel`; leakage per bit. *Assumed* (the fakeram7
  liberty power figures are placeholders).

The split: ``sequential`` (flip-flops: their outputs, data pins and the nets they
drive), ``combinational`` (every other cell), ``clock`` (clock pins' internal
energy and the clock net), ``leakage``, ``sram``. Activity comes from a
zero-delay simulation, so glitches are not counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from snnhw.power.activity import Netlist, Saif, net_resolver
from snnhw.power.liberty import Library

__all__ = ["DEFAULT_SLEW_PS", "SLEW_RANGE_PS", "WIRE_NOTE", "SramModel", "net_energy"]

#: Input slew assumed at every pin (ps): no timing analysis of slews is run before layout.
DEFAULT_SLEW_PS = 20.0
#: Slews the sensitivity of the result is reported at.
SLEW_RANGE_PS = (10.0, 40.0)
#: What the pre-layout model leaves out.
WIRE_NOTE = ("no wire capacitance and no clock tree exist before layout: switching energy counts pin capacitance "
             "only, and the clock net drives flip-flop clock pins directly (a clock tree adds buffers and wire)")


@dataclass(frozen=True)
class SramModel:
    """Energy of SRAM macro accesses, scaled with the macro's size.

    Per access (read or write) of a ``depth × width`` macro:
    ``E = E_ref · (width / 64) · sqrt(bytes / 8192) · tech``, with ``E_ref`` = 10 pJ for a 64-bit access
    of an 8 KB SRAM in 45 nm (M. Horowitz, "Computing's energy problem (and what we can do about it)",
    ISSCC 2014, where 8 KB costs 10 pJ and 32 KB 20 pJ: energy grows with the square root of the capacity)
    and ``tech`` = (7 / 45) · (0.7 V / 0.9 V)² ≈ 0.094, the C·V² scaling from 45 nm at 0.9 V to 7 nm at
    0.7 V. Leakage: ``leak_pw_per_bit`` per bit. Both are assumptions; ``range`` is the factor band the
    report gives around them.
    """

    e_ref_pj: float = 10.0
    ref_bytes: int = 8192
    tech: float = (7 / 45) * (0.7 / 0.9) ** 2
    leak_pw_per_bit: float = 20.0
    range: tuple[float, float] = (0.5, 2.0)

    def access_pj(self, depth: int, width: int) -> float:
        return self.e_ref_pj * (width / 64) * math.sqrt(depth * width / 8 / self.ref_bytes) * self.tech

    def leakage_pw(self, depth: int, width: int) -> float:
        return self.leak_pw_per_bit * depth * width


#: The prefix of a loadable design's datapath (the cores under their own reset domain, ``snnhw.rtl.top``).
DATAPATH_PREFIX = "datapath."


def _core_name(name: str) -> str:
    """``name`` as it reads in a fixed design (``datapath.l1_core0.wmem`` -> ``l1_core0.wmem``)."""
    return name[len(DATAPATH_PREFIX):] if name.startswith(DATAPATH_PREFIX) else name


def _layer_of(name: str) -> int | None:
    name = _core_name(name)
    if name.startswith("l") and "_" in name:
        head = name[1:name.index("_")]
        if head.isdigit():
            return int(head)
    return None


def macro_place(instance: str) -> tuple[str, str]:
    """The memory an SRAM macro instance belongs to and its depth slice in the mapping: the name without
    the mapper's ``.<depth slice>.<column>`` suffixes (``l0_core0.imem0.0.1`` -> ``("l0_core0.imem0", "0")``;
    a memory of one depth slice has no suffix or a column only). A macro of a stack
    (:func:`snnhw.synth.macros.macro_techmap`, ``….bank<i>``) is in depth slice ``<slice>.<i>``
    (``l0_core0.xmem00.0.2.bank3`` -> ``("l0_core0.xmem00", "0.3")``): a read touches one macro of a stack.
    A loadable design's ``datapath.`` prefix is dropped."""
    parts = _core_name(instance).split(".")
    bank = None
    if len(parts) > 1 and parts[-1].startswith("bank") and parts[-1][4:].isdigit():
        bank = parts.pop()[4:]
    suffix: list[str] = []
    while len(parts) > 1 and parts[-1].isdigit():
        suffix.insert(0, parts.pop())
    depth_slice = suffix[0] if len(suffix) >= 2 else "0"
    return ".".join(parts), depth_slice if bank is None else f"{depth_slice}.{bank}"


def net_energy(netlist: Netlist, saif: Saif, library: Library, *, scope: str, sim_period_ps: float,
               clock_period_ps: float, macro_shapes: dict[str, tuple[int, int]], macro_pin_cap_ff: dict[str, float],
               slew_ps: float = DEFAULT_SLEW_PS, sram: SramModel | None = None) -> dict[str, Any]:
    """Energy (fJ) of the whole simulated run, split by kind and by layer, with the activity counts.

    ``scope`` is the SAIF path of the netlist's top (``"snnhw_top/"``); ``sim_period_ps`` the clock
    period of the simulation (to count cycles and accesses from SAIF times); ``clock_period_ps`` the
    clock the energy is modelled at (leakage accrues over the run's cycles at that period).
    """
    sram = sram or SramModel()
    v2 = library.voltage ** 2
    canon = net_resolver(netlist)

    def toggles(net: str) -> int:
        if net.startswith("1'b"):
            return 0
        return saif.tc.get(scope + net, saif.tc.get(scope + canon(net), 0))

    load: dict[str, float] = defaultdict(float)
    missing_cells: set[str] = set()
    for inst in netlist.instances:
        cell = library.cells.get(inst.cell)
        for pin, bits in inst.pins.items():
            if cell is not None:
                cap = cell.inputs.get(pin)
            else:
                cap = macro_pin_cap_ff.get(inst.cell, 0.0) if inst.cell in macro_shapes else None
            if cap is None:
                continue
            for net in bits:
                if not net.startswith("1'b"):
                    load[canon(net)] += cap

    split = {"sequential": 0.0, "combinational": 0.0, "clock": 0.0, "leakage": 0.0, "sram": 0.0}
    layers: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    leakage_pw = 0.0
    driven: set[str] = set()
    reads = writes = 0
    sram_access_fj = sram_leak_pw = 0.0
    by_memory: dict[str, dict[str, int]] = defaultdict(lambda: {"macros": 0, "reads": 0, "writes": 0})
    cycles = saif.duration * saif.timescale_ps / sim_period_ps
    # output pins grouped by (cell, pin): toggles, loads and the layer each belongs to, evaluated vectorised
    outs: dict[tuple[str, str], tuple[list[int], list[float], list[str]]] = defaultdict(lambda: ([], [], []))
    ins: dict[tuple[str, str], tuple[list[int], list[str]]] = defaultdict(lambda: ([], []))
    for inst in netlist.instances:
        cell = library.cells.get(inst.cell)
        if cell is None:
            if inst.cell in macro_shapes:
                depth, width = macro_shapes[inst.cell]
                path = f"{scope}{inst.name}/"
                r = round(saif.t1.get(path + "rd_fire", 0) * saif.timescale_ps / sim_period_ps)
                w = round(saif.t1.get(path + "wr_fire", 0) * saif.timescale_ps / sim_period_ps)
                reads, writes = reads + r, writes + w
                mem = by_memory[macro_place(inst.name)[0]]
                mem["macros"], mem["reads"], mem["writes"] = mem["macros"] + 1, mem["reads"] + r, mem["writes"] + w
                e = (r + w) * sram.access_pj(depth, width) * 1000.0
                sram_access_fj += e
                sram_leak_pw += sram.leakage_pw(depth, width)
                layer = _layer_of(inst.name)
                layers[str(layer) if layer is not None else "other"]["sram"] += e
                for bit in inst.pins.get("rd_out", []):
                    driven.add(canon(bit))
            else:
                missing_cells.add(inst.cell)
            continue
        leakage_pw += cell.leakage_pw
        out_nets = [canon(b) for p in cell.outputs for b in inst.pins.get(p, [])]
        layer = next((_layer_of(n) for n in out_nets if _layer_of(n) is not None), None)
        where = str(layer) if layer is not None else "other"
        for pin, bits in inst.pins.items():
            if not bits:
                continue
            net = bits[0]
            if pin in cell.outputs:
                c = canon(net)
                driven.add(c)
                group = outs[(inst.cell, pin)]
                group[0].append(toggles(net))
                group[1].append(load.get(c, 0.0))
                group[2].append(where)
            elif pin in cell.power:
                group_in = ins[(inst.cell, pin)]
                group_in[0].append(toggles(net))
                group_in[1].append(where)
    for (name, pin), (tcs, caps, wheres) in outs.items():
        cell = library.cells[name]
        # a cell with a clock input but no state of its own is a clock gate: what it drives is clock
        kind = "sequential" if cell.sequential else ("clock" if cell.clocks else "combinational")
        tarr = np.asarray(tcs, dtype=float)
        carr = np.asarray(caps, dtype=float)
        earr = tarr * 0.5 * carr * v2
        if pin in cell.power:
            rise_arr, fall_arr = cell.power[pin].energy_many(slew_ps, carr)
            earr = earr + tarr / 2 * (rise_arr + fall_arr)
        split[kind] += float(earr.sum())
        for k, wname in enumerate(wheres):
            layers[wname][kind] += float(earr[k])
    for (name, pin), (tcs, wheres) in ins.items():
        cell = library.cells[name]
        kind = "clock" if pin in cell.clocks else ("sequential" if cell.sequential else "combinational")
        e_rise, e_fall = cell.power[pin].energy(slew_ps)
        earr = np.asarray(tcs, dtype=float) / 2 * (e_rise + e_fall)
        split[kind] += float(earr.sum())
        for k, wname in enumerate(wheres):
            layers[wname][kind] += float(earr[k])
    # nets no cell drives: the top's inputs (the clock among them)
    for net, cap in load.items():
        if net in driven:
            continue
        split["clock" if net == "clk" else "combinational"] += toggles(net) * 0.5 * cap * v2
    run_ps = cycles * clock_period_ps
    # pW × ps = 1e-12 W × 1e-12 s = 1e-24 J = 1e-9 fJ
    split["leakage"] = leakage_pw * run_ps * 1e-9
    sram_leak_fj = sram_leak_pw * run_ps * 1e-9
    split["sram"] = sram_access_fj + sram_leak_fj
    return {
        "energy_fj": split,
        "layers": {k: dict(v) for k, v in sorted(layers.items())},
        "cycles": cycles,
        "sram": {"reads": reads, "writes": writes, "access_fj": sram_access_fj, "leakage_fj": sram_leak_fj,
                 "by_memory": {k: by_memory[k] for k in sorted(by_memory)}},
        "leakage_pw": leakage_pw + sram_leak_pw,
        "missing_cells": sorted(missing_cells),
        "slew_ps": slew_ps,
    }
