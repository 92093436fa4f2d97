"""Verilog generation, the build configuration and the generate command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from snnhw.sim.runner import simulator_available

from snnhw.errors import BuildError
from snnhw.netfile import resolve_network
from snnhw.netgen import random_network
from snnhw.rtl.build import resolve_build
from snnhw.rtl.core import auto_pipeline_depth
from snnhw.rtl.generate import generate, verilog_text

ROOT = Path(__file__).resolve().parents[1]


def _snnhw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "snnhw", *args], cwd=cwd, capture_output=True, text=True)


def test_same_network_and_build_give_the_same_bytes(tmp_path: Path) -> None:
    net = resolve_network("example")
    build = resolve_build(net, {"lanes": 3, "cores": 2})
    generate(net, build, tmp_path / "a")
    generate(net, build, tmp_path / "b")
    for name in ("snnhw_top.v", "metadata.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    text = (tmp_path / "a" / "snnhw_top.v").read_text()
    assert net.content_hash() in text.splitlines()[1]
    assert "src =" not in text  # no source-location attributes
    other = verilog_text(net, resolve_build(net, {"lanes": 4}))
    assert other != text


def test_metadata_lists_every_port_of_the_verilog(tmp_path: Path) -> None:
    net = random_network(2, input_size=5, input_bits=3, sizes=[4, 3], time_steps=3, readout="potential")
    build = resolve_build(net, {"weights": "loadable"})
    files = generate(net, build, tmp_path)
    meta = json.loads(files["metadata"].read_text())
    assert meta["network"]["sha256"] == net.content_hash()
    assert meta["build"]["layers"][1]["weights"] == "loadable"
    header = files["verilog"].read_text().split("module snnhw_top(", 1)[1].split(");", 1)[0]
    ports = {p.strip() for p in header.replace("\n", " ").split(",")}
    assert ports == {p["name"] for p in meta["ports"]}
    assert "tap_1_tdata" not in ports  # a potential readout's last layer has no events
    assert meta["cycle_model"]["layers"][1]["cycles_per_input_event"] == 3


def test_lanes_and_cores_are_clamped_to_each_layer() -> None:
    net = random_network(3, input_size=4, sizes=[6, 2, 1], time_steps=2)
    build = resolve_build(net, {"lanes": 4, "cores": 5})
    assert [(b.cores, b.lanes) for b in build.layers] == [(5, 2), (2, 1), (1, 1)]
    build = resolve_build(net, {"lanes": 1, "layers": {"dense1": {"lanes": 2}}}, lanes=3)
    assert [b.lanes for b in build.layers] == [3, 2, 1]  # --lanes overrides per-layer values, clamped


def test_pipeline_depth_resolves_per_layer() -> None:
    net = random_network(3, input_size=4, sizes=[6, 2, 1], time_steps=2, amplitude_bits=3)
    auto = [auto_pipeline_depth(layer, encoder=i == 0, fires=net.fires(i)) for i, layer in enumerate(net.layers)]
    # encoder: shift leak + current add + 3 division steps = 5 units; dense with bias: the same
    assert auto == [8, 8, 8]
    assert [b.pipeline_depth for b in resolve_build(net).layers] == auto
    build = resolve_build(net, {"pipeline_depth": 4, "layers": {"dense1": {"pipeline_depth": "auto"}}})
    assert [b.pipeline_depth for b in build.layers] == [4, 8, 4]
    assert build.to_json()["layers"][0]["pipeline_depth"] == 4


@pytest.mark.parametrize("config,key", [
    ({"lane": 2}, "lane"),
    ({"lanes": 0}, "lanes"),
    ({"fifo_depth": 0}, "fifo_depth"),
    ({"memory": "flash"}, "memory"),
    ({"layers": {"dense1": {"lanes": 7}}}, "layers.dense1.lanes"),
    ({"layers": {"nope": {"lanes": 1}}}, "layers.nope"),
    ({"layers": {"dense1": {"colour": 1}}}, "layers.dense1.colour"),
    ({"lanes": True}, "lanes"),
    ({"pipeline_depth": 3}, "pipeline_depth"),
    ({"pixels_per_beat": 3}, "pixels_per_beat"),
    ({"pixels_per_beat": True}, "pixels_per_beat"),
    ({"layers": {"dense1": {"pixels_per_beat": 2}}}, "layers.dense1.pixels_per_beat"),
    ({"pipeline_depth": "deep"}, "pipeline_depth"),
    ({"pipeline_depth": 4.0}, "pipeline_depth"),
    ({"layers": {"dense1": {"pipeline_depth": True}}}, "layers.dense1.pipeline_depth"),
])
def test_bad_build_configs_are_refused_with_the_key(config: dict, key: str) -> None:
    net = random_network(3, input_size=4, sizes=[6, 2, 1], time_steps=2)
    with pytest.raises(BuildError) as err:
        resolve_build(net, config)
    assert str(err.value).startswith(f"{key}:") or f" {key}:" in str(err.value)


def test_generate_cli(tmp_path: Path) -> None:
    (tmp_path / "build.json").write_text(json.dumps({"lanes": 2, "layers": {"dense1": {"lanes": 99}}}))
    bad = _snnhw("generate", "example", "--out", "out", "--build", "build.json", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "build.json: layers.dense1.lanes: must be at most the layer size 16, got 99" in bad.stderr
    assert not (tmp_path / "out").exists()
    zero = _snnhw("generate", "example", "--out", "out", "--lanes", "0", cwd=tmp_path)
    assert zero.returncode == 2 and "--lanes" in zero.stderr
    ok = _snnhw("generate", "example", "--out", "out", "--lanes", "4", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "out" / "snnhw_top.v").exists()
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert [layer["lanes"] for layer in meta["build"]["layers"]] == [4, 4, 4]


def test_verilator_lint_with_the_documented_waivers(tmp_path: Path) -> None:
    missing = simulator_available("verilator")
    if missing:
        pytest.fail(missing)
    import shutil

    net = random_network(4, input_size=6, input_bits=3, sizes=[5, 4, 3], time_steps=4, vary=True)
    for i, config in enumerate(({"lanes": 2, "cores": 2}, {"weights": "loadable"})):
        out = tmp_path / str(i)
        generate(net, resolve_build(net, config), out)
        waivers = ROOT / "snnhw" / "rtl" / "lint.vlt"
        result = subprocess.run([shutil.which("verilator") or "verilator", "--lint-only", "-Wall", str(waivers),
                                 str(out / "snnhw_top.v")], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        assert not re.search(r"%(Warning|Error)", result.stderr), result.stderr[-2000:]
