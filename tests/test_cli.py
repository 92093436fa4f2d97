"""The command line, through a subprocess, including every bad-input path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnhw.cli import cli
from snnhw.model import simulate
from snnhw.model.trace import load_trace
from snnhw.netfile import load_network

from .activity import assert_active
from .conftest import base_arrays, base_config, write_network_file


def snnhw(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "snnhw", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    if lines and lines[0].startswith("snnhw: error:"):
        assert len(lines) == 1, result.stderr


def _commands() -> list[list[str]]:
    """Every command and every subcommand of a command group (``board build``, ``board load`` …)."""
    out: list[list[str]] = [[]]
    for name in sorted(cli.commands):
        out.append([name])
        sub = getattr(cli.commands[name], "commands", {})
        out += [[name, s] for s in sorted(sub)]
    return out


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "snnhw")
def test_help_everywhere(command: list[str]) -> None:
    result = snnhw(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_version() -> None:
    result = snnhw("--version")
    assert result.returncode == 0 and "snnhw" in result.stdout


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    result = snnhw("random", "net.npz", "--seed", "5", "--sizes", "9,7,3", "--inputs", "x.npy", "--samples", "11", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_random_info_run(workdir: Path) -> None:
    network = load_network(workdir / "net.npz")
    assert [layer.size for layer in network.layers] == [9, 7, 3]
    info = snnhw("info", "net.npz", "--json", cwd=workdir)
    assert info.returncode == 0
    summary = json.loads(info.stdout)
    assert summary["hash"] == network.content_hash()
    assert summary["layers"][0]["stream_bits"] == {"dt": 3, "idx": 4, "amp": 2, "token": 9}
    table = snnhw("info", "net.npz", cwd=workdir)
    assert "dense2" in table.stdout
    result = snnhw("run", "net.npz", "x.npy", "--engine", "golden", "--out", "trace", "--stats", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "saturations" in result.stdout and "encoder" in result.stdout
    trace = load_trace(workdir / "trace")  # exactly the path given
    expected = simulate(network, np.load(workdir / "x.npy"))
    for key, value in expected.arrays().items():
        assert np.array_equal(trace.arrays()[key], value), key
    assert not [p for p in workdir.iterdir() if p.name.endswith(".tmp")]


def test_run_limit_and_empty(workdir: Path) -> None:
    result = snnhw("run", "net.npz", "x.npy", "--out", "t.npz", "--limit", "4", cwd=workdir)
    assert result.returncode == 0
    assert load_trace(workdir / "t.npz").samples == 4
    np.save(workdir / "empty.npy", np.zeros((0, 16), dtype=np.uint8))
    result = snnhw("run", "net.npz", "empty.npy", "--out", "e.npz", cwd=workdir)
    assert result.returncode == 0
    trace = load_trace(workdir / "e.npz")
    assert trace.predictions.shape == (0,) and trace.scores.shape == (0, 3)
    assert all(ev.shape == (0, 4) for ev in trace.events)


def test_random_is_reproducible(tmp_path: Path) -> None:
    for name in ("a.npz", "b.npz"):
        assert snnhw("random", name, "--seed", "9", "--vary", cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def _bad_inputs(workdir: Path) -> dict[str, str]:
    np.save(workdir / "float.npy", np.zeros((2, 16)))
    np.save(workdir / "bool.npy", np.zeros((2, 16), dtype=bool))
    np.save(workdir / "shape.npy", np.zeros((2, 15), dtype=np.int64))
    np.save(workdir / "one-d.npy", np.zeros(16, dtype=np.int64))
    np.save(workdir / "big.npy", np.full((2, 16), 256))
    np.save(workdir / "neg.npy", np.full((2, 16), -1))
    np.savez(workdir / "archive.npz", x=np.zeros((2, 16), dtype=np.int64))
    (workdir / "text.npy").write_text("not numpy")
    return {
        "float.npy": "integer dtype",
        "bool.npy": "integer dtype",
        "shape.npy": "shape (N, 16)",
        "one-d.npy": "shape (N, 16)",
        "big.npy": "0 … 255 (input.bits 8), got 256",
        "neg.npy": "got -1",
        "archive.npz": "not an .npz archive",
        "text.npy": "not a readable .npy array",
        "absent.npy": "no such file",
    }


def test_bad_inputs_refused_and_nothing_lost(workdir: Path) -> None:
    (workdir / "out.npz").write_bytes(b"previous result")
    for name, fragment in _bad_inputs(workdir).items():
        result = snnhw("run", "net.npz", name, "--out", "out.npz", cwd=workdir)
        assert_clean_error(result, f"snnhw: error: {name}: ", fragment)
        assert (workdir / "out.npz").read_bytes() == b"previous result"
    assert not [p for p in workdir.iterdir() if p.name.endswith(".tmp")]


def test_bad_network_refused(workdir: Path) -> None:
    config = base_config()
    config["layers"][1]["threshold"] = 0
    write_network_file(workdir / "bad.npz", config, base_arrays())
    np.save(workdir / "x3.npy", np.zeros((1, 3), dtype=np.int64))
    for command in (["info", "bad.npz"], ["run", "bad.npz", "x3.npy", "--out", "o.npz"]):
        result = snnhw(*command, cwd=workdir)
        assert_clean_error(result, "bad.npz: layers.1.threshold: must be an integer 1 … 127 for potential_bits 8, got 0")
    (workdir / "broken.npz").write_bytes((workdir / "net.npz").read_bytes()[:100])
    assert_clean_error(snnhw("info", "broken.npz", cwd=workdir), "broken.npz: ")
    assert_clean_error(snnhw("info", "nowhere.npz", cwd=workdir), "nowhere.npz: no such file")
    assert not (workdir / "o.npz").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "net.npz", "x.npy", "--out", "missing-dir/t.npz"], "output directory does not exist"),
        (["run", "net.npz", "x.npy", "--out", "."], "is a directory"),
        (["run", "net.npz", "x.npy"], "Missing option '--out'"),
        (["run", "net.npz", "x.npy", "--out", "t.npz", "--engine", "magic"], "Invalid value for '--engine'"),
        (["run", "net.npz", "x.npy", "--out", "t.npz", "--limit", "-1"], "Invalid value for '--limit'"),
        (["random", "r.npz", "--seed", "1", "--sizes", "4,0"], "comma-separated integers ≥ 1"),
        (["random", "r.npz", "--seed", "1", "--sizes", "a,b"], "comma-separated integers"),
        (["random", "r.npz", "--seed", "1", "--leak", "exp:2"], "leak: must be 'none', 'shift:K' or 'pow2:K'"),
        (["random", "r.npz", "--seed", "-1"], "Invalid value for '--seed'"),
        (["random", "r.npz", "--seed", "1", "--leak", "shift:16", "--potential-bits", "16"], "leak.shift: must be an integer 1 … 15"),
        (["random", "r.npz", "--seed", "1", "--density", "0"], "Invalid value for '--density'"),
        (["random", "r.npz"], "Missing option '--seed'"),
        (["random", "nodir/r.npz", "--seed", "1"], "output directory does not exist"),
        (["info"], "Missing argument 'NET'"),
        (["synth", "net.npz", "--target", "xcup", "--seed", "2", "--out", "s"], "--seed: sets nextpnr's seed"),
        (["synth", "net.npz", "--target", "ecp5", "--seed", "0", "--out", "s"], "Invalid value for '--seed'"),
    ],
)
def test_bad_options_refused(workdir: Path, args: list[str], fragment: str) -> None:
    assert_clean_error(snnhw(*args, cwd=workdir), fragment)
    assert not (workdir / "r.npz").exists()


def test_demo_reduced(tmp_path: Path) -> None:
    """`make demo` in a reduced mode: 12 co-simulated samples, the ASAP7 flow (the FPGA flows have their own
    tests in tests/test_synth.py)."""
    out = tmp_path / "report"
    result = subprocess.run([sys.executable, "-m", "snnhw", "demo", "--samples", "12", "--targets", "asap7",
                             "--lanes", "2", "--power-samples", "0", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "bit-exact: 12 samples" in result.stdout and "[5/5] report" in result.stdout
    summary = json.loads((out / "report.json").read_text())
    assert summary["cosim"]["bit_exact"] and summary["cosim"]["samples"] == 12
    assert summary["golden"]["samples"] == 360 and summary["golden"]["accuracy"] >= 0.95
    assert summary["cosim"]["cycles_per_sample_back_to_back"] > 0 and summary["cosim"]["latency_cycles_min"] > 0
    assert set(summary["flows"]) == {"asap7"}
    assert summary["flows"]["asap7"]["asic"]["area_um2"] > 0
    assert summary["flows"]["asap7"]["asic"]["corner"] == "FF"  # no energy step: the best case, not TT
    # the energy step is covered by tests/test_power.py; here it is switched off and says so
    assert summary["power"] is None and summary["skipped"] == {"power": "--power-samples 0"}
    text = (out / "report.md").read_text()
    assert "Verilator co-simulation" in text and "raster.png" in text
    assert "Energy per sample: not measured (--power-samples 0)" in text
    assert (out / "raster.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "rtl" / "snnhw_top.v").exists()


def test_demo_refuses_bad_targets_and_networks(tmp_path: Path) -> None:
    assert_clean_error(snnhw("demo", "--targets", "xcup,vivado", "--out", str(tmp_path / "r")), "--targets", "vivado")
    # The digits network on MNIST: refused before the report directory is created.
    assert_clean_error(snnhw("demo", "--net", "digits", "--dataset", "mnist", "--out", str(tmp_path / "r")),
                       "takes 64 inputs")
    assert not (tmp_path / "r").exists()


def test_run_on_icarus_writes_a_bit_exact_trace_with_cycles(tmp_path: Path) -> None:
    assert snnhw("random", "n.npz", "--seed", "4", "--sizes", "6,4,3", "--input-size", "8", "--time-steps", "5",
                 "--inputs", "x.npy", "--samples", "3", cwd=tmp_path).returncode == 0
    result = snnhw("run", "n.npz", "x.npy", "--engine", "icarus", "--lanes", "2", "--cores", "2", "--out", "hw",
                   cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "bit-exact against the golden model" in result.stdout
    network = load_network(tmp_path / "n.npz")
    hw, golden = load_trace(tmp_path / "hw"), simulate(network, np.load(tmp_path / "x.npy"))
    assert_active(network, golden)
    assert np.array_equal(hw.predictions, golden.predictions)
    assert np.array_equal(hw.scores, golden.scores)
    assert len(hw.events) == len(golden.events) == 3
    for i in range(3):
        assert np.array_equal(hw.events[i], golden.events[i]), f"layer {i}"
    assert hw.extras["cycles"].shape == (3,) and (hw.extras["cycles"] > 0).all()


def test_run_names_the_first_difference_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hardware trace that differs from the golden model: the command says where and exits 1."""
    from click.testing import CliRunner

    import snnhw.cli.simulate as cli_module

    real = cli_module.run_engine

    def broken(name, network, x, **kwargs):  # the simulator engine with one spike dropped
        trace = real("golden", network, x)
        if name == "golden":
            return trace
        events = list(trace.events)
        events[1] = events[1][1:]
        return type(trace)(trace.predictions, trace.scores, tuple(events), {"cycles": np.ones(len(x), dtype=np.int64)})

    monkeypatch.setattr(cli_module, "run_engine", broken)
    monkeypatch.chdir(tmp_path)
    assert snnhw("random", "n.npz", "--seed", "4", "--inputs", "x.npy", "--samples", "2", cwd=tmp_path).returncode == 0
    golden = simulate(load_network(tmp_path / "n.npz"), np.load(tmp_path / "x.npy"))
    s, t, n, a = (int(v) for v in golden.events[1][0])
    result = CliRunner().invoke(cli, ["run", "n.npz", "x.npy", "--engine", "icarus", "--out", "hw.npz"])
    assert result.exit_code == 1
    assert (f"MISMATCH against the golden model: sample {s}, layer 1 (dense1), step {t}, neuron {n}: "
            f"expected amplitude {a}, got 0") in result.output
    assert (tmp_path / "hw.npz").exists()  # what the hardware did is kept for inspection
