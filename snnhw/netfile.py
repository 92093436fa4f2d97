"""Reading ``snnhw.network/1`` files: :func:`load_network`, the bundled networks and name resolution.

Validation itself is :mod:`snnhw.ir`'s (the same rules for files and for
networks built in memory); this module opens the archive, reads its arrays and
the config JSON safely, and turns every reading failure into one
:class:`~snnhw.errors.NetworkError` line.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from snnhw.errors import NetworkError
from snnhw.ir import FORMAT, Network, _from_parts

__all__ = ["bundled_networks", "load_network", "resolve_network"]


def _read_string(npz: Any, key: str) -> str:
    array = npz[key]
    if not isinstance(array, np.ndarray) or array.dtype.kind != "U" or array.ndim != 0:
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", type(array).__name__)
        raise NetworkError(
            "must be a 0-d unicode string array", key=key, value=f"{dtype} array of shape {shape}"
        )
    return str(array[()])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise NetworkError("JSON object has a duplicate key", key="config", value=name)
        obj[name] = value
    return obj


_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


def load_network(path: str | os.PathLike[str]) -> Network:
    """Load and validate a ``snnhw.network/1`` file.

    Parameters
    ----------
    path:
        An ``.npz`` file written by :func:`numpy.savez`, :func:`numpy.savez_compressed`
        or :meth:`Network.save`.

    Returns
    -------
    Network
        The validated network; nothing is returned unless every rule holds.

    Raises
    ------
    NetworkError
        The file cannot be read or breaks a rule; the message names the file,
        the key, the rule and the value.
    """
    source = os.fspath(path)
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed below; numpy leaks it on a bad zip
    except FileNotFoundError:
        raise NetworkError("no such file", source=source) from None
    except IsADirectoryError:
        raise NetworkError("is a directory, not a network file", source=source) from None
    except OSError as err:
        raise NetworkError(f"cannot be opened ({_reason(err)})", source=source) from None
    with handle:
        return _load_open(handle, source)


def _load_open(handle: Any, source: str) -> Network:
    try:
        npz_or_array = np.load(handle, allow_pickle=False)
    except _READ_ERRORS as err:
        raise NetworkError(f"not a readable .npz network file ({_reason(err)})", source=source) from None
    if not isinstance(npz_or_array, np.lib.npyio.NpzFile):
        raise NetworkError("not an .npz archive (a single .npy array or a pickle?)", source=source)
    with npz_or_array as npz:
        def read(key: str) -> np.ndarray:
            try:
                return npz[key]
            except _READ_ERRORS as err:
                raise NetworkError(f"array cannot be read ({_reason(err)})", key=key) from None

        try:
            present = set(npz.files)
            for key in ("format", "config"):
                if key not in present:
                    raise NetworkError("missing (every network file has 'format' and 'config')", key=key)
            fmt = _read_string({"format": read("format")}, "format")
            if fmt != FORMAT:
                raise NetworkError(f"must be exactly {FORMAT!r}", key="format", value=fmt)
            text = _read_string({"config": read("config")}, "config")
            try:
                config = json.loads(text, object_pairs_hook=_no_duplicates)
            except json.JSONDecodeError as err:
                raise NetworkError(f"is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})", key="config") from None
            except RecursionError:
                raise NetworkError("is not valid JSON (nested too deeply)", key="config") from None
            return _from_parts(config, read, present - {"format", "config"})
        except NetworkError as err:
            raise err.within(source=source) from None
        except _READ_ERRORS as err:
            raise NetworkError(f"not a readable .npz network file ({_reason(err)})", source=source) from None


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text if len(text) <= 100 else text[:97] + "..."


def bundled_networks() -> dict[str, Path]:
    """The networks shipped inside the package, by name (``snnhw networks`` lists them)."""
    folder = resources.files("snnhw") / "networks"
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".npz"):
            found[entry.name[: -len(".npz")]] = Path(str(entry))
    return found


def resolve_network(name_or_path: str | os.PathLike[str]) -> Network:
    """Load a network by path, or by the name of a bundled network.

    An existing file wins over a bundled network of the same name.
    """
    path = Path(name_or_path)
    if path.exists():
        return load_network(path)
    bundled = bundled_networks()
    name = os.fspath(name_or_path)
    if name in bundled:
        return load_network(bundled[name])
    choices = ", ".join(bundled) or "none"
    raise NetworkError(f"no such file, and not a bundled network (bundled: {choices})", source=name)
