"""Design-space sweeps on Dask: spec validation, a local cluster against point-by-point runs, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the `sweep` extra is part of `make setup`")

from snnhw.errors import InputError
from snnhw.netgen import random_network
from snnhw.sweep import expand, load_spec, run_point, run_sweep

SPEC = """networks = ["digits"]
targets = ["xcup"]
cosim = 0
dataset = "digits"
samples = 60
[build]
lanes = [1, 2, 4]
cores = [1]
"""


@pytest.mark.parametrize(("text", "fragment"), [
    ("networks = ['digits']\nfrobnicate = 1\n", "frobnicate: unknown key"),
    ("networks = ['digits']\ntargets = ['vivado']\n", "targets: must be a non-empty list of xcup, ecp5, asap7"),
    ("networks = ['digits']\n[build]\nlaness = [1]\n", "build.laness: unknown build key"),
    ("targets = ['xcup']\n", "networks: the spec names no network"),
    ("networks = ['no-such-net']\n", "networks: neither a bundled network nor a file"),
    ("networks = ['digits'\n", "not valid TOML"),
    ("[[train]]\ndataset = 'digits'\nepochz = 3\n", "train.0.epochz: unknown training option"),
    ("networks = ['digits']\ncosim = -1\n", "cosim: must be an integer ≥ 0"),
    ("networks = ['digits']\nclock_mhz = 'fast'\n", "clock_mhz: must be a number of MHz > 0"),
    ("networks = ['digits']\ncorner = 'SS'\n", "corner: must be FF or TT"),
    ("networks = ['digits']\n[[points]]\nnetwork = 'other'\ntarget = 'xcup'\n", "points.0.network: must name"),
    ("networks = ['digits']\n[[points]]\nnetwork = 'digits'\ntarget = ['xcup', 'fpga']\n",
     "points.0.target: must be one of"),
    ("networks = ['digits']\n[[points]]\nnetwork = 'digits'\ntarget = 'xcup'\nlanes = []\n",
     "points.0.lanes: must list at least one value"),
    ("[[train]]\ndataset = 'digits'\n[train.axes]\ntime_steps = 4\n", "train.0.axes.time_steps: must be a non-empty"),
    ("[[train]]\ndataset = 'digits'\n[train.axes]\nstepz = [4]\n", "train.0.axes.stepz: unknown training option"),
    ("[[train]]\ndataset = 'digits'\ntime_steps = 2\n[train.axes]\ntime_steps = [4]\n",
     "train.0.axes.time_steps: given both"),
    ("[[train]]\ndataset = 'digits'\n[train.axes]\ntime_steps = [4, 0]\n", "train.0 at {\"time_steps\":0}: invalid"),
    ("[[train]]\ndataset = 'digits'\n[[train]]\ndataset = 'digits'\nname = 'train0'\n", "names a network twice"),
    ("networks = ['digits']\ntime_limit_s = 0\n", "time_limit_s: must be a number of seconds > 0"),
    ("networks = ['digits']\ncycle_samples = 0\n", "cycle_samples: must be an integer ≥ 1"),
    ("[[train]]\ndataset = 'digits'\nepochs = 1.5\n", "train.0.epochs: must be an integer"),
    ("[[train]]\ndataset = 'digits'\nlr = 'fast'\n", "train.0.lr: must be a number"),
    ("[[train]]\ndataset = 'digits'\n[train.axes]\nhidden = [64]\n", "train.0.axes.hidden: must be a list of integers"),
    ("[[train]]\ndataset = 'digits'\n[train.axes]\nleak = ['shift:2', 3]\n", "train.0.axes.leak: must be a string"),
])
def test_malformed_specs_give_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(InputError) as info:
        load_spec(tmp_path / "s.toml")
    assert fragment in str(info.value) and str(tmp_path / "s.toml") in str(info.value)
    assert "\n" not in str(info.value)


def test_cross_product_and_explicit_points(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(SPEC.replace('targets = ["xcup"]', 'targets = ["xcup", "ecp5"]'))
    points = expand(load_spec(tmp_path / "s.toml"))
    assert len(points) == 6 and points[0].axes() == {"network": "digits", "target": "xcup", "cores": 1, "lanes": 1}
    (tmp_path / "p.toml").write_text('networks = ["digits"]\n[[points]]\nnetwork = "digits"\ntarget = "asap7"\n'
                                     'lanes = 8\n')
    assert [p.axes() for p in expand(load_spec(tmp_path / "p.toml"))] == [
        {"network": "digits", "target": "asap7", "lanes": 8}]


def test_training_axes_and_point_lists(tmp_path: Path) -> None:
    """[train.axes] makes one network per combination; a [[points]] entry's lists are its own small cross product,
    and a [[train]] table's name stands for every network it makes."""
    (tmp_path / "s.toml").write_text(
        'networks = ["digits"]\n[[train]]\nname = "t"\ndataset = "digits"\nepochs = 1\n'
        '[train.axes]\ntime_steps = [2, 4]\nhidden = [[16], [32]]\n'
        '[[points]]\nnetwork = "digits"\ntarget = ["ecp5", "xcup"]\nlanes = [4, 1]\n'
        '[[points]]\nnetwork = "t"\ntarget = "asap7"\nlanes = 2\n')
    spec = load_spec(tmp_path / "s.toml")
    assert list(spec.networks) == ["digits", "t(time_steps=2, hidden=[16])", "t(time_steps=2, hidden=[32])",
                                   "t(time_steps=4, hidden=[16])", "t(time_steps=4, hidden=[32])"]
    assert spec.networks["t(time_steps=4, hidden=[16])"]["config"] == {
        "dataset": "digits", "epochs": 1, "hidden": [16], "name": "t", "time_steps": 4}
    points = expand(spec)
    assert [(p.network, p.target, dict(p.build)["lanes"]) for p in points[:4]] == [
        ("digits", "ecp5", 4), ("digits", "ecp5", 1), ("digits", "xcup", 4), ("digits", "xcup", 1)]
    assert [p.network for p in points[4:]] == list(spec.networks)[1:]
    assert points[4].axes() == {
        "network": "t(time_steps=2, hidden=[16])", "time_steps": 2, "hidden": [16], "target": "asap7", "lanes": 2}


