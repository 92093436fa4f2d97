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


def _read(directory: Path, name: str, what: str, hint: str) -> tuple[dict, Build, Network]:
    """The JSON file ``name`` of a design directory, its loadable build and the design's network (checked
    against the file's network hash)."""
    path = directory / name
    try:
        obj = json.loads(path.read_text())
        build = Build.from_json(obj["build"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"is not a {name} of {what} ({type(err).__name__}: {err})", source=str(path)) from None
    if build.load is None:
        raise CapacityError(f"is not a loadable design ({hint} with --loadable)", key="--hardware",
                            source=str(directory))
    network = load_network(directory / "network.npz")
    if len(build.layers) != len(network.layers) or len(build.load.entries) != build.layers[0].cores or any(
            lb.cores > layer.size for lb, layer in zip(build.layers, network.layers)):
        raise InputError("does not describe the design's network (its layers or cores differ; the directory was "
                         "changed)", key="build", source=str(path))
    recorded = obj.get("network_hash") if name == "board.json" else obj.get("network", {}).get("sha256")
    if network.content_hash() != recorded:
        raise InputError(f"does not match {name}'s network hash (the directory was changed)",
                         source=str(directory / "network.npz"))
    return obj, build, network


def load_hardware(path: str | os.PathLike[str]) -> Hardware:
    """Read the design in ``path`` (``snnhw generate --loadable`` or ``snnhw board build --loadable``); a
    design that is not loadable, or a directory that holds none, is refused in one line."""
    directory = Path(path)
    if not (directory / "metadata.json").is_file() and (directory / "board.json").is_file():
        _, build, network = _read(directory, "board.json", "snnhw board build", "build it")
        return Hardware(directory, network, build, None)
    if not (directory / "metadata.json").is_file():
        raise InputError("holds no generated design (no metadata.json; run snnhw generate --loadable --out DIR)",
                         key="--hardware", source=str(directory))
    meta, build, network = _read(directory, "metadata.json", "snnhw generate", "generate it")
    verilog = directory / f"{meta.get('top', 'snnhw_top')}.v"
    if not verilog.is_file():
        raise InputError("is missing", key="--hardware", source=str(verilog))
    return Hardware(directory, network, build, verilog)
