"""SRAM macro models for ASAP7: large memories become black boxes, not flip-flops.

The models are derived, at run time, from the ``fakeram7_<depth>x<width>``
liberty files that OpenROAD-flow-scripts uses for asap7 (``--fakeram`` /
``SNNHW_ASAP7_FAKERAM``; never copied into snnhw). Those files are single-port,
fixed-shape, characterised at one TT 0.7 V / 25 °C point and written in ns and pF;
the standard cells are in ps and fF. For every fakeram7 shape snnhw writes

* ``snnhw_sp_<D>x<W>`` — single-port (one read/write port): area, clock-to-output,
  setup and hold, pin capacitances from the fakeram7 file, converted to ps and fF
  (× 1000 each);
* ``snnhw_tp_<D>x<W>`` — two-port (one read port, one write port, same clock),
  which fakeram7 does not model: **area twice the single-port area** (a second
  port roughly doubles the bit cell and adds a second periphery), timing as the
  single-port macro. This is an assumption, stated in every report that uses it;

and three files for Yosys and OpenSTA: a ``memory_libmap`` library (each macro's
cost is its footprint, its area and the placement halo around it, so Yosys tiles a
memory with the cheapest mix of macros, prefers a few large macros to many small
ones, and keeps a memory in flip-flops when that is smaller), a ``techmap`` file from the Yosys
cells to the macro instances, and a liberty file with the converted models.

Weight memories of ``rom`` builds map to the single-port macros: their contents
are not part of the netlist (a chip loads them at start-up, or uses a ROM macro
of similar size).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from snnhw._io import atomic_write_text
from snnhw.errors import ToolError

__all__ = [
    "LOGIC_BIT_COST",
    "MACRO_HALO_UM",
    "MAX_MACRO_WIDTH",
    "STACK_MAX_DEPTH",
    "TWO_PORT_AREA_FACTOR",
    "MacroModel",
    "footprint_um2",
    "lef_outline",
    "macro_techmap",
    "parse_fakeram",
    "read_fakerams",
    "write_macro_files",
]

#: Area factor of a two-port macro over the single-port fakeram7 of the same shape (assumption; see module docs).
TWO_PORT_AREA_FACTOR = 2.0
#: Cost, in µm², that ``memory_libmap`` charges per bit kept in flip-flops (RAM) or logic (ROM): about one
#: DFFHQNx1 (0.29 µm²) plus its share of write and read multiplexing; ROM bits cost less (constant logic).
LOGIC_BIT_COST = {"ram": 0.40, "rom": 0.10}

_NAME = re.compile(r"fakeram7_(\d+)x(\d+)$")
_SIZE = re.compile(r"^\s*SIZE\s+([\d.]+)\s+BY\s+([\d.]+)\s*;", re.MULTILINE)

#: Keep-out around every macro in the floorplan, µm (the layout flow's ``MACRO_PLACE_HALO``). No cell
#: sits in it, so it is part of what a macro costs in silicon.
MACRO_HALO_UM = 4.0


def lef_outline(lef: Path) -> tuple[float, float] | None:
    """``(width, height)`` in µm from a LEF's ``SIZE`` statement; ``None`` if the file has none."""
    match = _SIZE.search(lef.read_text(errors="replace"))
    return (float(match.group(1)), float(match.group(2))) if match else None


def footprint_um2(model: MacroModel, ports: str) -> float:
    """What one ``"sp"`` or ``"tp"`` macro costs in silicon: its area (two-port:
    :data:`TWO_PORT_AREA_FACTOR` times, as tall) and the halo ring around its outline
    (:data:`MACRO_HALO_UM`), where no cell may be placed. Without an outline, the area alone."""
    factor = 1.0 if ports == "sp" else TWO_PORT_AREA_FACTOR
    area = model.area_um2 * factor
    if model.outline_um is None:
        return area
    w, h = model.outline_um[0], model.outline_um[1] * factor
    return area + (w + 2 * MACRO_HALO_UM) * (h + 2 * MACRO_HALO_UM) - w * h
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class MacroModel:
    """One fakeram7 shape, converted to ps, fF and µm²."""

    source: str
    depth: int
    width: int
    area_um2: float
    clk_to_q_ps: float
    setup_ps: float
    hold_ps: float
    min_period_ps: float
    clk_cap_ff: float
    input_cap_ff: float
    output_slew_ps: float
    outline_um: tuple[float, float] | None = None  # (width, height) of the fakeram7 LEF beside the liberty file

    @property
    def abits(self) -> int:
        """Address bits."""
        return max(1, (self.depth - 1).bit_length())

    def name(self, ports: str) -> str:
        """Cell name of the ``"sp"`` or ``"tp"`` variant."""
        return f"snnhw_{ports}_{self.depth}x{self.width}"


