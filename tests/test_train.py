"""Quantisation-aware training: it learns, and the exported file computes exactly what was trained."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from snnhw.datasets import load_dataset
from snnhw.evaluate import evaluate
from snnhw.model.golden import simulate
from snnhw.netfile import load_network
from snnhw.train import SURROGATES, TrainConfig, build_model, export_network, patch_mask, train
from tests.test_cli import assert_clean_error, snnhw

#: A small, quick configuration on the bundled digits (about 1 s per run).
TINY = {"dataset": "digits", "hidden": [16], "patch": 4, "stride": 2, "channels": 4, "time_steps": 3,
        "epochs": 3, "lr": 1e-2, "limit": 400, "threads": 1}


def test_a_short_run_learns_and_its_export_reproduces_the_forward_pass() -> None:
    config = TrainConfig(**{**TINY, "epochs": 12, "limit": 0})
    result = train(config, progress=False)
    test = load_dataset("digits", "test")
    report, _ = evaluate(result.network, test)
    assert report["accuracy"] > 0.6  # chance is 0.1
    assert result.checked_samples == len(test.x)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert sum(layer["saturations"] for layer in report["layers"]) == 0
    untrained = evaluate(export_network(build_model(config, test), config, test), test)[0]
    assert untrained["accuracy"] < 0.5 < report["accuracy"]


def test_check_export_catches_a_mismatch() -> None:
    """The exactness check is real: a network whose output bias moved by one no longer matches the trained model."""
    from snnhw.train.loop import _check_export

    config = TrainConfig(**TINY)
    test = load_dataset("digits", "test")
    model = build_model(config, test)
    network = export_network(model, config, test)
    _check_export(model, network, test.x)
    layer = network.layers[-1]
    assert layer.bias is not None
    bias = layer.bias.copy()
    bias[3] += 1  # the potential readout adds the bias at every step: every sample's score 3 moves
    broken = dataclasses.replace(network, layers=(*network.layers[:-1], dataclasses.replace(layer, bias=bias)))
    with pytest.raises(RuntimeError, match="differs from the trained forward pass"):
        _check_export(model, broken, test.x)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"leak": "none", "reset": "zero", "readout": "spike_count", "amplitude_bits": 1},
        {"leak": "pow2:1", "amplitude_bits": 3, "readout": "spike_count"},
        {"leak": "shift:3", "reset": "zero", "weight_bits": 4, "time_steps": 5},
        {"patch": 0, "encoder_size": 20, "hidden": [12, 8], "weight_bits": 3, "shift": 1},
    ],
    ids=["default", "no-leak-zero-reset", "pow2-graded", "w4", "dense-encoder-two-hidden"],
)
def test_export_is_bit_exact_for_every_semantics(changes: dict) -> None:
    config = TrainConfig(**{**TINY, **changes, "epochs": 2})
    test = load_dataset("digits", "test")
    # train() runs the exported file through the golden model on every test sample and raises on any
    # difference from the trained forward pass's integer scores.
    result = train(config, progress=False, check_samples=len(test.x))
    trace = simulate(result.network, test.x)
    assert int(trace.extras["saturations"].sum()) == 0
    assert train(config, progress=False, check_samples=0).network == result.network  # reproducible
    for layer in result.network.layers:
        assert layer.weight.min() >= -(2 ** (layer.weight_bits - 1)) and layer.weight.max() < 2 ** (layer.weight_bits - 1)


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
def test_every_surrogate_passes_gradient(surrogate: str) -> None:
    config = TrainConfig(**{**TINY, "surrogate": surrogate, "surrogate_scale": 2.0})
    data = load_dataset("digits", "train")
    model = build_model(config, data)
    logits, _ = model(torch.from_numpy(data.x[:32].astype(np.float32)))
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(data.y[:32]))
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and float(param.grad.abs().sum()) > 0, name


class _Stop(Exception):
    pass


def test_resume_continues_exactly(tmp_path: Path) -> None:
    config = TrainConfig(**{**TINY, "epochs": 3, "shift": 1})
    straight = train(config, checkpoint_dir=tmp_path / "a", progress=False, check_samples=0)

    def interrupt(figures: dict) -> None:
        if figures["epoch"] == 2:
            raise _Stop  # killed during epoch 2's bookkeeping: only epoch 1's checkpoint exists

    with pytest.raises(_Stop):
        train(config, checkpoint_dir=tmp_path / "b", progress=False, check_samples=0, on_epoch=interrupt)
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["epoch"] == 0
    resumed = train(config, checkpoint_dir=tmp_path / "b", resume=True, progress=False, check_samples=0)
    assert resumed.network == straight.network
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in straight.history]


def test_resume_refuses_another_configuration(tmp_path: Path) -> None:
    config = TrainConfig(**{**TINY, "epochs": 1})
    train(config, checkpoint_dir=tmp_path, progress=False, check_samples=0)
    from snnhw.errors import InputError

    with pytest.raises(InputError, match="another configuration"):
        train(dataclasses.replace(config, lr=0.5), checkpoint_dir=tmp_path, resume=True, progress=False)
    train(dataclasses.replace(config, threads=2), checkpoint_dir=tmp_path, resume=True, progress=False)  # allowed
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot be read as a snnhw checkpoint"):
        train(config, checkpoint_dir=tmp_path, resume=True, progress=False)


def test_patch_mask() -> None:
    mask = patch_mask(8, 8, 4, 2, 3)
    assert mask.shape == (3 * 3 * 3, 64)
    assert (mask.sum(axis=1) == 16).all()
    assert (mask[0] == mask[2]).all() and not (mask[0] == mask[3]).all()
    first = mask[0].reshape(8, 8)
    assert first[:4, :4].all() and not first[4:].any() and not first[:, 4:].any()
    with pytest.raises(ValueError):
        patch_mask(8, 8, 9, 1, 1)


def test_cli_train_writes_network_and_provenance(tmp_path: Path) -> None:
    out = tmp_path / "d.npz"
    result = snnhw("train", "--dataset", "digits", "--out", str(out), "--patch", "4", "--stride", "2", "--channels",
                   "4", "--hidden", "16", "--epochs", "2", "--limit", "200", "--threads", "1", "--lr", "1e-2")
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and "reproduces the trained forward pass" in result.stdout
    network = load_network(out)
    assert network.name == "d" and network.input.size == 64 and network.input.bits == 5
    provenance = json.loads(out.with_name("d.npz.json").read_text(), parse_constant=pytest.fail)  # strict JSON: no NaN
    assert provenance["hash"] == network.content_hash() and len(provenance["history"]) == 2
    assert (tmp_path / "d.ckpt" / "checkpoint.pt").exists()
    # Resuming a finished run trains no further epoch and writes the same network.
    again = snnhw("train", "--dataset", "digits", "--out", str(out), "--patch", "4", "--stride", "2", "--channels",
                  "4", "--hidden", "16", "--epochs", "2", "--limit", "200", "--threads", "1", "--lr", "1e-2", "--resume")
    assert again.returncode == 0, again.stderr
    assert load_network(out) == network


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dataset", "digits", "--out", "n.npz", "--patch", "9"], "patch"),
        (["--dataset", "digits", "--out", "n.npz", "--resume"], "no checkpoint to resume from"),
        (["--dataset", "digits", "--out", "nodir/n.npz"], "output directory does not exist"),
        (["--dataset", "mnist", "--out", "n.npz", "--data", "missing"], "missing train-images-idx3-ubyte"),
        (["--dataset", "digits", "--out", "n.npz", "--hidden", "4,x"], "comma-separated integers"),
    ],
)
def test_cli_train_refuses_bad_input(tmp_path: Path, args: list[str], fragment: str) -> None:
    assert_clean_error(snnhw("train", *args, cwd=tmp_path), fragment)
    assert not (tmp_path / "n.npz").exists()
