"""Boards: the host runtime, the simulated board, the generated board files and one real ULX3S bitstream.

* The host runtime against a pseudo-terminal with a board model in Python: normal runs,
  resends after a refused or a damaged frame, a silent board, a board with another network.
* ``snnhw board run digits … --port sim --check``: the board core (UART and protocol
  included) in Verilator, bit-exact against the golden model, with the accelerator's own
  cycle counts equal to the co-simulation's per-sample latency.
* The ZCU104 Vivado project and the ULX3S bitstream build (once: it is slow).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import tty
from pathlib import Path

import numpy as np
import pytest
from snnhw.boards.common import ecp5_pll, mmcme4

from snnhw.board.core import board_info
from snnhw.board.protocol import (
    NAK_CRC,
    T_INFO,
    T_NAK,
    T_RESULT,
    T_SAMPLE,
    T_STATUS,
    FrameDecoder,
    encode_frame,
    unpack_values,
)
from snnhw.datasets import load_dataset
from snnhw.errors import BuildError
from snnhw.model.golden import simulate
from snnhw.netfile import resolve_network
from snnhw.rtl.build import resolve_build
from snnhw.rtl.top import result_bits

from .test_cli import assert_clean_error, snnhw


def _digits(n: int) -> np.ndarray:
    return load_dataset("digits", "test").x[:n]


class ModelBoard(threading.Thread):
    """A board in Python behind a pseudo-terminal: answers with the golden model.

    ``mode``: ``ok``; ``nak-first`` refuses the first sample frame (CRC); ``garble-first`` damages its
    first result frame; ``silent`` never answers; ``other`` holds another network.
    """

    def __init__(self, network, mode: str = "ok") -> None:
        super().__init__(daemon=True)
        self.network, self.mode = network, mode
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.samples = 0
        self.stop = threading.Event()
        build = resolve_build(network, None)
        info = board_info(network, build, 75_000_000, 3_000_000)
        if mode == "other":
            info = type(info)(**{**info.__dict__, "network_sha256": "00" * 32})
        self.info = info

    def run(self) -> None:
        dec = FrameDecoder()
        rb = result_bits(self.network) // 8
        os.set_blocking(self.master, False)
        first_sample, first_result = True, True
        while not self.stop.is_set():
            try:
                data = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                self.stop.wait(0.002)
                continue
            for frame in dec.feed(data):
                if self.mode == "silent":
                    continue
                if frame.kind == T_STATUS:
                    os.write(self.master, encode_frame(T_INFO, self.info.pack()))
                elif frame.kind == T_SAMPLE:
                    seq = frame.payload[0]
                    if self.mode == "stray-nak" and seq == 254:
                        # a NAK for a frame refused before its seq (0xFF): no sample's to resend
                        os.write(self.master, encode_frame(T_NAK, bytes([0xFF, NAK_CRC])))
                    if self.mode == "nak-first" and first_sample:
                        first_sample = False
                        os.write(self.master, encode_frame(T_NAK, bytes([seq, NAK_CRC])))
                        continue
                    x = unpack_values(frame.payload[1:], self.network.input.size, self.network.input.bits)
                    trace = simulate(self.network, x[None, :])
                    self.samples += 1
                    words = [int(s) & ((1 << (8 * rb)) - 1) for s in trace.scores[0]] + [int(trace.predictions[0])]
                    payload = bytes([seq]) + b"".join(w.to_bytes(rb, "little") for w in words) + (1234).to_bytes(4, "little")
                    out = bytearray(encode_frame(T_RESULT, payload))
                    if self.mode == "garble-first" and first_result:
                        first_result = False
                        out[7] ^= 0xFF
                    os.write(self.master, bytes(out))

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def digits_inputs(tmp_path: Path) -> Path:
    path = tmp_path / "x.npy"
    np.save(path, _digits(6))
    return path


@pytest.mark.parametrize("mode, resends", [("ok", 0), ("nak-first", 1), ("garble-first", 1)])
def test_host_runtime_over_a_pseudo_terminal(tmp_path: Path, digits_inputs: Path, mode: str, resends: int) -> None:
    network = resolve_network("digits")
    board = ModelBoard(network, mode)
    board.start()
    try:
        out = tmp_path / "r.npz"
        result = snnhw("board", "run", "digits", str(digits_inputs), "--port", board.port, "--out", str(out),
                       "--check", "--timeout", "0.5")
    finally:
        board.close()
    assert result.returncode == 0, result.stderr
    assert f"{resends} resends" in result.stdout
    assert "equal the golden model's" in result.stdout
    with np.load(out) as r:
        assert sorted(r.files) == ["cycles", "predictions", "scores"]
        golden = simulate(network, _digits(6))
        assert r["predictions"].dtype == np.int64 and r["scores"].dtype == np.int64 and r["cycles"].dtype == np.int64
        assert np.array_equal(r["predictions"], golden.predictions) and np.array_equal(r["scores"], golden.scores)
        assert r["cycles"].tolist() == [1234] * 6


def test_host_runtime_wraps_its_sequence_numbers(tmp_path: Path) -> None:
    """300 samples: sequence numbers wrap after 254, and a NAK carrying 0xFF (a frame refused before its
    seq) resends nothing; every result matches the golden model, in order."""
    network = resolve_network("digits")
    x = load_dataset("digits", "test").x[:300]
    np.save(tmp_path / "x.npy", x)
    board = ModelBoard(network, "stray-nak")
    board.start()
    try:
        result = snnhw("board", "run", "digits", str(tmp_path / "x.npy"), "--port", board.port, "--out",
                       str(tmp_path / "r.npz"), "--check", "--timeout", "2")
    finally:
        board.close()
    assert result.returncode == 0, result.stderr
    assert "0 resends" in result.stdout and "CRC mismatch: 1" in result.stdout and board.samples == 300
    golden = simulate(network, x)
    with np.load(tmp_path / "r.npz") as r:
        assert np.array_equal(r["predictions"], golden.predictions) and np.array_equal(r["scores"], golden.scores)


@pytest.mark.parametrize("mode, fragment", [("silent", "did not answer a status request"),
                                            ("other", "the board holds network 000000000000")])
def test_host_runtime_refuses(tmp_path: Path, digits_inputs: Path, mode: str, fragment: str) -> None:
    board = ModelBoard(resolve_network("digits"), mode)
    board.start()
    try:
        out = tmp_path / "r.npz"
        result = snnhw("board", "run", "digits", str(digits_inputs), "--port", board.port, "--out", str(out),
                       "--timeout", "0.2", "--retries", "1")
    finally:
        board.close()
    assert_clean_error(result, fragment)
    assert not out.exists()


def test_host_runtime_bad_port(tmp_path: Path, digits_inputs: Path) -> None:
    result = snnhw("board", "run", "digits", str(digits_inputs), "--port", str(tmp_path / "nope"),
                   "--out", str(tmp_path / "r.npz"))
    assert_clean_error(result, "--port: cannot open the serial port")


def test_check_names_the_first_difference(tmp_path: Path, digits_inputs: Path) -> None:
    """A board model that computes another network: --check exits 1 naming sample and score."""
    network = resolve_network("digits")
    board = ModelBoard(_halved(network), "ok")
    board.info = board_info(network, resolve_build(network, None), 75_000_000, 3_000_000)
    board.start()
    try:
        result = snnhw("board", "run", "digits", str(digits_inputs), "--port", board.port,
                       "--out", str(tmp_path / "r.npz"), "--check", "--timeout", "0.5")
    finally:
        board.close()
    assert result.returncode == 1, result.stderr
    assert "check: sample " in result.stderr and "golden model" in result.stderr


def _halved(network):
    from dataclasses import replace

    layers = list(network.layers)
    layers[-1] = replace(layers[-1], weight=layers[-1].weight // 2)
    return replace(network, layers=tuple(layers))


def test_board_run_in_simulation_is_bit_exact(tmp_path: Path) -> None:
    """The board core in Verilator (UART and protocol included) against the golden model."""
    from snnhw.sim.runner import cosim

    x = _digits(8)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "r.npz"
    result = snnhw("board", "run", "digits", str(tmp_path / "x.npy"), "--port", "sim", "--check", "--out", str(out),
                   timeout=900)
    assert result.returncode == 0, result.stderr
    assert "equal the golden model's" in result.stdout and "0 resends" in result.stdout
    # eight samples in flight at once: the line is busy, and the rate in simulated time nears the frames' bound
    share = re.search(r"simulated link: .* \(8 results in .*; ([0-9.]+) % of the frames' bound\)", result.stdout)
    assert share is not None and 80.0 <= float(share.group(1)) <= 100.0, result.stdout
    network = resolve_network("digits")
    golden = simulate(network, x)
    with np.load(out) as r:
        assert np.array_equal(r["predictions"], golden.predictions) and np.array_equal(r["scores"], golden.scores)
        cycles = r["cycles"]
    # the accelerator's own count equals the co-simulation's latency of the sample run alone, on the board's
    # default build (the simulated board is the one `board build` makes without build options)
    from snnhw.boards import get_board

    build = resolve_build(network, None, lanes=get_board("ulx3s-85f").default_lanes)
    for k in (0, 3):
        trace, _ = cosim(network, build, x[k:k + 1])
        assert int(trace.extras["cycles"][0]) == int(cycles[k])


def test_clock_generators() -> None:
    pll = ecp5_pll(25_000_000, 75_000_000)
    assert (pll.params["CLKI_DIV"], pll.params["CLKFB_DIV"], pll.params["CLKOP_DIV"]) == (1, 3, 8)
    assert pll.vco_hz == 600_000_000
    with pytest.raises(BuildError, match="cannot make this clock exactly"):
        ecp5_pll(25_000_000, 48_000_000)
    mm = mmcme4(125_000_000, 100_000_000)
    assert mm.vco_hz == 1_000_000_000 and mm.params["CLKOUT0_DIVIDE_F"] == 10.0
    out = mm.in_hz * mm.params["CLKFBOUT_MULT_F"] / mm.params["DIVCLK_DIVIDE"] / mm.params["CLKOUT0_DIVIDE_F"]
    assert out == 100_000_000


def test_board_defaults() -> None:
    """The ULX3S's default build is its measured one (16 lanes); a build option given replaces it."""
    from snnhw.boards import get_board

    ulx3s, zcu = get_board("ulx3s-85f"), get_board("zcu104")
    assert ulx3s.default_lanes == 16 and ulx3s.default_lanes_for(None, None, None) == 16
    assert ulx3s.default_lanes_for(None, 4, None) == 4 and ulx3s.default_lanes_for(Path("b.json"), None, None) is None
    assert ulx3s.default_lanes_for(None, None, 2) is None and zcu.default_lanes_for(None, None, None) is None
    assert ulx3s.default_reason and ulx3s.clock_plan(ulx3s.default_clock_hz).out_hz == ulx3s.default_clock_hz