def _block(text: str, header: str) -> str:
    """The body of the first group ``header { … }`` (brace-matched), or ``""``."""
    start = text.find(header)
    if start < 0:
        return ""
    i = text.find("{", start)
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return ""


def _groups(text: str, kind: str) -> list[str]:
    """Bodies of every ``kind(…) { … }`` group at any depth."""
    out = []
    for match in re.finditer(rf"\b{kind}\s*\([^)]*\)\s*\{{", text):
        out.append(_block(text[match.start():], match.group(0)[:-1].strip()))
    return out


def _values(body: str, table: str) -> list[float]:
    """Every number in the ``values`` of the ``table`` groups (e.g. ``cell_rise``) of ``body``."""
    out: list[float] = []
    for group in _groups(body, table):
        values = re.search(r"values\s*\((.*?)\)\s*;?", group, re.DOTALL)
        if values:
            out += [float(v) for v in _NUMBER.findall(values.group(1))]
    return out


def _attr(body: str, name: str) -> float | None:
    match = re.search(rf"\b{name}\s*:\s*({_NUMBER.pattern})", body)
    return float(match.group(1)) if match else None


def parse_fakeram(path: Path) -> MacroModel:
    """Read one ``fakeram7_<D>x<W>.lib`` and convert it to ps / fF (it must be in ns and pF)."""
    text = path.read_text(errors="replace")
    stem = _NAME.search(path.stem)
    if not stem:
        raise ToolError("not a fakeram7_<depth>x<width> liberty file", source=str(path))
    if not re.search(r'time_unit\s*:\s*"1ns"', text) or not re.search(r"capacitive_load_unit\s*\(\s*1\s*,\s*pf\s*\)", text):
        raise ToolError("fakeram model: expected time_unit 1ns and capacitive_load_unit (1,pf)", source=str(path))
    cell = _block(text, f"cell({path.stem})") or _block(text, "cell(")
    area = _attr(cell, "area")
    clk = _block(cell, "pin(clk)")
    rd_out = _block(cell, "bus(rd_out)")
    if area is None or not clk or not rd_out:
        raise ToolError("fakeram model: missing area, pin(clk) or bus(rd_out)", source=str(path))
    timings = _groups(cell, "timing")
    setup = [v for t in timings if "setup_rising" in t for v in _values(t, "rise_constraint") + _values(t, "fall_constraint")]
    hold = [v for t in timings if "hold_rising" in t for v in _values(t, "rise_constraint") + _values(t, "fall_constraint")]
    clk_q = _values(rd_out, "cell_rise") + _values(rd_out, "cell_fall")
    slew = _values(rd_out, "rise_transition") + _values(rd_out, "fall_transition")
    caps = [_attr(_block(cell, f"{kind}({pin})"), "capacitance") for kind, pin in
            (("pin", "we_in"), ("pin", "ce_in"), ("bus", "addr_in"), ("bus", "wd_in"))]
    if not clk_q or not setup:
        raise ToolError("fakeram model: no clock-to-output or setup timing", source=str(path))
    return MacroModel(
        source=path.name, depth=int(stem.group(1)), width=int(stem.group(2)), area_um2=area,
        clk_to_q_ps=1000 * max(clk_q), setup_ps=1000 * max(setup), hold_ps=1000 * max(hold or [0.0]),
        min_period_ps=1000 * (_attr(clk, "min_period") or 0.0), clk_cap_ff=1000 * (_attr(clk, "capacitance") or 0.0),
        input_cap_ff=1000 * max([c for c in caps if c is not None] or [0.0]),
        output_slew_ps=1000 * max(slew or [0.0]),
        outline_um=lef_outline(path.with_suffix(".lef")) if path.with_suffix(".lef").is_file() else None,
    )


def read_fakerams(directory: Path) -> list[MacroModel]:
    """Every ``fakeram7_*.lib`` model of ``directory``, smallest first."""
    files = sorted(directory.glob("fakeram7_*.lib"))
    if not files:
        raise ToolError("no fakeram7_<depth>x<width>.lib macro models here; point --fakeram or "
                        "SNNHW_ASAP7_FAKERAM at the asap7 fakeram directory of OpenROAD-flow-scripts", source=str(directory))
    return sorted((parse_fakeram(f) for f in files), key=lambda m: (m.depth * m.width, m.depth))


