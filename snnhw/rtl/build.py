"""The build configuration: how a network is laid out in hardware.

A build configuration never changes what the accelerator computes, only how
fast and how big it is. It is a JSON object; every key is optional::

    {
      "lanes": 4,            # neuron-update units per core (clamped to the core's size)
      "cores": 1,            # cores per layer, merged by a spike-merge tree (clamped to the layer size)
      "fifo_depth": 16,      # depth of the FIFO on each layer's output stream (>= 1)
      "memory": "auto",      # auto | block | distributed | registers  (ram_style of the layer memories)
      "weights": "rom",      # rom | loadable  (a weight write port on the dense layers)
      "pipeline_depth": "auto",  # auto | integer >= 4: register stages of a core's row datapath
      "pixels_per_beat": "auto", # auto | 1, 2, 4, … 64: input values per s_axis_pixel beat (global only)
      "loadable": false,     # a programmable design: every parameter written over s_axis_config (global only)
      "encoder_fan_in": "auto",  # loadable: non-zero weights per encoder neuron it can hold (auto: the network's)
      "preloaded": true,     # loadable: the network's values are in the memories and committed at start-up
      "layers": {            # per-layer overrides, keyed by layer name or index
        "hidden": {"lanes": 16, "memory": "block"}
      }
    }

:func:`resolve_build` is the one resolver: global values are defaults,
per-layer values override them, and ``--lanes`` / ``--cores`` from the
command line override both. Global ``lanes`` and ``cores`` are clamped to
each layer; an explicit per-layer value larger than the layer is refused.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from snnhw.errors import BuildError
from snnhw.ir import Network
from snnhw.rtl.core import LEAD, auto_pipeline_depth

__all__ = ["MEMORY_STYLES", "PIXELS_PER_BEAT", "WEIGHT_MODES", "Build", "LayerBuild", "LoadSpec", "auto_pixels_per_beat",
           "encoder_fan_in", "load_build", "resolve_build", "silicon_config"]

#: Memory styles: ``auto`` lets synthesis choose; the others set ``ram_style``.
MEMORY_STYLES = ("auto", "block", "distributed", "registers")
#: Weight storage: ``rom`` (initialised, read-only) or ``loadable`` (adds a write port).
WEIGHT_MODES = ("rom", "loadable")

_GLOBAL_KEYS = ("lanes", "cores", "fifo_depth", "memory", "weights", "pipeline_depth", "pixels_per_beat", "loadable",
                "encoder_fan_in", "preloaded", "layers")
#: Allowed input beat widths (values per beat); a power of two, so a column splits into word and pixel.
PIXELS_PER_BEAT = (1, 2, 4, 8, 16, 32, 64)
_LAYER_KEYS = ("lanes", "cores", "fifo_depth", "memory", "weights", "pipeline_depth")
_DEFAULTS: dict[str, Any] = {"lanes": 1, "cores": 1, "fifo_depth": 16, "memory": "auto", "weights": "rom",
                             "pipeline_depth": "auto"}
#: The smallest pipeline depth: the stages up to the resolve stage, which also computes and writes back.
MIN_PIPELINE_DEPTH = LEAD


@dataclass(frozen=True)
class LayerBuild:
    """Resolved hardware parameters of one layer.

    Attributes
    ----------
    lanes:
        Neuron-update units per core, 1 … the largest core's neuron count.
    cores:
        Cores the layer is split into (contiguous neuron slices), 1 … size.
    fifo_depth:
        Depth of the FIFO on the layer's output stream.
    memory:
        One of :data:`MEMORY_STYLES`.
    weights:
        One of :data:`WEIGHT_MODES`.
    pipeline_depth:
        Register stages of the layer's row datapath, from issue to write-back (``"auto"`` resolves
        to :func:`snnhw.rtl.core.auto_pipeline_depth`: two fire-work units per stage).
    """

    lanes: int
    cores: int
    fifo_depth: int
    memory: str
    weights: str
    pipeline_depth: int


@dataclass(frozen=True)
class LoadSpec:
    """What a loadable design holds beyond its network's shape.

    Attributes
    ----------
    fan_in:
        Non-zero weights per encoder neuron the design can hold.
    entries:
        Entry capacity of each encoder core's weight lists (its rows × ``fan_in``).
    time_steps:
        T of the preloaded network (the design's network sets the largest T).
    preloaded:
        Whether the memories' initial values are a committed network at start-up (FPGA); an ASIC's
        SRAMs have none, so it waits for a load.
    """

    fan_in: int
    entries: tuple[int, ...]
    time_steps: int
    preloaded: bool = True


@dataclass(frozen=True)
class Build:
    """A resolved build: one :class:`LayerBuild` per layer, the input beat width, and for a loadable
    design its :class:`LoadSpec`."""

    layers: tuple[LayerBuild, ...]
    pixels_per_beat: int = 1
    load: LoadSpec | None = None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Build:
        """The build of :meth:`to_json` (as ``metadata.json`` holds it)."""
        load = obj.get("load")
        return cls(tuple(LayerBuild(**layer) for layer in obj["layers"]), pixels_per_beat=int(obj["pixels_per_beat"]),
                   load=None if load is None else LoadSpec(fan_in=int(load["fan_in"]),
                                                           entries=tuple(int(e) for e in load["entries"]),
                                                           time_steps=int(load["time_steps"]),
                                                           preloaded=bool(load["preloaded"])))

    def to_json(self) -> dict[str, Any]:
        """The resolved configuration as a JSON object (every layer explicit)."""
        out: dict[str, Any] = {"layers": [asdict(layer) for layer in self.layers],
                               "pixels_per_beat": self.pixels_per_beat}
        if self.load is not None:  # (a fixed design's JSON, and so its build hash, is unchanged)
            out["load"] = asdict(self.load)
        return out


def encoder_fan_in(network: Network) -> int:
    """The largest number of non-zero weights of an encoder neuron of ``network`` (at least 1)."""
    return max(1, int((network.layers[0].weight != 0).sum(axis=1).max()))


def auto_pixels_per_beat(encoder_lanes: int, input_bits: int = 8) -> int:
    """``pixels_per_beat: "auto"``: the larger of the pixels that fill a 32-bit beat (4 of 8 bits, 8 of
    4 bits: the width of one pixel-buffer word, so a beat writes a word and loading a sample takes a
    quarter of the cycles of one pixel per beat) and, from 32 encoder lanes on, ``lanes / 16`` rounded
    up to a power of two (4 at 64 lanes, 8 at 128), so that loading a sample never sets the pace."""
    word = 1
    while word * 2 * input_bits <= 32 and word < 64:
        word *= 2
    if encoder_lanes < 32:
        return word
    return max(word, min(64, 1 << (math.ceil(encoder_lanes / 16) - 1).bit_length()))


def core_slices(size: int, cores: int) -> list[tuple[int, int]]:
    """Neuron ranges ``[lo, hi)`` of the cores of a layer: balanced and contiguous."""
    return [(c * size // cores, (c + 1) * size // cores) for c in range(cores)]


def _int(value: Any, key: str, source: str | None, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise BuildError(f"must be an integer >= {lo}", key=key, source=source, value=value)
    return value


def _choice(value: Any, key: str, source: str | None, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise BuildError(f"must be one of {', '.join(choices)}", key=key, source=source, value=value)
    return str(value)


def _check_fields(obj: dict[str, Any], prefix: str, source: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in obj.items():
        key = f"{prefix}{name}"
        if name in ("lanes", "cores") or name == "fifo_depth":
            out[name] = _int(value, key, source, 1)
        elif name == "memory":
            out[name] = _choice(value, key, source, MEMORY_STYLES)
        elif name == "weights":
            out[name] = _choice(value, key, source, WEIGHT_MODES)
        elif name == "pipeline_depth":
            if value != "auto":
                try:
                    out[name] = _int(value, key, source, MIN_PIPELINE_DEPTH)
                except BuildError:
                    raise BuildError(f'must be "auto" or an integer >= {MIN_PIPELINE_DEPTH}', key=key, source=source,
                                     value=value) from None
            else:
                out[name] = value
    return out


def silicon_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """The build configuration an ASIC flow uses for ``config``: the loadable design, empty at start-up
    (an SRAM has no initial values), unless ``config`` says ``loadable`` itself (``false``: the fixed
    design, whose parameters are memory initial values, as an FPGA's)."""
    config = dict(config or {})
    if "loadable" not in config:
        config.update(loadable=True, preloaded=False)
    return config


def resolve_build(
    network: Network,
    config: dict[str, Any] | None = None,
    *,
    lanes: int | None = None,
    cores: int | None = None,
    source: str | None = None,
    time_steps: int | None = None,
) -> Build:
    """Resolve a build configuration against a network.

    Parameters
    ----------
    network:
        The network the build is for.
    config:
        The build configuration object (see the module docstring); ``None`` for defaults.
    lanes, cores:
        Command-line overrides: every layer gets ``min(value, layer size)``.
    source:
        File the configuration came from, for error messages.
    time_steps:
        A loadable design's preloaded T (default the network's, which is also the largest it takes).

    Raises
    ------
    BuildError
        For unknown keys, values of the wrong type, zero lanes, cores or FIFO depth,
        a per-layer value beyond the layer size, or a per-layer key naming no layer.
    """
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise BuildError("must be a JSON object", key="build", source=source, value=type(config).__name__)
    for name in config:
        if name not in _GLOBAL_KEYS:
            raise BuildError(f"unknown key; known keys are {', '.join(_GLOBAL_KEYS)}", key=name, source=source)
    glob = _check_fields(config, "", source)
    ppb_value = config.get("pixels_per_beat", "auto")
    if ppb_value != "auto" and (isinstance(ppb_value, bool) or ppb_value not in PIXELS_PER_BEAT):
        raise BuildError(f'must be "auto" or one of {", ".join(map(str, PIXELS_PER_BEAT))}', key="pixels_per_beat",
                         source=source, value=ppb_value)
    per_layer: dict[int, dict[str, Any]] = {}
    overrides = config.get("layers", {})
    if not isinstance(overrides, dict):
        raise BuildError("must be an object keyed by layer name or index", key="layers", source=source,
                         value=overrides)
    names = {layer.name: i for i, layer in enumerate(network.layers)}
    for lkey, obj in overrides.items():
        if lkey in names:
            index = names[lkey]
        elif lkey.isdigit() and int(lkey) < len(network.layers):
            index = int(lkey)
        else:
            raise BuildError(f"names no layer of network '{network.name}' (names: {', '.join(names)})",
                             key=f"layers.{lkey}", source=source)
        if not isinstance(obj, dict):
            raise BuildError("must be a JSON object", key=f"layers.{lkey}", source=source, value=obj)
        for name in obj:
            if name not in _LAYER_KEYS:
                raise BuildError(f"unknown key; known keys are {', '.join(_LAYER_KEYS)}",
                                 key=f"layers.{lkey}.{name}", source=source)
        fields = _check_fields(obj, f"layers.{lkey}.", source)
        if index == 0 and fields.get("weights") == "loadable":
            raise BuildError("the encoder stores its weights sparse and cannot be loadable (dense layers can)",
                             key=f"layers.{lkey}.weights", source=source, value="loadable")
        size = network.layers[index].size
        for name in ("cores", "lanes"):
            if name in fields and fields[name] > size:
                raise BuildError(f"must be at most the layer size {size}", key=f"layers.{lkey}.{name}",
                                 source=source, value=fields[name])
        per_layer.setdefault(index, {}).update(fields)

    resolved = []
    for i, layer in enumerate(network.layers):
        values = {**_DEFAULTS, **glob, **per_layer.get(i, {})}
        if cores is not None:
            values["cores"] = cores
        values["cores"] = min(values["cores"], layer.size)
        largest = max(hi - lo for lo, hi in core_slices(layer.size, values["cores"]))
        if lanes is not None:
            values["lanes"] = lanes
        values["lanes"] = min(values["lanes"], largest)
        if i == 0:
            values["weights"] = "rom"  # a global `weights: loadable` applies to the dense layers
        if values["pipeline_depth"] == "auto":
            values["pipeline_depth"] = auto_pipeline_depth(layer, encoder=i == 0, fires=network.fires(i))
        resolved.append(LayerBuild(**{k: values[k] for k in _LAYER_KEYS}))
    ppb = auto_pixels_per_beat(resolved[0].lanes, network.input.bits) if ppb_value == "auto" else int(ppb_value)
    load = None
    loadable = config.get("loadable", False)
    if not isinstance(loadable, bool):
        raise BuildError("must be true or false", key="loadable", source=source, value=loadable)
    for key in ("encoder_fan_in", "preloaded"):
        if key in config and not loadable:
            raise BuildError("applies to a loadable design only (set loadable: true)", key=key, source=source,
                             value=config[key])
    if loadable:
        if any(lb.weights == "loadable" for lb in resolved):
            raise BuildError("a loadable design writes every weight over s_axis_config; drop weights: loadable",
                             key="loadable", source=source, value=True)
        own = encoder_fan_in(network)
        fan = config.get("encoder_fan_in", "auto")
        if fan == "auto":
            fan = own
        else:
            fan = _int(fan, "encoder_fan_in", source, 1)
            if fan > network.input.size:
                raise BuildError(f"must be at most the input size {network.input.size}", key="encoder_fan_in",
                                 source=source, value=fan)
            if fan < own:
                raise BuildError(f"must be at least the network's own largest encoder fan-in {own}",
                                 key="encoder_fan_in", source=source, value=fan)
        preloaded = config.get("preloaded", True)
        if not isinstance(preloaded, bool):
            raise BuildError("must be true or false", key="preloaded", source=source, value=preloaded)
        enc = resolved[0]
        entries = tuple(math.ceil((hi - lo) / min(enc.lanes, hi - lo)) * fan
                        for lo, hi in core_slices(network.layers[0].size, enc.cores))
        t = network.time_steps if time_steps is None else time_steps
        if not 1 <= t <= network.time_steps:
            raise BuildError(f"must be 1 … {network.time_steps} (the design's largest)", key="time_steps",
                             source=source, value=t)
        load = LoadSpec(fan_in=fan, entries=entries, time_steps=t, preloaded=preloaded)
    return Build(tuple(resolved), pixels_per_beat=ppb, load=load)


def load_build(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a build configuration JSON file (the object is resolved by :func:`resolve_build`)."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise BuildError(f"cannot read the build configuration ({err.strerror})", source=source) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise BuildError(f"not valid JSON ({err.msg} at line {err.lineno})", source=source) from None
    if not isinstance(obj, dict):
        raise BuildError("must be a JSON object", source=source, value=type(obj).__name__)
    return obj
