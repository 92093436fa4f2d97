"""The IDX reader and MNIST loader, on small files made here."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from snnhw.datasets import load_mnist, mnist_dir, read_idx
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
    # the values read are the values written (same generator as _mnist_dir), image by image, row-major
    rng = np.random.default_rng(0)
    written = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    assert np.array_equal(images, written.reshape(5, 784))
    assert labels.tolist() == rng.integers(0, 10, 5, dtype=np.uint8).tolist()


def test_read_idx_values_and_shapes(tmp_path: Path) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(_idx(array))
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx(array)))
    for name in ("a", "a.gz"):
        got = read_idx(tmp_path / name)
        assert got.shape == (2, 3, 4) and np.array_equal(got, array)
        assert got[1, 2, 3] == 23 and got[0, 1, 0] == 4


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


def test_real_mnist_or_a_clear_error() -> None:
    """Where the MNIST files are found (always in CI), the test set reads as the standard 10,000 images;
    where they are not, the loader says how to point at them."""
    try:
        found = mnist_dir() is not None
    except InputError:
        found = False
    if os.environ.get("CI") or found:
        images, labels = load_mnist("test")
        assert images.shape == (10000, 784)
        assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        assert int(images[0].argmax()) == 355 and int(images[0].sum()) == 18454 and labels[:5].tolist() == [7, 2, 1, 0, 4]
    else:
        with pytest.raises(InputError, match="SNNHW_MNIST_DIR"):
            load_mnist("test")
