"""The pieces of the energy model that need no simulation: liberty power data, SAIF and netlist parsing.

The expected INV and DFF energies are computed by hand from the ASAP7 TT tables
(the first entry of each table: input slew 5 ps, load 0.72 fF), in the comments.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from snnhw.synth.activity import read_netlist, read_saif
from snnhw.synth.asap7 import find_liberty, liberty_files
from snnhw.synth.liberty import Table, load_library


@pytest.fixture(scope="module")
def tt_library(tmp_path_factory: pytest.TempPathFactory):
    try:
        lib_dir = find_liberty(None)
    except Exception as err:
        if os.environ.get("CI"):
            pytest.fail(f"the ASAP7 liberty files are missing in CI: {err}")
        pytest.skip(f"ASAP7 liberty files not found: {err}")
    files = liberty_files(lib_dir, "TT")
    return load_library([files["INVBUF"], files["SEQ"]], cache=tmp_path_factory.mktemp("libcache"))


def test_inverter_by_hand(tt_library) -> None:
    inv = tt_library.cells["INVx1_ASAP7_75t_R"]
    assert tt_library.voltage == 0.7 and inv.area == pytest.approx(0.04374)
    assert inv.inputs == {"A": pytest.approx(0.619928)} and inv.outputs == {"Y"} and not inv.sequential
    # leakage: states (A·!Y) 48.9923 + 0 pW and (!A·Y) 53.3254 + 0 pW, averaged
    assert inv.leakage_pw == pytest.approx((48.9923 + 53.3254) / 2)
    rise, fall = inv.power["Y"].energy(5, 0.72)
    # output rise: VDD 0.121576 + VSS −0.0286192 fJ; output fall: VDD −0.0231217 + VSS 0.12607 fJ
    assert rise == pytest.approx(0.121576 - 0.0286192)
    assert fall == pytest.approx(-0.0231217 + 0.12607)


def test_flip_flop_by_hand(tt_library) -> None:
    dff = tt_library.cells["DFFHQNx1_ASAP7_75t_R"]
    assert dff.sequential and dff.clocks == {"CLK"} and dff.inputs["D"] == pytest.approx(0.558822)
    # QN transitions (related to CLK): rise VDD 0.509235 + VSS 0.620513
    assert dff.power["QN"].energy(5, 0.72)[0] == pytest.approx(0.509235 + 0.620513)
    # CLK rise, averaged over the four (D, QN) states: 0, 0.247568 + 0.353092, 0.243863 + 0.354932, 0
    assert dff.power["CLK"].energy(5)[0] == pytest.approx((0.247568 + 0.353092 + 0.243863 + 0.354932) / 4)


def test_table_interpolation_and_clamping() -> None:
    t = Table((10.0, 20.0), (1.0, 3.0), ((1.0, 3.0), (5.0, 7.0)))
    assert t.at(10, 1) == 1.0 and t.at(20, 3) == 7.0
    assert t.at(15, 2) == pytest.approx(4.0)
    assert t.at(0, 0) == 1.0 and t.at(99, 99) == 7.0  # clamped at the table's edges


SAIF = """(SAIFILE
(SAIFVERSION "2.0")
(DIRECTION "backward")
(DESIGN "top")
(VENDOR "Verilator")
(DIVIDER / )
(TIMESCALE 1 ps)
(DURATION 10000)
(INSTANCE TOP
  (NET
    (clk (T0 5000) (T1 5000) (TZ 0) (TX 0) (TC 20) (IG 0))
  )
  (INSTANCE snnhw_top
    (NET
      (_12_ (T0 9000) (T1 1000) (TZ 0) (TX 0) (TC 3) (IG 0))
      (\\l0_core0.brow\\[5\\] (T0 10000) (T1 0) (TZ 0) (TX 0) (TC 0) (IG 0))
    )
    (INSTANCE \\l0_core0.bmem.0.0
      (NET
        (rd_fire (T0 8000) (T1 2000) (TZ 0) (TX 0) (TC 4) (IG 0))
      )
    )
  )
)
)
"""


def test_saif(tmp_path: Path) -> None:
    path = tmp_path / "dump.saif"
    path.write_text(SAIF)
    s = read_saif(path)
    assert s.duration == 10000 and s.timescale_ps == 1.0
    assert s.tc["clk"] == 20 and s.tc["snnhw_top/_12_"] == 3 and s.t1["snnhw_top/_12_"] == 1000
    assert s.tc["snnhw_top/l0_core0.brow[5]"] == 0
    assert s.t1["snnhw_top/l0_core0.bmem.0.0/rd_fire"] == 2000


NETLIST = """module snnhw_top(clk, a, y);
  input clk;
  wire clk;
  input [1:0] a;
  wire [1:0] a;
  output y;
  wire y;
  wire _0_;
  wire \\l0.q ;
  INVx1_ASAP7_75t_R _1_ (
    .A(a[0]),
    .Y(_0_)
  );
  DFFHQNx1_ASAP7_75t_R \\l0.q_reg  (
    .CLK(clk),
    .D(_0_),
    .QN(\\l0.q )
  );
  snnhw_sp_4x2 #(
    .INIT(8'h1b)
  ) \\l1.mem.0.0  (
    .addr_in(a),
    .clk(clk),
    .wd_in(2'h0),
    .rd_out({ y, _0_ })
  );
  assign y = \\l0.q ;
endmodule
"""


def test_netlist(tmp_path: Path) -> None:
    path = tmp_path / "n.v"
    path.write_text(NETLIST)
    n = read_netlist(path)
    assert n.top == "snnhw_top" and n.ports == {"clk": 1, "a": 2, "y": 1}
    cells = {i.name: i for i in n.instances}
    assert cells["_1_"].cell == "INVx1_ASAP7_75t_R" and cells["_1_"].pins == {"A": ["a[0]"], "Y": ["_0_"]}
    assert cells["l0.q_reg"].pins["QN"] == ["l0.q"]
    mem = cells["l1.mem.0.0"]
    assert mem.params == {"INIT": "8'h1b"}
    assert mem.pins["addr_in"] == ["a[1]", "a[0]"] and mem.pins["wd_in"] == ["1'b0", "1'b0"]
    assert mem.pins["rd_out"] == ["y", "_0_"]
    assert n.assigns == [("y", "l0.q")]
