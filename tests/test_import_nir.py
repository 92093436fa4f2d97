"""NIR import: the mapping, exactness on integer networks, and every refusal."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir", reason="the `nir` extra is part of `make setup`")

from snnhw.errors import ImportRefused, InputError  # noqa: E402
from snnhw.importers.nir import ImportOptions, import_graph, reference_run  # noqa: E402
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


def test_integer_if_network_is_exact() -> None:
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
    graph = _chain(*pairs, n_in=n_in)
    net, report = import_graph(graph, ImportOptions(time_steps=T, preset="steps", input_bits=4, input_scale=1.0,
                                                    weight_bits=8, potential_bits=16))
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
    """A model trained in snnTorch on digits, written by snnTorch's own export_to_nir, imported with the
    snnTorch preset: the golden model agrees with snnTorch's forward pass on ≥ 95 % of the test split, and
    the float reference of the NIR equations reproduces snnTorch's predictions."""
    torch = pytest.importorskip("torch", reason="the training extra is part of `make setup`")
    snn = pytest.importorskip("snntorch", reason="snnTorch is part of the `nir` test dependencies of `make setup`")
    from snntorch.export_nir import export_to_nir

    from snnhw.datasets import load_dataset
    from snnhw.importers.nir import agreement, import_nir

    torch.manual_seed(0)
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    T, beta = 8, 0.875

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(64, 32)
            self.lif1 = snn.Leaky(beta=torch.full((32,), beta), threshold=torch.ones(32))
            self.fc2 = torch.nn.Linear(32, 10)
            self.lif2 = snn.Leaky(beta=torch.full((10,), beta), threshold=torch.ones(10))

        def forward(self, x):
            m1, m2, out = self.lif1.init_leaky(), self.lif2.init_leaky(), []
            for _ in range(T):
                s1, m1 = self.lif1(self.fc1(x), m1)
                s2, m2 = self.lif2(self.fc2(s1), m2)
                out.append(s2)
            return torch.stack(out)

    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    x = torch.tensor(train.x / 16.0, dtype=torch.float32)
    y = torch.tensor(train.y)
    for _ in range(8):
        for i in range(0, len(x), 64):
            loss = torch.nn.functional.cross_entropy(model(x[i:i + 64]).sum(0), y[i:i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        theirs = model(torch.tensor(test.x / 16.0, dtype=torch.float32)).sum(0).numpy().argmax(1)
    assert (theirs == test.y).mean() > 0.85
    graph = export_to_nir(model, torch.zeros(1, 64), ignore_dims=[0])
    nir.write(str(tmp_path / "digits.nir"), graph)
    net, report = import_nir(tmp_path / "digits.nir", ImportOptions(time_steps=T, preset="snntorch", input_bits=5,
                                                                    input_scale=1 / 16))
    assert [layer.leak.shift for layer in net.layers] == [3, 3] and all(m.tau_error < 1e-6 for m in report.layers)  # float32 parameters
    ours = simulate(net, test.x).predictions
    assert (ours == theirs).mean() >= 0.95
    result = agreement(nir.read(str(tmp_path / "digits.nir"), type_check=False), net, report, test.x)
    assert result["top1_agreement"] == pytest.approx((ours == theirs).mean())  # the reference is snnTorch's forward