#: A memory deeper than a macro is built of ``k`` macros stacked in depth (``k`` a power of two up to
#: this many words in all). ``memory_libmap`` would stack them itself, but it reads every macro of the
#: stack on every read and picks the word afterwards; the stacks snnhw offers instead (``_Dk`` blocks)
#: decode the address into the macros' chip enables, so a read touches one macro of the stack.
STACK_MAX_DEPTH = 2048


#: The widest macro ``memory_libmap`` may use, in bits. A macro reads its whole word on every access, and
#: in the energy model (:class:`snnhw.power.energy.SramModel`) an access costs in proportion to the width
#: times the square root of the capacity: a word of W bits read from macros w bits wide and D deep costs
#: W·sqrt(D·w), so narrow macros side by side read a wide word for less, and the 256-bit shapes, which
#: the footprint cost would otherwise pick for a 96-bit weight word (reading 256 bits for it), cost
#: several times the energy. The 256-bit fakeram7 shapes stay in the liberty and LEF views.
MAX_MACRO_WIDTH = 64


def _stacks(models: list[MacroModel]) -> list[tuple[MacroModel, int]]:
    """Every (macro, k) of a block: each macro up to :data:`MAX_MACRO_WIDTH` bits wide, alone (k = 1)
    and in stacks of k = 2, 4, … macros."""
    out = []
    for m in (m for m in models if m.width <= MAX_MACRO_WIDTH):
        k = 1
        while m.depth * k <= max(m.depth, STACK_MAX_DEPTH):
            out.append((m, k))
            k *= 2
    return out


def _block_name(ports: str, m: MacroModel, k: int) -> str:
    return f"$__SNNHW_{ports}_{m.depth}x{m.width}_" + (f"D{k}_" if k > 1 else "")


def _memlib(models: list[MacroModel]) -> str:
    lines = ["# snnhw: SRAM macros for memory_libmap (cost = footprint in 0.01 um2: area and placement halo);",
             "# generated from fakeram7 models.",
             "# A _D<k>_ block is k macros stacked in depth with the address decoded into their chip enables",
             "# (cost: k macros, less one unit, so that it wins over memory_libmap's own stacking)."]
    for m, k in _stacks(models):
        sp = round(100 * footprint_um2(m, "sp")) * k - (k > 1)
        tp = round(100 * footprint_um2(m, "tp")) * k - (k > 1)
        abits = m.abits + (k - 1).bit_length()
        lines += [
            f"ram block {_block_name('SP', m, k)} {{",
            f"    abits {abits};", f"    width {m.width};", f"    cost {sp};", "    init any;",
            '    port srsw "A" {', "        clock posedge;", "        clken;", "        rdwr old;", "    }", "}",
            f"ram block {_block_name('TP', m, k)} {{",
            f"    abits {abits};", f"    width {m.width};", f"    cost {tp};", "    init any;",
            '    port sr "R" {', "        clock posedge;", "        clken;", "    }",
            '    port sw "W" {', "        clock posedge;", "        clken;", "        wrtrans all old;", "    }", "}",
        ]
    return "\n".join(lines) + "\n"


