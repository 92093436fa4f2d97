"""The SRAM stacks of the ASAP7 macro library (``snnhw.synth.macros.macro_techmap``): k macros in depth
behind one memory_libmap block, the address decoded into their chip enables. Simulated on Icarus
against a Python model of the memory, word for word, with the read enables of every macro checked:
a read enables the one macro that holds its word, a write the one macro it lands in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from snnhw.power.flow import macro_models_verilog
from snnhw.synth.macros import MacroModel, macro_techmap

DEPTH, WIDTH, K, CYCLES = 64, 21, 4, 600


def _model() -> MacroModel:
    return MacroModel(source="fakeram7_64x21.lib", depth=DEPTH, width=WIDTH, area_um2=56.4, clk_to_q_ps=1.0,
                      setup_ps=1.0, hold_ps=1.0, min_period_ps=1.0, clk_cap_ff=1.0, input_cap_ff=1.0,
                      output_slew_ps=1.0)


def _bench(ports: str, init: list[int], stim: np.ndarray) -> str:
    """A testbench that drives ``stim`` rows (ren, raddr, wen, waddr, wdata) one per cycle and prints the
    read word and every macro's chip enables after each edge."""
    words = DEPTH * K
    name = f"\\$__SNNHW_{ports.upper()}_{DEPTH}x{WIDTH}_D{K}_ "
    init_bits = sum(w << (i * WIDTH) for i, w in enumerate(init))
    lines = ["module tb;", "  reg clk = 0; reg ren = 0; reg wen = 0; reg [7:0] raddr = 0; reg [7:0] waddr = 0;",
             f"  reg [{WIDTH - 1}:0] wdata = 0; wire [{WIDTH - 1}:0] rdata;"]
    if ports == "tp":
        lines.append(f"  {name} #(.INIT({words * WIDTH}'h{init_bits:x})) dut (.PORT_R_CLK(clk), .PORT_R_CLK_EN(ren), "
                     ".PORT_R_ADDR(raddr), .PORT_R_RD_DATA(rdata), .PORT_W_CLK(clk), .PORT_W_CLK_EN(wen), "
                     ".PORT_W_ADDR(waddr), .PORT_W_WR_DATA(wdata), .PORT_W_WR_EN(wen));")
        ce = [f"dut.\\bank{i} .rd_ce" for i in range(K)]
        we = [f"dut.\\bank{i} .wr_ce" for i in range(K)]
    else:  # one port: a cycle reads (ren) or writes (wen) at raddr
        lines.append(f"  {name} #(.INIT({words * WIDTH}'h{init_bits:x})) dut (.PORT_A_CLK(clk), "
                     ".PORT_A_CLK_EN(ren | wen), .PORT_A_ADDR(raddr), .PORT_A_WR_DATA(wdata), .PORT_A_WR_EN(wen), "
                     ".PORT_A_RD_DATA(rdata));")
        ce = [f"dut.\\bank{i} .ce_in" for i in range(K)]
        we = ce
    lines += ["  initial begin"]
    for ren, raddr, wen, waddr, wdata in stim:
        lines += [f"    ren = {ren}; raddr = {raddr}; wen = {wen}; waddr = {waddr}; wdata = {wdata};",
                  f"    #1 $display(\"%0d %0d %b %b\", ren, wen, {{{', '.join(reversed(ce))}}}, {{{', '.join(reversed(we))}}});",
                  "    #1 clk = 1; #1 $display(\"%0d\", rdata); #1 clk = 0;"]
    lines += ["    $finish;", "  end", "endmodule"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("ports", ["tp", "sp"])
def test_stack_reads_one_macro_and_matches_a_memory(tmp_path: Path, ports: str) -> None:
    if shutil.which("iverilog") is None:
        pytest.fail("Icarus Verilog (iverilog) is needed: make setup's system requirements")
    rng = np.random.default_rng(3)
    words = DEPTH * K
    init = [int(v) for v in rng.integers(0, 1 << WIDTH, size=words)]
    stim = np.stack([rng.integers(0, 2, CYCLES), rng.integers(0, words, CYCLES), rng.integers(0, 2, CYCLES),
                     rng.integers(0, words, CYCLES), rng.integers(0, 1 << WIDTH, CYCLES)], axis=1)
    if ports == "sp":  # one port: a write uses the read address, and reads nothing back
        stim[:, 3] = stim[:, 1]
        stim[stim[:, 2] == 1, 0] = 0
    (tmp_path / "stack.v").write_text(macro_techmap([_model()], init=True)
                                      + macro_models_verilog([(DEPTH, WIDTH)]) + _bench(ports, init, stim))
    subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "sim"), str(tmp_path / "stack.v")], check=True)
    lines = subprocess.run(["vvp", "-n", str(tmp_path / "sim")], check=True, capture_output=True,
                           text=True).stdout.split()
    mem, out = list(init), None  # before the first read the stack's word select is unknown
    for k, (ren, raddr, wen, waddr, wdata) in enumerate(stim):
        _, _, ce, wce = lines[5 * k: 5 * k + 4]
        bank, wbank = int(raddr) // DEPTH, int(waddr) // DEPTH
        if ports == "tp":  # one macro enabled for the read, one for the write
            assert ce == ("".join("1" if i == bank and ren else "0" for i in reversed(range(K)))), (k, ce)
            assert wce == ("".join("1" if i == wbank and wen else "0" for i in reversed(range(K)))), (k, wce)
        else:
            assert ce == ("".join("1" if i == bank and (ren or wen) else "0" for i in reversed(range(K)))), (k, ce)
        if ren or (ports == "sp" and wen):  # reads see the word before this cycle's write (one port: "rdwr old")
            out = mem[raddr]
        if wen:
            mem[waddr] = int(wdata)
        if out is not None:
            assert int(lines[5 * k + 4]) == out, (k, ports, raddr, waddr)
    assert sum(int(r) for r in stim[:, 0]) > CYCLES // 5  # enough reads to mean something
