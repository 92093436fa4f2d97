"""NIR import: the mapping, exactness on integer networks, and every refusal."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
nir = pytest.importorskip("nir", reason="the `nir` extra is part of `make setup`")

from snnhw.errors import ImportRefused, InputError  # noqa: E402
from snnhw.importers.nir import ImportOptions, import_graph, import_nir, reference_run  # noqa: E402
from snnhw.ir import LeakKind, Readout, Reset  # noqa: E402
from snnhw.model import simulate  # noqa: E402
from snnhw.netfile import load_network  # noqa: E402


def _chain(*pairs, n_in: int) -> nir.NIRGraph:
    """Input → (synapse → neuron)… → Output, named s0, n0, s1, n1, …"""
    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])})}
    edges, prev = [], "input"
    for i, (syn, neu) in enumerate(pairs):
        nodes[f"s{i}"], nodes[f"n{i}"] = syn, neu
        edges += [(prev, f"s{i}"), (f"s{i}", f"n{i}")]
        prev = f"n{i}"
    size = pairs[-1][0].weight.shape[0]
    nodes["output"] = nir.Output(output_type={"output": np.array([size])})
    edges.append((prev, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges)


def _if(size: int, threshold) -> nir.IF:
    return nir.IF(r=np.ones(size), v_threshold=np.broadcast_to(np.asarray(threshold, dtype=float), (size,)).copy())


def _spikes(trace, layer: int, n: int, T: int, size: int) -> np.ndarray:
    out = np.zeros((n, T, size), dtype=bool)
    for s, t, i, _ in trace.events[layer]:
        out[s, t, i] = True
    return out


def test_integer_if_network_is_exact(tmp_path: Path) -> None:
    """Integer weights and thresholds with dt·r = 1: the golden model of the import spikes exactly as the
    NIR equations read directly (reset to zero, strict v > threshold)."""
    rng = np.random.default_rng(3)
    sizes, n_in, T = [12, 9, 5], 10, 7
    pairs, fan_in = [], n_in
    for k, size in enumerate(sizes):
        w = rng.integers(-6, 7, size=(size, fan_in)).astype(float)
        b = rng.integers(-3, 4, size=size).astype(float)
        pairs.append((nir.Affine(weight=w, bias=b), _if(size, [20.0, 6.0, 4.0][k])))
        fan_in = size
    nir.write(str(tmp_path / "if.nir"), _chain(*pairs, n_in=n_in))
    graph = nir.read(str(tmp_path / "if.nir"))
    net, report = import_nir(tmp_path / "if.nir", ImportOptions(time_steps=T, preset="steps", input_bits=4,
                                                                input_scale=1.0, weight_bits=8, potential_bits=16))
    assert all(layer.leak.kind is LeakKind.NONE for layer in net.layers) and net.readout is Readout.SPIKE_COUNT
    assert report.dt == 1.0 and report.dt_source == "preset steps"
    x = rng.integers(0, 16, size=(40, n_in))
    spikes, _ = reference_run(graph, x.astype(float), dt=1.0, time_steps=T, reset="zero")
    trace = simulate(net, x)
    for i, size in enumerate(sizes):
        assert np.array_equal(_spikes(trace, i, len(x), T, size), spikes[i]), f"layer {i}"
    assert sum(int(s.sum()) for s in spikes) > 50  # the comparison saw real activity


def test_snntorch_style_lif_maps_to_an_exact_shift_leak() -> None:
    """snnTorch writes tau = dt/(1 − β) and r = tau/dt: dt is inferred, β = 0.875 is the shift leak 3, unit gain."""
    dt, beta = 1e-4, 0.875
    tau = dt / (1 - beta)
    lif = nir.LIF(tau=np.full(4, tau), r=np.full(4, tau / dt), v_leak=np.zeros(4), v_threshold=np.ones(4))
    graph = _chain((nir.Linear(weight=np.full((4, 3), 0.5)), lif), n_in=3)
    net, report = import_graph(graph, ImportOptions(time_steps=4, reset="subtract", input_scale=1 / 255))
    layer = net.layers[0]
    assert report.dt == pytest.approx(dt) and report.dt_source.startswith("inferred")
    assert layer.leak.kind is LeakKind.SHIFT and layer.leak.shift == 3 and layer.reset is Reset.SUBTRACT
    m = report.layers[0]
    assert m.tau_error == pytest.approx(0, abs=1e-9) and m.gain == pytest.approx(1.0)
    # weight 0.5 per 1/255 LSB, scaled by the largest power of two that fits 8 bits: 0.5/255·2^e ≤ 127
    e = math.floor(math.log2(127 / (0.5 / 255)))
    assert m.scale_exponent == min(e, math.floor(math.log2((2**15 - 2) / 1.0)))
    assert layer.threshold == math.floor(2.0 ** m.scale_exponent) + 1  # strict v > 1 preserved


def test_beta_0_9_warns_and_tolerance_refuses() -> None:
    dt = 1e-4
    tau = dt / (1 - 0.9)
    lif = nir.LIF(tau=np.full(2, tau), r=np.full(2, tau / dt), v_leak=np.zeros(2), v_threshold=np.ones(2))
    graph = _chain((nir.Linear(weight=np.ones((2, 2))), lif), n_in=2)
    _, report = import_graph(graph, ImportOptions(time_steps=2, preset="snntorch"))
    assert report.layers[0].leak == "shift:3" and report.layers[0].tau_error == pytest.approx(0.2, rel=1e-6)
    assert any("20.0 % off" in w for w in report.warnings)  # tau = 10·dt becomes 8·dt
    with pytest.raises(ImportRefused, match=r"n0.tau: the closest leak .* 20.0 % above the tolerance of 15 %"):
        import_graph(graph, ImportOptions(time_steps=2, preset="snntorch", tolerance=0.15))


def test_li_readout_and_power_of_two_thresholds() -> None:
    w = np.array([[1.0, 2.0], [3.0, -1.0]])
    thresholds = np.array([1.0, 4.0])  # a factor 4: row 1 is scaled by 1/4
    li = nir.LI(tau=np.full(3, 8.0), r=np.full(3, 8.0), v_leak=np.zeros(3))
    graph = _chain((nir.Linear(weight=w), nir.IF(r=np.ones(2), v_threshold=thresholds)),
                   (nir.Affine(weight=np.ones((3, 2)), bias=np.zeros(3)), li), n_in=2)
    net, report = import_graph(graph, ImportOptions(time_steps=3, preset="steps", input_scale=1.0))
    assert net.readout is Readout.POTENTIAL and len(net.layers) == 2
    w0 = net.layers[0].weight
    assert w0[1, 0] * 4 == pytest.approx(3 * w0[0, 0], abs=4)  # row 1 carries 3/4 where row 0 carries 1
    assert report.layers[1].leak == "shift:3"  # β = 1 − 1/8


def _refused(graph, **kw) -> str:
    with pytest.raises(ImportRefused) as info:
        import_graph(graph, ImportOptions(time_steps=2, preset="steps", **kw))
    return str(info.value)


def test_every_refusal_names_the_node_and_the_rule() -> None:
    ok_syn = nir.Linear(weight=np.ones((2, 2)))
    lif = nir.LIF(tau=np.full(2, 4.0), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    base = _chain((ok_syn, lif), n_in=2)
    # recurrent edge
    g = nir.NIRGraph(nodes=dict(base.nodes), edges=[*base.edges, ("n0", "s0")], type_check=False)
    assert "recurrent edge" in _refused(g)
    # branch and merge
    nodes = dict(base.nodes)
    nodes["s1"] = nir.Linear(weight=np.ones((2, 2)))
    g = nir.NIRGraph(nodes=nodes, edges=[*base.edges, ("input", "s1"), ("s1", "output")], type_check=False)
    message = _refused(g)
    assert "branch" in message or "merge" in message
    # node kinds
    for node, rule in [
        (nir.CubaLIF(tau_syn=np.full(2, 4.0), tau_mem=np.full(2, 4.0), r=np.ones(2), v_leak=np.zeros(2),
                     v_threshold=np.ones(2)), "CubaLIF (current-based) neurons are not supported"),
        (nir.Delay(delay=np.ones(2)), "Delay is not supported"),
        (nir.Threshold(threshold=np.ones(2)), "a standalone Threshold is not supported"),
    ]:
        assert f"nodes.n0: {rule}" in _refused(_chain((ok_syn, node), n_in=2))
    # LI as a hidden layer
    li = nir.LI(tau=np.full(2, 4.0), r=np.ones(2), v_leak=np.zeros(2))
    assert "nodes.n0: LI neurons do not spike" in _refused(_chain((ok_syn, li), (ok_syn, lif), n_in=2))
    # non-zero v_reset, tau <= dt, different leaks, thresholds that cannot be made equal
    bad_reset = nir.LIF(tau=np.full(2, 4.0), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                        v_reset=np.full(2, 0.5))
    assert "nodes.n0.v_reset: non-zero v_reset" in _refused(_chain((ok_syn, bad_reset), n_in=2))
    fast = nir.LIF(tau=np.full(2, 1.0), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    assert "nodes.n0.tau: tau must exceed dt = 1 s" in _refused(_chain((ok_syn, fast), n_in=2))
    mixed = nir.LIF(tau=np.array([4.0, 8.0]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    assert "nodes.n0.tau: neurons of one layer need different leaks" in _refused(_chain((ok_syn, mixed), n_in=2))
    odd = nir.LIF(tau=np.full(2, 4.0), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.array([1.0, 3.0]))
    assert "nodes.n0.v_threshold: thresholds that no power-of-two scaling" in _refused(_chain((ok_syn, odd), n_in=2))


def test_dt_is_required_where_it_cannot_be_inferred() -> None:
    lif = nir.LIF(tau=np.array([4.0, 8.0]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    with pytest.raises(InputError, match="--dt: NIR stores no time step"):
        import_graph(_chain((nir.Linear(weight=np.ones((2, 2))), lif), n_in=2), ImportOptions(time_steps=2))


def _snnhw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snnhw", *args], capture_output=True, text=True, cwd=cwd)


def test_import_command_writes_the_network_and_its_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    graph = _chain((nir.Affine(weight=rng.normal(size=(6, 5)), bias=np.zeros(6)), _if(6, 1.0)),
                   (nir.Linear(weight=rng.normal(size=(3, 6))), _if(3, 1.0)), n_in=5)
    nir.write(str(tmp_path / "model.nir"), graph)
    ok = _snnhw("import", "model.nir", "--out", "net.npz", "--time-steps", "5", "--preset", "steps", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    net = load_network(tmp_path / "net.npz")
    assert [layer.size for layer in net.layers] == [6, 3] and net.name == "model" and net.time_steps == 5
    report = json.loads((tmp_path / "net.npz.import.json").read_text())
    assert report["dt"] == 1.0 and report["layers"][0]["nodes"] == ["s0", "n0"]
    # a file that is not NIR, and a refused graph: one line, exit 2, nothing written
    (tmp_path / "junk.nir").write_text("not hdf5")
    bad = _snnhw("import", "junk.nir", "--out", "j.npz", "--time-steps", "5", "--preset", "steps", cwd=tmp_path)
    assert bad.returncode == 2 and "junk.nir: not a NIR file" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "j.npz").exists()
    lif = nir.LIF(tau=np.full(2, 1.0), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    nir.write(str(tmp_path / "fast.nir"), _chain((nir.Linear(weight=np.ones((2, 2))), lif), n_in=2))
    bad = _snnhw("import", "fast.nir", "--out", "f.npz", "--time-steps", "5", "--preset", "steps", cwd=tmp_path)
    assert bad.returncode == 2 and "fast.nir: nodes.n0.tau: tau must exceed dt" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "f.npz").exists()


def test_calibration_report_and_agreement_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import snnhw.importers.nir as importer
    from snnhw.cli import cli

    rng = np.random.default_rng(5)
    graph = _chain((nir.Affine(weight=rng.integers(-4, 5, size=(8, 6)).astype(float), bias=np.zeros(8)), _if(8, 9.0)),
                   (nir.Linear(weight=rng.integers(-4, 5, size=(4, 8)).astype(float)), _if(4, 2.0)), n_in=6)
    options = ImportOptions(time_steps=6, preset="steps", input_bits=3, input_scale=1.0)
    net, report = import_graph(graph, options)
    x = rng.integers(0, 8, size=(30, 6))
    result = importer.agreement(graph, net, report, x)
    assert result["top1_agreement"] == 1.0 and report.calibration is result
    assert all(e["spike_agreement"] == 1.0 and e["first_divergence_step"] is None for e in result["layers"])
    assert result["layers"][0]["golden_spikes"] == result["layers"][0]["reference_spikes"] > 0
    nir.write(str(tmp_path / "m.nir"), graph)
    np.save(tmp_path / "x.npy", x)
    monkeypatch.chdir(tmp_path)
    args = ["import", "m.nir", "--out", "n.npz", "--time-steps", "6", "--preset", "steps", "--input-bits", "3",
            "--input-scale", "1", "--calibrate", "x.npy"]
    ok = CliRunner().invoke(cli, [*args, "--check-agreement", "1.0"])
    assert ok.exit_code == 0, ok.output
    assert "top-1 agreement 100.00 %" in ok.output
    saved = json.loads((tmp_path / "n.npz.import.json").read_text())
    assert saved["calibration"]["top1_agreement"] == 1.0 and saved["calibration"]["samples"] == 30

    def poor(graph, network, report, x):
        result = {"samples": len(x), "layers": [], "top1_agreement": 0.5}
        report.calibration = result
        return result

    monkeypatch.setattr(importer, "agreement", poor)
    low = CliRunner().invoke(cli, [*args, "--check-agreement", "0.9"])
    assert low.exit_code == 1 and "top-1 agreement 0.5000 is below --check-agreement 0.9" in low.output


@pytest.mark.filterwarnings("ignore:nirtorch.extract_nir_graph is being deprecated:DeprecationWarning")
def test_snntorch_export_imports_and_agrees(tmp_path: Path) -> None:
    """A model trained in snnTorch on digits (bench/snntorch_import.py, fewer epochs), written by snnTorch's
    own export_to_nir, imported with the snnTorch preset: the golden model agrees with snnTorch's forward
    pass on ≥ 95 % of the test split, the float reference of the NIR equations reproduces snnTorch's
    predictions, Verilator runs it bit for bit, and fine-tuning ends no more than 0.5 points below snnTorch."""
    torch = pytest.importorskip("torch", reason="the training extra is part of `make setup`")
    pytest.importorskip("snntorch", reason="the `snntorch` extra is part of `make setup`")
    import importlib.util

    from snntorch.export_nir import export_to_nir

    from snnhw.importers.nir import agreement, import_nir

    spec = importlib.util.spec_from_file_location("snntorch_import", ROOT / "bench" / "snntorch_import.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    T = 8
    model, theirs, test = bench.train_snntorch(beta=0.875, time_steps=T, epochs=8)
    assert (theirs == test.y).mean() > 0.85
    graph = export_to_nir(model, torch.zeros(1, 64), ignore_dims=[0])
    nir.write(str(tmp_path / "digits.nir"), graph)
    net, report = import_nir(tmp_path / "digits.nir", ImportOptions(time_steps=T, preset="snntorch", input_bits=5,
                                                                    input_scale=1 / 16))
    assert [layer.leak.shift for layer in net.layers] == [3, 3] and all(m.tau_error < 1e-6 for m in report.layers)  # float32 parameters
    golden = simulate(net, test.x)
    ours = golden.predictions
    assert (ours == theirs).mean() >= 0.95
    # the generated hardware computes the imported network bit for bit
    from snnhw.engines import run_engine
    from snnhw.model.trace import compare_traces
    from snnhw.rtl.build import resolve_build

    hardware = run_engine("verilator", net, test.x[:12], build=resolve_build(net, lanes=8))
    assert compare_traces(simulate(net, test.x[:12]), hardware) == []
    result = agreement(nir.read(str(tmp_path / "digits.nir"), type_check=False), net, report, test.x)
    assert result["top1_agreement"] == pytest.approx((ours == theirs).mean())  # the reference is snnTorch's forward
    # fine-tuning the imported network with the quantisation-aware trainer (`snnhw train --init`)
    from snnhw.train import TrainConfig
    from snnhw.train import train as fine_tune

    net.save(tmp_path / "digits.npz")
    tuned = fine_tune(TrainConfig(dataset="digits", init=str(tmp_path / "digits.npz"), epochs=3, lr=5e-4, threads=1),
                      progress=False).network
    assert [layer.size for layer in tuned.layers] == [32, 10] and tuned.layers[0].leak == net.layers[0].leak
    snntorch_accuracy = (theirs == test.y).mean()
    tuned_accuracy = (simulate(tuned, test.x).predictions == test.y).mean()
    # the integer network wins back what the conversion lost: no more than 0.5 points below snnTorch
    assert tuned_accuracy >= snntorch_accuracy - 0.005, (tuned_accuracy, snntorch_accuracy)


def test_export_and_import_give_back_the_identical_network(tmp_path: Path) -> None:
    from snnhw.importers.nir import export_graph, import_nir, write_nir
    from snnhw.netfile import resolve_network
    from snnhw.netgen import random_network

    networks = [random_network(seed, input_size=7, input_bits=5, sizes=[6, 5, 4], time_steps=5, vary=True)
                for seed in range(12)]
    networks += [random_network(3, readout="potential", leak="pow2:2", reset="zero", amplitude_bits=1),
                 random_network(4, leak="none", bias=False), resolve_network("digits")]
    for i, net in enumerate(networks):
        graph, _ = export_graph(net, dt=1e-3)
        write_nir(graph, tmp_path / f"{i}.nir")
        back, report = import_nir(tmp_path / f"{i}.nir", ImportOptions(time_steps=1))
        assert back.content_hash() == net.content_hash(), net.name
        assert "snnhw export" in report.dt_source
    # the command: warnings for what NIR cannot say, then `snnhw import` reads the same network back
    out = _snnhw("export", "digits", "--to", "nir", "--out", "d.nir", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "encoder: NIR has no subtract reset" in out.stdout and "graded amplitudes" in out.stdout
    back = _snnhw("import", "d.nir", "--out", "d.npz", "--time-steps", "1", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert load_network(tmp_path / "d.npz").content_hash() == resolve_network("digits").content_hash()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_snntorch_runs_an_snnhw_export(tmp_path: Path) -> None:
    """An snnhw network written as NIR and read by snnTorch's import_from_nir runs in snnTorch and predicts
    what the golden model predicts (shift leak, reset to zero: what NIR and snnTorch both express)."""
    torch = pytest.importorskip("torch", reason="the training extra is part of `make setup`")
    pytest.importorskip("snntorch", reason="snnTorch is part of `make setup`")
    from snntorch.import_nir import import_from_nir

    from snnhw.importers.nir import export_graph, write_nir
    from snnhw.netgen import random_network

    net = random_network(7, input_size=12, input_bits=4, sizes=[16, 10, 6], time_steps=6, reset="zero",
                         amplitude_bits=1, leak="shift:3", bias=False)
    graph, _ = export_graph(net)
    write_nir(graph, tmp_path / "e.nir")
    module = import_from_nir(nir.read(str(tmp_path / "e.nir")))
    x = np.random.default_rng(0).integers(0, 16, size=(50, 12))
    golden = simulate(net, x)
    state, steps = None, []
    with torch.no_grad():
        for _ in range(net.time_steps):
            out, state = module(torch.tensor(x, dtype=torch.float32), state)
            steps.append(out.numpy())
    spikes = np.stack(steps, axis=1).astype(bool)  # (N, T, size)
    ours = _spikes(golden, 2, len(x), net.time_steps, 6)
    assert ours.sum() > 100 and (spikes == ours).mean() > 0.95  # float leak against the integer floor leak
    assert (spikes.sum(axis=1).argmax(axis=1) == golden.predictions).mean() >= 0.9


def test_an_imported_network_is_bit_exact_on_verilator() -> None:
    from snnhw.engines import run_engine
    from snnhw.model.trace import compare_traces
    from snnhw.rtl.build import resolve_build

    rng = np.random.default_rng(11)
    dt = 1e-4
    tau = dt / (1 - 0.75)
    lif = [nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n), v_threshold=np.ones(n))
           for n in (9, 4)]
    graph = _chain((nir.Affine(weight=rng.normal(scale=0.3, size=(9, 8)), bias=rng.normal(scale=0.1, size=9)),
                    lif[0]), (nir.Linear(weight=rng.normal(size=(4, 9))), lif[1]), n_in=8)
    net, _ = import_graph(graph, ImportOptions(time_steps=5, preset="snntorch", input_bits=4))
    x = rng.integers(0, 16, size=(6, 8))
    golden = simulate(net, x)
    hardware = run_engine("verilator", net, x, build=resolve_build(net, lanes=3))
    assert compare_traces(golden, hardware) == []
    assert sum(len(e) for e in golden.events) > 10
