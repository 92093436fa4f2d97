"""The IDX reader and MNIST loader, on small files made here."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from snnhw.datasets import load_mnist, read_idx
from snnhw.errors import InputError


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _mnist_dir(tmp_path: Path, n: int = 5) -> Path:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(labels))
    return tmp_path


def test_load_small_mnist(tmp_path: Path) -> None:
    images, labels = load_mnist("test", _mnist_dir(tmp_path))
    assert images.shape == (5, 784) and images.dtype == np.uint8
    assert labels.shape == (5,) and labels.dtype == np.int64


def test_mnist_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNNHW_MNIST_DIR", str(_mnist_dir(tmp_path)))
    assert load_mnist("test")[0].shape == (5, 784)


def test_bad_idx_files(tmp_path: Path) -> None:
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(InputError, match="bad magic"):
        read_idx(tmp_path / "bad")
    good = _idx(np.zeros((4, 2), dtype=np.uint8))
    (tmp_path / "short").write_bytes(good[:-1])
    with pytest.raises(InputError, match="header promises"):
        read_idx(tmp_path / "short")
    with pytest.raises(InputError, match="no such file"):
        read_idx(tmp_path / "absent")
    with pytest.raises(InputError, match="missing train-images"):
        load_mnist("train", _mnist_dir(tmp_path))
    with pytest.raises(InputError, match="split must be"):
        load_mnist("valid", tmp_path)


def test_real_mnist_when_present() -> None:
    """The shared MNIST test set reads as 10,000 images (skipped where it is not installed)."""
    try:
        images, labels = load_mnist("test")
    except InputError as err:
        pytest.skip(f"MNIST not available here: {err}")
    assert images.shape == (10000, 784)
    assert np.bincount(labels).tolist()[:2] == [980, 1135]