def _stack_modules(m: MacroModel, k: int, *, init: bool) -> list[str]:
    """The techmap modules (single- and two-port) of the block of ``k`` macros ``m`` (k = 1: the macro)."""
    a, w, d = m.abits, m.width, m.depth
    s = (k - 1).bit_length()

    def inst(ports: str, i: int, pins: str) -> str:
        param = ""
        if init:
            param = "#(.INIT(INIT)) " if k == 1 else f"#(.INIT(INIT[{i * d * w} +: {d * w}])) "
        name = "_TECHMAP_REPLACE_" if k == 1 else f"\\bank{i} "
        return f"  {m.name(ports)} {param}{name} ({pins});"

    def hit(addr: str, i: int) -> str:
        return "" if k == 1 else f" & ({addr}[{a + s - 1}:{a}] == {s}'d{i})"

    low = "" if k == 1 else f"[{a - 1}:0]"
    sp_head = [
        f"module \\{_block_name('SP', m, k)} (PORT_A_CLK, PORT_A_CLK_EN, PORT_A_ADDR, PORT_A_WR_DATA, "
        "PORT_A_WR_EN, PORT_A_RD_DATA);",
        "  parameter INIT = 0;",
        "  input PORT_A_CLK, PORT_A_CLK_EN, PORT_A_WR_EN;",
        f"  input [{a + s - 1}:0] PORT_A_ADDR;", f"  input [{w - 1}:0] PORT_A_WR_DATA;",
        f"  output [{w - 1}:0] PORT_A_RD_DATA;",
    ]
    tp_head = [
        f"module \\{_block_name('TP', m, k)} (PORT_R_CLK, PORT_R_CLK_EN, PORT_R_ADDR, PORT_R_RD_DATA, "
        "PORT_W_CLK, PORT_W_CLK_EN, PORT_W_ADDR, PORT_W_WR_DATA, PORT_W_WR_EN);",
        "  parameter INIT = 0;",
        "  input PORT_R_CLK, PORT_R_CLK_EN, PORT_W_CLK, PORT_W_CLK_EN, PORT_W_WR_EN;",
        f"  input [{a + s - 1}:0] PORT_R_ADDR;", f"  input [{a + s - 1}:0] PORT_W_ADDR;",
        f"  input [{w - 1}:0] PORT_W_WR_DATA;", f"  output [{w - 1}:0] PORT_R_RD_DATA;",
    ]
    if k == 1:
        return [*sp_head,
                inst("sp", 0, ".clk(PORT_A_CLK), .ce_in(PORT_A_CLK_EN), .we_in(PORT_A_WR_EN), "
                     ".addr_in(PORT_A_ADDR), .wd_in(PORT_A_WR_DATA), .rd_out(PORT_A_RD_DATA)"),
                "endmodule", *tp_head,
                inst("tp", 0, ".clk(PORT_R_CLK), .rd_ce(PORT_R_CLK_EN), .rd_addr(PORT_R_ADDR), "
                     ".rd_out(PORT_R_RD_DATA), .wr_ce(PORT_W_CLK_EN), .we_in(PORT_W_WR_EN), "
                     ".wr_addr(PORT_W_ADDR), .wd_in(PORT_W_WR_DATA)"),
                "endmodule"]
    lines: list[str] = []
    for ports, head, clk, en, addr, out in (
            ("sp", sp_head, "PORT_A_CLK", "PORT_A_CLK_EN", "PORT_A_ADDR", "PORT_A_RD_DATA"),
            ("tp", tp_head, "PORT_R_CLK", "PORT_R_CLK_EN", "PORT_R_ADDR", "PORT_R_RD_DATA")):
        lines += [*head, f"  wire [{k * w - 1}:0] words;", f"  reg [{s - 1}:0] sel;",
                  f"  always @(posedge {clk}) if ({en}) sel <= {addr}[{a + s - 1}:{a}];",
                  f"  assign {out} = words[sel * {w} +: {w}];"]
        for i in range(k):
            rd = f".rd_out(words[{i * w + w - 1}:{i * w}])"
            if ports == "sp":
                pins = (f".clk(PORT_A_CLK), .ce_in(PORT_A_CLK_EN{hit('PORT_A_ADDR', i)}), .we_in(PORT_A_WR_EN), "
                        f".addr_in(PORT_A_ADDR{low}), .wd_in(PORT_A_WR_DATA), {rd}")
            else:
                pins = (f".clk(PORT_R_CLK), .rd_ce(PORT_R_CLK_EN{hit('PORT_R_ADDR', i)}), "
                        f".rd_addr(PORT_R_ADDR{low}), {rd}, .wr_ce(PORT_W_CLK_EN{hit('PORT_W_ADDR', i)}), "
                        f".we_in(PORT_W_WR_EN), .wr_addr(PORT_W_ADDR{low}), .wd_in(PORT_W_WR_DATA)")
            lines.append(inst(ports, i, pins))
        lines.append("endmodule")
    return lines


def macro_techmap(models: list[MacroModel], *, init: bool = False) -> str:
    """The ``techmap`` file from the ``memory_libmap`` blocks to macro instances. A stack of ``k`` macros
    names them ``bank<i>`` (macro ``i`` holds words ``i·D … i·D + D − 1``), enables macro ``i`` only for
    its addresses, and picks the read word with the registered upper address bits. With ``init`` each
    macro gets its slice of the memory image (``INIT``), for the gate-level simulation."""
    lines = ["// snnhw: memory_libmap cells -> SRAM macro instances (generated)."]
    for m, k in _stacks(models):
        lines += _stack_modules(m, k, init=init)
    return "\n".join(lines) + "\n"