def test_a_point_past_its_time_limit_fails_with_the_reason(tmp_path: Path) -> None:
    """The tools of a point still running at ``time_limit_s`` are stopped; the point is recorded as failed."""
    (tmp_path / "s.toml").write_text('networks = ["digits"]\ntime_limit_s = 1\n')
    spec = load_spec(tmp_path / "s.toml")
    options = {"cosim": 0, "dataset": None, "samples": 0, "clock_mhz": None, "corner": "FF", "time_limit_s": 1.0}
    rec = run_point(spec.networks["digits"], {"network": "digits", "target": "ecp5", "lanes": 1}, options,
                    str(tmp_path / "runs"), str(tmp_path / "cache"))
    assert rec["status"] == "failed" and "time limit of 1 s" in rec["error"], rec
    assert rec["wall_s"] < 60


def test_time_limit_kills_a_running_tool_and_refuses_a_late_one(tmp_path: Path) -> None:
    """Inside ``time_limit``, a tool still running at the deadline is killed, and one started after it never runs."""
    import time

    from snnhw.errors import ToolError
    from snnhw.synth.tools import run_tool, time_limit

    start = time.monotonic()
    with time_limit(1.0):
        with pytest.raises(ToolError, match=r"sh stopped after 1 s: the time limit of 1 s was reached"):
            run_tool("sh", ["-c", "sleep 30"], tmp_path, "sleep.log", progress=False)
        assert time.monotonic() - start < 10
        with pytest.raises(ToolError, match="sh not started: the time limit of 1 s is spent"):
            run_tool("sh", ["-c", "touch ran"], tmp_path, "late.log", progress=False)
    assert not (tmp_path / "ran").exists()
    run_tool("sh", ["-c", "touch ran"], tmp_path, "after.log", progress=False)  # no limit outside the block
    assert (tmp_path / "ran").exists()


def _comparable(rec: dict) -> dict:
    rep = rec["report"]
    return {"point": rec["point"], "status": rec["status"], "accuracy": rec.get("accuracy"), "fpga": rep["fpga"],
            "cycles": rep["performance"]["cycles_per_sample"], "latency": rep["performance"]["latency_us"]}


