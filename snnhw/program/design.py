"""A generated loadable design, read back from its directory (``snnhw generate --loadable --out DIR``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from snnhw.errors import CapacityError, InputError
from snnhw.ir import Network
from snnhw.netfile import load_network
from snnhw.rtl.build import Build

__all__ = ["Hardware", "load_hardware"]


@dataclass(frozen=True)
class Hardware:
    """A loadable design: its directory, its network (whose shape is the capacity), build and Verilog."""

    directory: Path
    network: Network
    build: Build
    verilog: Path | None  # None for a board build (snnhw board build --loadable)


def load_hardware(path: str | os.PathLike[str]) -> Hardware:
    """Read the design in ``path`` (``snnhw generate --loadable`` or ``snnhw board build --loadable``); a
    design that is not loadable, or a directory that holds none, is refused in one line."""
    directory = Path(path)
    meta_path = directory / "metadata.json"
    board_path = directory / "board.json"
    if not meta_path.is_file() and board_path.is_file():
        try:
            board = json.loads(board_path.read_text())
            build = Build.from_json(board["build"])
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"is not a board.json of snnhw board build ({type(err).__name__}: {err})",
                             source=str(board_path)) from None
        if build.load is None:
            raise CapacityError("is not a loadable board build (build it with --loadable)", key="--hardware",
                                source=str(directory))
        network = load_network(directory / "network.npz")
        if network.content_hash() != board.get("network_hash"):
            raise InputError("does not match board.json's network hash (the directory was changed)",
                             source=str(directory / "network.npz"))
        return Hardware(directory, network, build, None)
    if not meta_path.is_file():
        raise InputError("holds no generated design (no metadata.json; run snnhw generate --loadable --out DIR)",
                         key="--hardware", source=str(directory))
    try:
        meta = json.loads(meta_path.read_text())
        build = Build.from_json(meta["build"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"is not a metadata.json of snnhw generate ({type(err).__name__}: {err})",
                         source=str(meta_path)) from None
    if build.load is None:
        raise CapacityError("is not a loadable design (generate it with --loadable)", key="--hardware",
                            source=str(directory))
    verilog = directory / f"{meta.get('top', 'snnhw_top')}.v"
    if not verilog.is_file():
        raise InputError("is missing", key="--hardware", source=str(verilog))
    network = load_network(directory / "network.npz")
    if network.content_hash() != meta.get("network", {}).get("sha256"):
        raise InputError("does not match metadata.json's network hash (the directory was changed)",
                         source=str(directory / "network.npz"))
    return Hardware(directory, network, build, verilog)