def _lib_pin(name: str, m: MacroModel, *, bus: int = 0, output: bool = False) -> list[str]:
    head = f"    bus({name}) {{" if bus else f"    pin({name}) {{"
    out = [head]
    if bus:
        out.append(f"      bus_type : {'data' if output or name == 'wd_in' else 'addr'}_{m.depth}x{m.width};")
    if output:
        out += ["      direction : output;", "      max_capacitance : 500;",
                "      timing() {", '        related_pin : "clk";', "        timing_type : rising_edge;",
                "        timing_sense : non_unate;",
                f"        cell_rise(scalar) {{ values(\"{m.clk_to_q_ps:.1f}\"); }}",
                f"        cell_fall(scalar) {{ values(\"{m.clk_to_q_ps:.1f}\"); }}",
                f"        rise_transition(scalar) {{ values(\"{m.output_slew_ps:.1f}\"); }}",
                f"        fall_transition(scalar) {{ values(\"{m.output_slew_ps:.1f}\"); }}",
                "      }"]
    else:
        out += ["      direction : input;", f"      capacitance : {m.input_cap_ff:.2f};"]
        for kind, value in (("setup_rising", m.setup_ps), ("hold_rising", m.hold_ps)):
            out += ["      timing() {", '        related_pin : "clk";', f"        timing_type : {kind};",
                    f"        rise_constraint(scalar) {{ values(\"{value:.1f}\"); }}",
                    f"        fall_constraint(scalar) {{ values(\"{value:.1f}\"); }}", "      }"]
    return [*out, "    }"]


def _liberty(models: list[MacroModel]) -> str:
    lines = [
        "/* snnhw SRAM macro models, converted from fakeram7 (ns, pF) to ps and fF; two-port area is an assumption",
        f"   (x{TWO_PORT_AREA_FACTOR:g} the single-port area). Sources: {', '.join(m.source for m in models)}. */",
        "library(snnhw_macros) {",
        "  technology(cmos);", "  delay_model : table_lookup;",
        '  time_unit : "1ps";', '  voltage_unit : "1V";', '  current_unit : "1uA";', '  leakage_power_unit : "1uW";',
        "  capacitive_load_unit(1, ff);", '  pulling_resistance_unit : "1kohm";',
        "  nom_process : 1;", "  nom_temperature : 25;", "  nom_voltage : 0.7;",
        "  slew_lower_threshold_pct_rise : 20;", "  slew_upper_threshold_pct_rise : 80;",
        "  slew_lower_threshold_pct_fall : 20;", "  slew_upper_threshold_pct_fall : 80;",
        "  input_threshold_pct_rise : 50;", "  input_threshold_pct_fall : 50;",
        "  output_threshold_pct_rise : 50;", "  output_threshold_pct_fall : 50;",
    ]
    for m in models:
        for kind, bits in (("addr", m.abits), ("data", m.width)):
            lines += [f"  type({kind}_{m.depth}x{m.width}) {{", "    base_type : array;", "    data_type : bit;",
                      f"    bit_width : {bits};", f"    bit_from : {bits - 1};", "    bit_to : 0;", "    downto : true;", "  }"]
    for m in models:
        for ports, factor in (("sp", 1.0), ("tp", TWO_PORT_AREA_FACTOR)):
            lines += [f"  cell({m.name(ports)}) {{", f"    area : {m.area_um2 * factor:.3f};", "    dont_use : true;",
                      "    interface_timing : true;",
                      "    pin(clk) {", "      direction : input;", f"      capacitance : {m.clk_cap_ff:.2f};",
                      "      clock : true;", f"      min_period : {m.min_period_ps:.1f};", "    }"]
            if ports == "sp":
                lines += _lib_pin("ce_in", m) + _lib_pin("we_in", m) + _lib_pin("addr_in", m, bus=1)
                lines += _lib_pin("wd_in", m, bus=1) + _lib_pin("rd_out", m, bus=1, output=True)
            else:
                lines += _lib_pin("rd_ce", m) + _lib_pin("rd_addr", m, bus=1) + _lib_pin("rd_out", m, bus=1, output=True)
                lines += _lib_pin("wr_ce", m) + _lib_pin("we_in", m) + _lib_pin("wr_addr", m, bus=1) + _lib_pin("wd_in", m, bus=1)
            lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_macro_files(models: list[MacroModel], run_dir: Path) -> dict[str, Path]:
    """Write ``macros.txt`` (memory_libmap), ``macros_map.v`` (techmap) and ``macros.lib`` into ``run_dir``."""
    files = {"memlib": run_dir / "macros.txt", "techmap": run_dir / "macros_map.v", "liberty": run_dir / "macros.lib"}
    atomic_write_text(files["memlib"], _memlib(models))
    atomic_write_text(files["techmap"], macro_techmap(models))
    atomic_write_text(files["liberty"], _liberty(models))
    return files
