"""File helpers: atomic writes and deterministic ``.npz`` archives.

Outputs are written to a temporary file in the destination directory and
renamed into place, so an interrupted run never leaves a half-written file.
``.npz`` archives are written with fixed zip timestamps and in a fixed key
order, so the same content always gives the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "write_npz"]

#: Timestamp stored for every archive member (the zip epoch), for reproducible bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file next to ``path`` for binary writing; rename on success.

    The file appears at ``path`` only if the ``with`` block completes. On any
    exception the temporary file is removed and the previous content of
    ``path`` (if any) is left untouched.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def npz_bytes(arrays: Mapping[str, np.ndarray], *, compress: bool = True) -> bytes:
    """Serialise ``arrays`` as an ``.npz`` archive, byte for byte reproducibly.

    The archive is what :func:`numpy.savez_compressed` (or :func:`numpy.savez`
    with ``compress=False``) would write, except that member timestamps are
    fixed and members appear in the order of ``arrays``.
    """
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def write_npz(
    path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray], *, compress: bool = True
) -> None:
    """Write ``arrays`` as an ``.npz`` archive exactly at ``path`` (no extension added), atomically."""
    atomic_write_bytes(path, npz_bytes(arrays, compress=compress))
