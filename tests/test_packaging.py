"""A non-editable install works: build the wheel, install it into a fresh environment, run the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    # Build from a copy so the source tree stays clean.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("snnhw", "sim", "flows", "boards"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("snnhw-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "snnhw/networks/example.npz" in names
    assert "snnhw/networks/digits.npz" in names and "snnhw/networks/mnist.npz" in names
    assert "snnhw/py.typed" in names
    assert "snnhw/sim/bench.py" in names and "snnhw/sim/runner.py" in names  # what `snnhw run` needs from sim/
    assert "snnhw/rtl/lint.vlt" in names
    for module in ("boards/__init__.py", "boards/ulx3s.py", "boards/zcu104.py", "boards/common.py", "board/core.py",
                   "sim/board_bench.py"):
        assert f"snnhw/{module}" in names  # what `snnhw board` needs
    for template in ("xcup/synth.ys", "xcup/vivado.tcl", "xcup/snnhw_top.xdc", "ecp5/synth.ys", "asap7/synth.ys",
                     "asap7/sta.tcl", "asap7/abc.constr", "orfs/config.mk", "asap7/constraint.sdc"):
        assert f"snnhw/flows/{template}" in names  # what `snnhw synth` renders

    # A fresh environment; the dependencies come from this one through a path entry,
    # snnhw itself only from the wheel.
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)

    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import snnhw; print(snnhw.__file__)"], cwd=work, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(env)), where.stdout
    script = env / "bin" / "snnhw"
    for args in (["--help"], ["networks"], ["eval", "digits", "--dataset", "digits", "--limit", "20"], ["random", "n.npz", "--seed", "1", "--inputs", "x.npy"],
                 ["run", "n.npz", "x.npy", "--out", "t.npz", "--stats"], ["run", "example", "x.npy", "--out", "t.npz"],
                 ["generate", "n.npz", "--out", "rtl", "--lanes", "2"],
                 ["board", "build", "digits", "--board", "zcu104", "--out", "z"],
                 ["run", "n.npz", "x.npy", "--engine", "icarus", "--limit", "2", "--out", "hw.npz"]):
        result = subprocess.run([str(script), *args], cwd=work, capture_output=True, text=True)
        if args[:2] == ["run", "example"]:
            assert result.returncode == 2 and "shape (N, 64)" in result.stderr
            continue
        assert result.returncode == 0, (args, result.stderr)
    assert (work / "t.npz").exists()
    assert (work / "rtl" / "snnhw_top.v").exists() and (work / "hw.npz").exists()
    assert (work / "z" / "snnhw_board.xdc").exists() and (work / "z" / "board.json").exists()
