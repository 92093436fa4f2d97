"""Data sets read from standard files.

MNIST is read from the four standard IDX files. The directory comes from the
caller, else the ``SNNHW_MNIST_DIR`` environment variable, else
``../shared/data/mnist`` next to the current checkout when it exists, else the
cache, else a verified fetch into the cache (:mod:`snnhw.fetch`).

``digits`` is scikit-learn's bundled 8×8 handwritten-digit set (1,797 images,
values 0 … 16, so 5 input bits). Its split is fixed: every fifth image
(index ≡ 0 mod 5, 360 images) is the test set, the other 1,437 the training set.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snnhw.errors import InputError

__all__ = ["DATASETS", "Dataset", "load_dataset", "load_digits", "load_mnist", "mnist_dir", "read_idx"]

_IDX_TYPES: dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into an array."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            raw = handle.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise InputError("no such file", source=source) from None
    except (OSError, EOFError) as err:
        raise InputError(f"cannot be read ({err})", source=source) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise InputError("not an IDX file (bad magic number)", source=source, value=raw[:4].hex())
    dims = raw[3]
    header = 4 + 4 * dims
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise InputError(f"IDX file is {len(raw)} bytes, its header promises {expected}", source=source)
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def mnist_dir(data: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the MNIST directory (:func:`snnhw.fetch.locate`).

    The argument, else ``SNNHW_MNIST_DIR``, else ``../shared/data/mnist`` beside the
    working directory (or a parent) or the checkout, else the cache, else a fetch
    into the cache (from ``SNNHW_MNIST_URL`` or the public mirrors).
    """
    from snnhw.fetch import FetchError, locate

    try:
        return locate("mnist", data)
    except FetchError as err:
        raise InputError(f"MNIST not found and not fetched: {err.rule}; or pass --data DIR",
                         source=err.source) from None


def load_mnist(split: str = "test", data: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of an MNIST split: ``uint8 (N, 784)`` and ``int64 (N,)``."""
    if split not in _MNIST_FILES:
        raise InputError("split must be 'train' or 'test'", key="split", value=split)
    folder = mnist_dir(data)
    arrays = []
    for stem in _MNIST_FILES[split]:
        for name in (stem, f"{stem}.gz"):
            if (folder / name).exists():
                arrays.append(read_idx(folder / name))
                break
        else:
            raise InputError(f"missing {stem}[.gz]", source=str(folder))
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise InputError("images and labels do not match", source=str(folder), value=(images.shape, labels.shape))
    return images.reshape(len(images), -1).astype(np.uint8), labels.astype(np.int64)


#: The data sets ``snnhw eval`` and ``snnhw train`` know.
DATASETS = ("mnist", "digits")


@dataclass(frozen=True)
class Dataset:
    """One split of a data set as the networks see it.

    Attributes
    ----------
    x:
        ``uint8 (N, size)`` raw inputs, each in ``[0, 2^bits)``.
    y:
        ``int64 (N,)`` labels.
    shape:
        Image ``(height, width)``; ``size = height · width``.
    bits:
        Input bits.
    max_value:
        The largest value an input can take (16 for digits, 255 for MNIST).
    classes:
        Number of classes.
    """

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray
    shape: tuple[int, int]
    bits: int
    max_value: int
    classes: int = 10

    @property
    def size(self) -> int:
        """Inputs per sample."""
        return self.shape[0] * self.shape[1]


def load_digits(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of scikit-learn's 8×8 digits: ``uint8 (N, 64)`` in 0 … 16 and ``int64 (N,)``."""
    if split not in ("train", "test"):
        raise InputError("split must be 'train' or 'test'", key="split", value=split)
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError:
        raise InputError("the digits data set needs scikit-learn: pip install 'snnhw[datasets]'") from None
    bunch = _sk_digits()
    x = np.asarray(bunch.data).astype(np.uint8)
    y = np.asarray(bunch.target).astype(np.int64)
    test = np.arange(len(x)) % 5 == 0
    keep = test if split == "test" else ~test
    return x[keep], y[keep]


def load_dataset(name: str, split: str = "test", data: str | os.PathLike[str] | None = None) -> Dataset:
    """Load a split of ``mnist`` or ``digits`` as a :class:`Dataset`."""
    if name == "mnist":
        x, y = load_mnist(split, data)
        return Dataset("mnist", split, x, y, (28, 28), 8, 255)
    if name == "digits":
        x, y = load_digits(split)
        return Dataset("digits", split, x, y, (8, 8), 5, 16)
    raise InputError(f"must be one of {', '.join(DATASETS)}", key="dataset", value=name)