def test_a_local_cluster_sweep_equals_a_point_run_alone_and_resumes(tmp_path: Path) -> None:
    # a small random network of the digits data's shape (64 inputs of 5 bits): the point here is the sweep
    random_network(9, input_size=64, input_bits=5, sizes=[12, 10], time_steps=3, weight_bits=4,
                   potential_bits=10, density=0.3).save(tmp_path / "small.npz")
    # two points, one per worker
    (tmp_path / "s.toml").write_text(SPEC.replace('networks = ["digits"]', f'networks = ["{tmp_path / "small.npz"}"]')
                                     .replace("lanes = [1, 2, 4]", "lanes = [1, 2]"))
    spec = load_spec(tmp_path / "s.toml")
    results = run_sweep(spec, tmp_path / "out", workers=2, progress=False)
    assert [r["status"] for r in results] == ["ok"] * 2, [r.get("error") for r in results]
    lines = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and {tuple(sorted(line["point"].items())) for line in lines} == {
        tuple(sorted(r["point"].items())) for r in results}
    assert all(line["worker"].startswith("tcp://127.0.0.1:") and line["wall_s"] > 0 for line in lines)
    assert (tmp_path / "out" / "summary.md").is_file() and (tmp_path / "out" / "pareto.png").is_file()
    assert (tmp_path / "out" / "accuracy.png").is_file()
    assert "accuracy against latency" in (tmp_path / "out" / "summary.md").read_text()
    # the largest point again, alone and outside Dask: the same record (the other points take the same path)
    options = {"cosim": 0, "dataset": "digits", "samples": 60, "clock_mhz": None, "corner": "FF"}
    rec = max(results, key=lambda r: r["point"]["lanes"])
    entry = next(iter(spec.networks.values()))
    alone = run_point(entry, rec["point"], options, str(tmp_path / "alone"), str(tmp_path / "cache"))
    assert _comparable(alone) == _comparable(rec)
    # an interrupted run: only the first line was written; --resume redoes nothing that had finished
    first = (tmp_path / "out" / "results.jsonl").read_text().splitlines()[0]
    (tmp_path / "out" / "results.jsonl").write_text(first + "\n" + '{"key": "cut sh')
    runs = sorted(p.name for p in (tmp_path / "out" / "runs").rglob("*") if p.is_dir())
    again = run_sweep(spec, tmp_path / "out", workers=1, resume=True, progress=False)
    assert [_comparable(r) for r in again] == [_comparable(r) for r in results]
    assert sorted(p.name for p in (tmp_path / "out" / "runs").rglob("*") if p.is_dir()) == runs
    assert sum(bool(r.get("cached")) for r in again) == 1


def test_a_hand_started_scheduler_with_two_workers_survives_a_killed_worker(tmp_path: Path) -> None:
    """`dask scheduler` and two `dask worker`s on 127.0.0.1, as a user starts them; the worker that finished the
    first point is killed (with its nanny) mid-sweep: every point still completes, spread over both workers."""
    import contextlib
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    dask = shutil.which("dask") or str(Path(sys.executable).parent / "dask")
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        p = subprocess.Popen([dask, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True, cwd=tmp_path)
        procs.append(p)
        return p

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
              "--scheduler-file", str(tmp_path / "scheduler.json"))
        deadline = time.monotonic() + 60
        while not (tmp_path / "scheduler.json").is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads((tmp_path / "scheduler.json").read_text())["address"]
        workers = [start("worker", address, "--nthreads", "1", "--dashboard-address", ":0",
                         "--name", f"w{i}") for i in range(2)]
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
            by_address = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
        # a small network: the point here is the scheduling, not the design
        random_network(5, input_size=8, input_bits=4, sizes=[6, 4], time_steps=3, weight_bits=4,
                       potential_bits=8).save(tmp_path / "small.npz")
        (tmp_path / "s.toml").write_text(f'networks = ["{tmp_path / "small.npz"}"]\ntargets = ["xcup"]\n'
                                         '[build]\nlanes = [1, 2, 3, 4]\n')
        killed: list[str] = []

        def kill_first(rec: dict) -> None:
            if killed:
                return
            killed.append(rec["worker"])
            name = next(n for n, a in by_address.items() if a == rec["worker"])
            os.killpg(workers[int(name[1:])].pid, signal.SIGKILL)

        results = run_sweep(load_spec(tmp_path / "s.toml"), tmp_path / "out", scheduler=address, progress=False,
                            on_result=kill_first)
        assert [r["status"] for r in results] == ["ok"] * 4, [r.get("error") for r in results]
        assert len({r["worker"] for r in results}) == 2 and killed[0] in {r["worker"] for r in results}
        assert all(r["worker"] in by_address.values() for r in results)
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
