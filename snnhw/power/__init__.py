"""Power: energy per inference from simulated activity.

* :mod:`snnhw.power.flow` — ``snnhw power``: the gate-level simulation of the ASAP7
  netlist (the synthesis netlist, or the routed one of a layout run) in Verilator,
  checked bit-exact against the golden model, and the energy figures;
* :mod:`snnhw.power.energy` — the liberty-table energy model (internal, switching,
  leakage, assumed SRAM);
* :mod:`snnhw.power.liberty` — the power data of the ASAP7 liberty files;
* :mod:`snnhw.power.activity` — SAIF and flat-netlist readers.

See ``docs/power.md``.
"""
