"""snnhw eval, the data sets and the bundled trained networks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from snnhw.datasets import load_dataset, load_digits
from snnhw.errors import InputError
from snnhw.evaluate import evaluate
from snnhw.model.golden import simulate
from snnhw.netfile import bundled_networks, resolve_network
from tests.test_cli import assert_clean_error, snnhw


def test_digits_split_is_fixed() -> None:
    x_train, _ = load_digits("train")
    x_test, y_test = load_digits("test")
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_test.dtype == np.uint8 and int(x_test.max()) == 16
    assert np.bincount(y_test, minlength=10).min() >= 20  # every class present


def test_bundled_networks_are_listed_and_valid() -> None:
    assert {"digits", "mnist", "example"} <= set(bundled_networks())
    listing = snnhw("networks")
    assert listing.returncode == 0 and "digits" in listing.stdout and "mnist" in listing.stdout
    for name, path in bundled_networks().items():
        assert path.stat().st_size < 2 * 2**20, name  # well under 2 MiB


def test_digits_network_meets_its_accuracy() -> None:
    report, _ = evaluate(resolve_network("digits"), load_dataset("digits", "test"))
    assert report["samples"] == 360 and report["accuracy"] >= 0.95


def _require_mnist() -> None:
    """MNIST by the lookup order (fetching where a network allows); skip with a reason only where it cannot be
    found at all and this is not CI."""
    from snnhw.datasets import mnist_dir
    from snnhw.errors import InputError

    try:
        mnist_dir()
    except InputError:
        if os.environ.get("CI"):
            raise
        pytest.skip("needs MNIST: run `snnhw fetch mnist` (or set SNNHW_MNIST_DIR)")


def test_mnist_network_meets_its_accuracy() -> None:
    """The whole 10,000-image test set through the golden model (a few seconds)."""
    _require_mnist()
    network = resolve_network("mnist")
    assert network.input.size == 784 and network.input.bits == 8
    report, _ = evaluate(network, load_dataset("mnist", "test"))
    assert report["samples"] == 10_000
    assert report["accuracy"] >= MNIST_CLAIM, report["accuracy"]


def test_eval_cli_json(tmp_path: Path) -> None:
    result = snnhw("eval", "digits", "--dataset", "digits", "--limit", "50", "--json", str(tmp_path / "e.json"))
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout and "events/sample" in result.stdout
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["samples"] == 50 and 0.0 <= report["accuracy"] <= 1.0
    assert sum(map(sum, report["confusion"])) == 50 and report["correct"] == sum(report["confusion"][c][c] for c in range(10))
    x, y = load_digits("test")
    trace = simulate(resolve_network("digits"), x[:50])
    assert report["correct"] == int((trace.predictions == y[:50]).sum())
    events = trace.events[0]
    assert report["layers"][0]["events_per_sample"] == pytest.approx(len(events) / 50)
    assert report["layers"][0]["spikes_per_sample"] == pytest.approx(events[:, 3].sum() / 50)


def test_mnist_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from snnhw.datasets import mnist_dir

    assert mnist_dir(tmp_path) == tmp_path
    monkeypatch.setenv("SNNHW_MNIST_DIR", str(tmp_path / "env"))
    assert mnist_dir() == tmp_path / "env"
    monkeypatch.delenv("SNNHW_MNIST_DIR")
    assert mnist_dir().name == "mnist"  # ../shared/data/mnist beside the checkout


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ("missing", "missing t10k-images-idx3-ubyte"),
        ("truncated", "its header promises"),
        ("magic", "bad magic number"),
    ],
)
def test_eval_refuses_bad_mnist(tmp_path: Path, setup: str, fragment: str) -> None:
    data = tmp_path / "mnist"
    data.mkdir()
    if setup != "missing":
        header = b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
        body = header + bytes(28 * 28) if setup == "truncated" else b"\x01\x02\x03\x04" + bytes(16)
        (data / "t10k-images-idx3-ubyte").write_bytes(body)
        (data / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (2).to_bytes(4, "big") + bytes(2))
    result = snnhw("eval", "mnist", "--dataset", "mnist", "--data", str(data), "--json", str(tmp_path / "e.json"))
    assert_clean_error(result, fragment)
    assert not (tmp_path / "e.json").exists()


def test_eval_refuses_a_network_of_another_shape(tmp_path: Path) -> None:
    assert_clean_error(snnhw("eval", "digits", "--dataset", "mnist"), "takes 64 inputs", "784")
    with pytest.raises(InputError, match="4-bit inputs"):
        from snnhw.datasets import Dataset

        x, y = load_digits("test")
        evaluate(resolve_network("example"), Dataset("digits", "test", x, y, (8, 8), 5, 16))


#: The accuracy the bundled MNIST network is claimed to reach on the full test set (docs/results.md).
MNIST_CLAIM = 0.99


def test_mnist_network_on_verilator_matches_the_golden_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled MNIST network's accelerator, co-simulated on Verilator, on the first test images; built at
    the batch engine's own optimisation level (the rest of the suite builds at -O0)."""
    from snnhw.engines import run_engine
    from snnhw.model.trace import first_divergence
    from snnhw.rtl.build import resolve_build

    _require_mnist()
    monkeypatch.delenv("SNNHW_SIM_OPT", raising=False)
    network = resolve_network("mnist")
    test = load_dataset("mnist", "test")
    x = test.x[:8]
    hw = run_engine("verilator", network, x, build=resolve_build(network, lanes=16))
    golden = simulate(network, x)
    assert first_divergence(network, golden, hw) is None
    assert np.array_equal(hw.predictions, golden.predictions) and np.array_equal(hw.scores, golden.scores)
    assert (hw.predictions == test.y[:8]).all()