def test_board_build_refuses_bad_clocks(tmp_path: Path) -> None:
    assert_clean_error(snnhw("board", "build", "digits", "--board", "ulx3s-85f", "--out", str(tmp_path / "b"),
                             "--clock-mhz", "48"), "--clock-mhz", "cannot make this clock exactly")
    assert_clean_error(snnhw("board", "build", "digits", "--board", "zcu104", "--out", str(tmp_path / "b"),
                             "--baud", "30000000"), "--baud", "at least 4 clock cycles per bit")


def test_zcu104_vivado_project(tmp_path: Path) -> None:
    out = tmp_path / "z"
    result = snnhw("board", "build", "mnist", "--board", "zcu104", "--out", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "not run" in result.stdout
    info = json.loads((out / "board.json").read_text())
    for key in ("board", "part", "clock_mhz", "baud", "fmax_mhz", "timing_met", "resources", "tools", "network_hash"):
        assert key in info
    assert info["part"] == "xczu7ev-ffvc1156-2-e" and info["fmax_mhz"] is None and info["timing_met"] is None
    assert info["board_defaults"]["used"] == ["baud", "clock_mhz"] and info["board_defaults"]["lanes"] is None
    assert info["network_hash"] == resolve_network("mnist").content_hash()
    tcl = (out / "snnhw_board.tcl").read_text()
    assert "create_project -force -name snnhw_board -part xczu7ev-ffvc1156-2-e" in tcl
    assert "write_bitstream" in tcl
    xdc = (out / "snnhw_board.xdc").read_text()
    for pin, port in (("F23", "clk125_0__p"), ("E23", "clk125_0__n"), ("A20", "uart_0__rx"), ("C19", "uart_0__tx")):
        assert f'set_property LOC {pin} [get_ports "{port}' in xdc
    assert "create_clock -name clk125_0__p -period 8.0" in xdc
    verilog = (out / "snnhw_board.v").read_text()
    assert "MMCME4_BASE" in verilog and "CLKFBOUT_MULT_F(8.0)" in verilog and "CLKOUT0_DIVIDE_F(10.0)" in verilog
    assert (out / "build_snnhw_board.sh").exists()
    # vivado boards are programmed by Vivado
    assert_clean_error(snnhw("board", "program", str(out)), "programmed by Vivado")


@pytest.fixture(scope="module")
def ulx3s_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("ulx3s") / "b"
    return out, snnhw("board", "build", "digits", "--board", "ulx3s-85f", "--lanes", "1", "--clock-mhz", "75",
                      "--out", str(out), timeout=1800)


@pytest.mark.slow
def test_ulx3s_bitstream(ulx3s_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """One real bitstream: nextpnr's timing passes at 75 MHz and the .bit is whole."""
    out, result = ulx3s_build
    assert result.returncode == 0, result.stderr
    info = json.loads((out / "board.json").read_text())
    assert info["timing_met"] is True and info["fmax_mhz"] >= 75.0 and info["clock_mhz"] == 75.0
    assert info["clocks_per_bit"] == 25 and info["baud"] == 3_000_000
    assert info["build"]["layers"][0]["lanes"] == 1 and info["board_defaults"]["used"] == ["baud"]
    assert info["resources"]["EHXPLLL"]["used"] == 1 and info["resources"]["TRELLIS_COMB"]["used"] > 1000
    # nextpnr ran through the wrapper that folds the block RAMs' output flip-flops into their registers
    assert info["ebr_output_registers"]["ports"] >= 1
    bit = out / "snnhw_board.bit"
    data = bit.read_bytes()
    assert info["bitstream"]["bytes"] == len(data)
    # ecppack --compress: a compressed LFE5U-85F image; the preamble and the 85F IDCODE (0x41113043) are there
    assert 50_000 < len(data) < 2_400_000
    assert data.startswith(b"\xff\x00Part: LFE5U-85F-6CABGA381\x00") and b"\xff\xff\xbd\xb3" in data[:256]
    assert bytes.fromhex("41113043") in data[:512]
    lpf = (out / "snnhw_board.lpf").read_text()
    for pin in ("G2", "M1", "L4", "B2"):
        assert f'SITE "{pin}"' in lpf
    assert "FREQUENCY NET" in lpf and "75000000" in lpf


@pytest.mark.slow
def test_board_program_passes_the_right_arguments(ulx3s_build: tuple[Path, subprocess.CompletedProcess[str]],
                                                  tmp_path: Path) -> None:
    out, result = ulx3s_build
    assert result.returncode == 0, result.stderr
    fake = tmp_path / "bin"
    fake.mkdir()
    record = tmp_path / "args"
    (fake / "openFPGALoader").write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    (fake / "openFPGALoader").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "snnhw", "board", "program", str(out), "--flash"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert record.read_text().split() == ["-f", "--board", "ulx3s", str(out / "snnhw_board.bit")]


@pytest.mark.parametrize("command", [["board"], ["board", "build"], ["board", "run"], ["board", "program"]])
def test_board_help(command: list[str]) -> None:
    result = snnhw(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_timing_verdict_from_the_nextpnr_report() -> None:
    from snnhw.board.build import parse_timing

    report = {"fmax": {"$glbnet$clk": {"achieved": 99.69, "constraint": 75.0},
                       "$glbnet$clk25": {"achieved": 400.0, "constraint": 25.0}}}
    fmax, met, clocks = parse_timing(report, 75_000_000)
    assert fmax == 99.69 and met is True and len(clocks) == 2
    report["fmax"]["$glbnet$clk"]["achieved"] = 70.1
    assert parse_timing(report, 75_000_000)[:2] == (70.1, False)
    assert parse_timing({}, 75_000_000) == (None, None, {})


def test_loadable_board_runs_two_networks_without_a_rebuild(tmp_path: Path) -> None:
    """One simulated loadable board (UART and protocol included): two networks loaded over the host link
    one after another, each bit-exact; a network it does not hold is refused."""
    from snnhw.board.runtime import BoardLink, load_network, open_port, run_samples
    from snnhw.board.simlink import SimulatedBoard
    from snnhw.errors import BoardError

    from .test_program import BUILD, FULL, SMALL, A, X

    with SimulatedBoard(A, BUILD, clock_hz=12_000_000, baud=3_000_000) as pty:
        link = BoardLink(open_port(pty, 3_000_000), timeout=120.0, retries=2, port=pty)
        try:
            for net in (FULL, SMALL):
                x = X[:4, :net.input.size]
                report = load_network(net, A, BUILD, link)
                assert report.status.committed and report.attempts == 1
                run = run_samples(net, x, link)
                golden = simulate(net, x)
                assert np.array_equal(run.predictions, golden.predictions)
                assert np.array_equal(run.scores, golden.scores)
            with pytest.raises(BoardError, match="load it with snnhw board load"):
                run_samples(FULL, X[:1], link)
        finally:
            link.link.close()
        assert link.resends == 0


def test_loadable_board_build_and_run_on_the_command_line(tmp_path: Path) -> None:
    """`board build --loadable` (the ZCU104 project: written, not run), `board load --port sim` and
    `board run --port sim --hardware`: the simulated board holds what was loaded last, as a real board does;
    `board load` refuses what does not fit."""
    from snnhw.netgen import random_network

    from .test_program import FULL, A, X

    A.save(tmp_path / "a.npz")
    FULL.save(tmp_path / "full.npz")
    np.save(tmp_path / "x.npy", X[:3])
    out = tmp_path / "B"
    result = snnhw("board", "build", str(tmp_path / "a.npz"), "--board", "zcu104", "--loadable", "--encoder-fan-in",
                   "16", "--lanes", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "network.npz").is_file() and json.loads((out / "board.json").read_text())["build"]["load"]
    run = ["board", "run", str(tmp_path / "full.npz"), str(tmp_path / "x.npy"), "--port", "sim", "--board", "zcu104",
           "--hardware", str(out), "--check", "--out", str(tmp_path / "r.npz")]
    # the board holds its own network until another is loaded
    assert_clean_error(snnhw(*run, timeout=900), "holds network", "not 'random-42'", "snnhw board load")
    result = snnhw("board", "load", str(tmp_path / "full.npz"), "--port", "sim", "--board", "zcu104", "--hardware",
                   str(out), timeout=900)
    assert result.returncode == 0, result.stderr
    assert "loaded random-42 into the simulated board" in result.stdout and (out / "sim-loaded.npz").is_file()
    result = snnhw(*run, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "holds random-42" in result.stdout and "equal the golden model's" in result.stdout
    random_network(60, sizes=(13, 8, 4), time_steps=6).save(tmp_path / "big.npz")
    assert_clean_error(snnhw("board", "load", str(tmp_path / "big.npz"), "--port", "/dev/null", "--hardware", str(out)),
                       "layers.0.size: must be at most the design's 12")
