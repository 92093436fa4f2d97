"""The network IR: typed, frozen, validated ``snnhw.network/1`` networks.

A :class:`Network` is the one contract between the golden model, the RTL
generator, the testbenches, the synthesis flows and every importer. It is
built from :class:`Layer` objects, each validated once when it is created, and
it round-trips through the ``snnhw.network/1`` file format (see
``docs/semantics.md``) with :meth:`Network.save`; files are read by :mod:`snnhw.netfile`
(which imports this module; this module imports nothing of it).

Every rule of the format is checked both when a file is loaded and when an
object is constructed; a violation raises :class:`~snnhw.errors.NetworkError`
whose message names the file, the key, the rule and the offending value, for
example ``net.npz: layers.1.threshold: must be an integer 1 … 2047 for
potential_bits 12, got 0``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snnhw._io import write_npz
from snnhw.errors import NetworkError

__all__ = [
    "FORMAT",
    "InputSpec",
    "Layer",
    "LayerKind",
    "Leak",
    "LeakKind",
    "Network",
    "Readout",
    "Reset",
    "StreamWidths",
]

#: The format string stored in every network file.
FORMAT = "snnhw.network/1"

_CONFIG_KEYS = ("name", "time_steps", "input", "readout", "layers")
_INPUT_KEYS = ("size", "bits")
_LAYER_KEYS = (
    "name",
    "kind",
    "size",
    "weight_bits",
    "potential_bits",
    "threshold",
    "leak",
    "reset",
    "amplitude_bits",
    "bias",
)


class LayerKind(enum.StrEnum):
    """Kind of a layer: the first layer is the encoder, every later one is dense."""

    ENCODER = "encoder"
    DENSE = "dense"


class LeakKind(enum.StrEnum):
    """Leak of a layer: ``none`` (β = 1), ``shift`` (β = 1 − 2^−k) or ``pow2`` (β = 2^−k)."""

    NONE = "none"
    SHIFT = "shift"
    POW2 = "pow2"


class Reset(enum.StrEnum):
    """What firing does to the potential: subtract ``c·θ`` or set it to zero."""

    SUBTRACT = "subtract"
    ZERO = "zero"


class Readout(enum.StrEnum):
    """How the last layer is read: spike amplitudes summed, or its final potential."""

    SPIKE_COUNT = "spike_count"
    POTENTIAL = "potential"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(value: Any, key: str, lo: int, hi: int | None, why: str = "") -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``lo … hi``; raise otherwise."""
    span = f"≥ {lo}" if hi is None else f"{lo} … {hi}"
    rule = f"must be an integer {span}{why}"
    if not _is_int(value):
        raise NetworkError(rule, key=key, value=value)
    number = int(value)
    if number < lo or (hi is not None and number > hi):
        raise NetworkError(rule, key=key, value=number)
    return number


def _check_name(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise NetworkError("must be a non-empty string", key=key, value=value)
    return value


def _check_enum(value: Any, kind: type[enum.Enum], key: str) -> Any:
    if isinstance(value, kind):
        return value
    choices = ", ".join(repr(member.value) for member in kind)
    if isinstance(value, str):
        for member in kind:
            if member.value == value:
                return member
    raise NetworkError(f"must be one of {choices}", key=key, value=value)


def _check_keys(obj: Any, keys: tuple[str, ...], key: str, what: str, prefix: str | None = None) -> dict[str, Any]:
    """Check that ``obj`` is a JSON object with exactly ``keys``.

    ``key`` is the object's dotted key (``""`` for one whose caller adds it);
    ``prefix`` goes before its members' names (default: ``key``).
    """
    prefix = key if prefix is None else prefix
    if not isinstance(obj, dict):
        raise NetworkError(f"must be a JSON object ({what})", key=key or None, value=obj)
    for name in keys:
        if name not in obj:
            raise NetworkError(f"missing required key {name!r}", key=key or None)
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        where = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise NetworkError(
            f"unknown key (allowed: {', '.join(keys)})", key=where, value=unknown[0]
        )
    return obj


def _check_array(value: Any, key: str, shape: tuple[int, ...], lo: int, hi: int, why: str) -> np.ndarray:
    """Validate an integer parameter array and return a read-only ``int64`` copy."""
    if not isinstance(value, np.ndarray):
        raise NetworkError("must be a numpy integer array", key=key, value=type(value).__name__)
    if value.dtype.kind not in "iu":
        raise NetworkError(
            "array must have an integer dtype (bool and float are refused)",
            key=key,
            value=str(value.dtype),
        )
    if value.shape != shape:
        raise NetworkError(f"array must have shape {shape}", key=key, value=value.shape)
    if value.size:
        low, high = int(value.min()), int(value.max())
        if low < lo or high > hi:
            bad = low if low < lo else high
            raise NetworkError(f"array values must be {lo} … {hi}{why}", key=key, value=bad)
    array = value.astype(np.int64, copy=True)
    array.setflags(write=False)
    return array


def _bits_for(count: int) -> int:
    """Bits needed to hold ``0 … count − 1`` (at least 1)."""
    return max(1, (count - 1).bit_length())


@dataclass(frozen=True)
class Leak:
    """Leak of a layer's potential once per time step.

    ``none``: ``V``; ``shift`` k: ``V − (V >> k)``; ``pow2`` k: ``V >> k``, with
    ``>>`` the arithmetic (flooring) shift. ``shift`` is ``None`` for ``none``.
    The upper bound ``k < potential_bits`` is checked by :class:`Layer`.
    """

    kind: LeakKind = LeakKind.NONE
    shift: int | None = None

    def __post_init__(self) -> None:
        kind = _check_enum(self.kind, LeakKind, "kind")
        object.__setattr__(self, "kind", kind)
        if kind is LeakKind.NONE:
            if self.shift is not None:
                raise NetworkError("leak 'none' takes no shift", key="shift", value=self.shift)
        else:
            object.__setattr__(self, "shift", _check_int(self.shift, "shift", 1, None))

    @property
    def beta(self) -> float:
        """The nominal decay factor β (for documentation; the model is integer)."""
        if self.kind is LeakKind.NONE:
            return 1.0
        assert self.shift is not None
        return 1.0 - 2.0**-self.shift if self.kind is LeakKind.SHIFT else 2.0**-self.shift

    def to_json(self) -> dict[str, Any]:
        """The leak as it appears in the ``config`` JSON."""
        if self.kind is LeakKind.NONE:
            return {"kind": "none"}
        return {"kind": self.kind.value, "shift": self.shift}

    @classmethod
    def from_json(cls, obj: Any) -> Leak:
        """Build a leak from its ``config`` JSON object, refusing extra keys."""
        if not isinstance(obj, dict):
            raise NetworkError("must be a JSON object like {\"kind\": \"none\"}", value=obj)
        if "kind" not in obj:
            raise NetworkError("missing required key 'kind'")
        kind = _check_enum(obj["kind"], LeakKind, "kind")
        keys = ("kind",) if kind is LeakKind.NONE else ("kind", "shift")
        _check_keys(obj, keys, "", f"leak {kind.value!r}")
        return cls(kind, obj.get("shift"))

    def __str__(self) -> str:
        return "none" if self.kind is LeakKind.NONE else f"{self.kind.value}:{self.shift}"


@dataclass(frozen=True)
class InputSpec:
    """The network's input vector: ``size`` unsigned integers of ``bits`` bits each."""

    size: int
    bits: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _check_int(self.size, "size", 1, None))
        object.__setattr__(self, "bits", _check_int(self.bits, "bits", 1, 16))

    @property
    def max_value(self) -> int:
        """The largest input value, ``2^bits − 1``."""
        return (1 << self.bits) - 1


@dataclass(frozen=True)
class StreamWidths:
    """Field widths of a layer's differential-time event stream (spec §3).

    ``dt`` holds ``0 … T−1``, ``idx`` holds ``0 … size−1`` and ``amp`` holds
    ``0 … 2^A−1`` (``1 … 2^A−1`` for spikes; 0 marks the end-of-window token),
    each at least one bit wide.
    """

    dt: int
    idx: int
    amp: int

    @property
    def total(self) -> int:
        """Bits of one packed token."""
        return self.dt + self.idx + self.amp


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer of LIF neurons with its integer parameters.

    Parameters
    ----------
    name:
        Non-empty; unique within a network.
    kind:
        :attr:`LayerKind.ENCODER` for layer 0, :attr:`LayerKind.DENSE` otherwise.
    size:
        Number of neurons, ≥ 1.
    weight_bits:
        W, 2 … 16; weights lie in ``[−2^(W−1), 2^(W−1)−1]``.
    potential_bits:
        P, 4 … 32; potentials saturate to ``[−2^(P−1), 2^(P−1)−1]``.
    threshold:
        θ, 1 … ``2^(P−1)−1``.
    leak:
        The per-step leak; its shift must be below P.
    reset:
        :attr:`Reset.SUBTRACT` or :attr:`Reset.ZERO`.
    amplitude_bits:
        A, 1 … 8; graded spikes carry ``1 … 2^A−1`` (always 1 with ``reset: zero``).
    weight:
        Integer array of shape ``(size, n_in)`` (out × in).
    bias:
        Integer array of shape ``(size,)``, or ``None`` for a layer without bias.
    """

    name: str
    kind: LayerKind
    size: int
    weight_bits: int
    potential_bits: int
    threshold: int
    leak: Leak
    reset: Reset
    amplitude_bits: int
    weight: np.ndarray = field(repr=False)
    bias: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "name", _check_name(self.name, "name"))
        put(self, "kind", _check_enum(self.kind, LayerKind, "kind"))
        put(self, "size", _check_int(self.size, "size", 1, None))
        put(self, "weight_bits", _check_int(self.weight_bits, "weight_bits", 2, 16))
        p = _check_int(self.potential_bits, "potential_bits", 4, 32)
        put(self, "potential_bits", p)
        put(
            self,
            "threshold",
            _check_int(self.threshold, "threshold", 1, (1 << (p - 1)) - 1, f" for potential_bits {p}"),
        )
        if not isinstance(self.leak, Leak):
            raise NetworkError("must be a Leak", key="leak", value=self.leak)
        if self.leak.shift is not None and self.leak.shift >= p:
            raise NetworkError(
                f"must be an integer 1 … {p - 1} for potential_bits {p}",
                key="leak.shift",
                value=self.leak.shift,
            )
        put(self, "reset", _check_enum(self.reset, Reset, "reset"))
        put(self, "amplitude_bits", _check_int(self.amplitude_bits, "amplitude_bits", 1, 8))
        w = self.weight_bits
        if not isinstance(self.weight, np.ndarray) or self.weight.ndim != 2:
            shape = getattr(self.weight, "shape", type(self.weight).__name__)
            raise NetworkError(
                f"array must have shape ({self.size}, n_in) (size × n_in)", key="weight", value=shape
            )
        put(
            self,
            "weight",
            _check_array(
                self.weight,
                "weight",
                (self.size, self.weight.shape[1]),
                self.w_min,
                self.w_max,
                f" for weight_bits {w}",
            ),
        )
        if self.weight.shape[1] < 1:
            raise NetworkError("array must have at least one input column", key="weight", value=self.weight.shape)
        if self.bias is not None:
            put(
                self,
                "bias",
                _check_array(
                    self.bias, "bias", (self.size,), self.v_min, self.v_max, f" for potential_bits {p}"
                ),
            )

    # Derived quantities, used by the model, the RTL generator and the docs.
    @property
    def n_in(self) -> int:
        """Number of inputs (columns of :attr:`weight`)."""
        return int(self.weight.shape[1])

    @property
    def has_bias(self) -> bool:
        """Whether the layer adds a bias each step (``"bias": true``)."""
        return self.bias is not None

    @property
    def v_min(self) -> int:
        """Lowest potential, ``−2^(P−1)``."""
        return -(1 << (self.potential_bits - 1))

    @property
    def v_max(self) -> int:
        """Highest potential, ``2^(P−1) − 1``."""
        return (1 << (self.potential_bits - 1)) - 1

    @property
    def w_min(self) -> int:
        """Lowest weight, ``−2^(W−1)``."""
        return -(1 << (self.weight_bits - 1))

    @property
    def w_max(self) -> int:
        """Highest weight, ``2^(W−1) − 1``."""
        return (1 << (self.weight_bits - 1)) - 1

    @property
    def max_amplitude(self) -> int:
        """Largest spike amplitude this layer can emit (1 with ``reset: zero``)."""
        return (1 << self.amplitude_bits) - 1 if self.reset is Reset.SUBTRACT else 1

    @property
    def nonzero_weights(self) -> int:
        """Number of non-zero weights."""
        return int(np.count_nonzero(self.weight))

    def to_json(self) -> dict[str, Any]:
        """The layer as it appears in the ``config`` JSON (keys in spec order)."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "size": self.size,
            "weight_bits": self.weight_bits,
            "potential_bits": self.potential_bits,
            "threshold": self.threshold,
            "leak": self.leak.to_json(),
            "reset": self.reset.value,
            "amplitude_bits": self.amplitude_bits,
            "bias": self.has_bias,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        return (
            self.to_json() == other.to_json()
            and np.array_equal(self.weight, other.weight)
            and (self.bias is None) == (other.bias is None)
            and (self.bias is None or other.bias is None or np.array_equal(self.bias, other.bias))
        )

    __hash__ = None  # type: ignore[assignment]


def _narrow(array: np.ndarray) -> np.ndarray:
    """The array in the narrowest signed integer dtype that holds its values."""
    low, high = int(array.min()), int(array.max())
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return array.astype(dtype)
    raise AssertionError("unreachable: parameters fit in int64")


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward LIF network: a learned encoder followed by dense layers.

    Parameters
    ----------
    name:
        Non-empty network name.
    time_steps:
        T, the window length in steps, 1 … 65535.
    input:
        The input vector's size and bit width.
    readout:
        How the last layer's scores are formed.
    layers:
        The layers; layer 0 is the encoder. A list is stored as a tuple.

    Notes
    -----
    Equality is content equality (the same config and the same parameter
    values, whatever their dtype); :meth:`content_hash` is the stable digest.
    """

    name: str
    time_steps: int
    input: InputSpec
    readout: Readout
    layers: Sequence[Layer]
    _widths: tuple[StreamWidths, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "name", _check_name(self.name, "name"))
        put(self, "time_steps", _check_int(self.time_steps, "time_steps", 1, 65535))
        if not isinstance(self.input, InputSpec):
            raise NetworkError("must be an InputSpec", key="input", value=self.input)
        put(self, "readout", _check_enum(self.readout, Readout, "readout"))
        if not isinstance(self.layers, (list, tuple)) or not self.layers:
            raise NetworkError("must be a non-empty list of layers", key="layers", value=self.layers)
        put(self, "layers", tuple(self.layers))
        seen: dict[str, int] = {}
        n_in = self.input.size
        for i, layer in enumerate(self.layers):
            key = f"layers.{i}"
            if not isinstance(layer, Layer):
                raise NetworkError("must be a Layer", key=key, value=layer)
            want = LayerKind.ENCODER if i == 0 else LayerKind.DENSE
            if layer.kind is not want:
                where = "layer 0" if i == 0 else "every layer after the first"
                raise NetworkError(f"must be {want.value!r} ({where})", key=f"{key}.kind", value=layer.kind.value)
            if layer.name in seen:
                raise NetworkError(
                    f"must be unique (layer {seen[layer.name]} has the same name)",
                    key=f"{key}.name",
                    value=layer.name,
                )
            seen[layer.name] = i
            if layer.n_in != n_in:
                source = "input.size" if i == 0 else f"layers.{i - 1}.size"
                raise NetworkError(
                    f"array must have shape ({layer.size}, {n_in}) (size × n_in, n_in = {source})",
                    key=f"{key}.weight",
                    value=layer.weight.shape,
                )
            n_in = layer.size
        t_bits = _bits_for(self.time_steps)
        put(
            self,
            "_widths",
            tuple(StreamWidths(t_bits, _bits_for(layer.size), layer.amplitude_bits) for layer in self.layers),
        )

    # ------------------------------------------------------------------ derived
    @property
    def output_size(self) -> int:
        """Number of scores per sample (size of the last layer)."""
        return self.layers[-1].size

    def stream_widths(self, layer: int) -> StreamWidths:
        """Field widths of the event stream that layer ``layer`` emits (spec §3)."""
        return self._widths[layer]

    def fires(self, layer: int) -> bool:
        """Whether layer ``layer`` emits spikes (the last layer does not with ``readout: potential``)."""
        last = layer in (-1, len(self.layers) - 1)
        return not (last and self.readout is Readout.POTENTIAL)

    # ------------------------------------------------------------ serialisation
    def to_config(self) -> dict[str, Any]:
        """The ``config`` JSON object (keys in spec order)."""
        return {
            "name": self.name,
            "time_steps": self.time_steps,
            "input": {"size": self.input.size, "bits": self.input.bits},
            "readout": self.readout.value,
            "layers": [layer.to_json() for layer in self.layers],
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The parameter arrays by file key (``layers.<i>.weight``, ``layers.<i>.bias``)."""
        out: dict[str, np.ndarray] = {}
        for i, layer in enumerate(self.layers):
            out[f"layers.{i}.weight"] = layer.weight
            if layer.bias is not None:
                out[f"layers.{i}.bias"] = layer.bias
        return out

    def content_hash(self) -> str:
        """A stable SHA-256 digest (hex) of the network's content.

        It covers the canonical config JSON and every parameter value (not the
        dtype it was stored in), so a network and its saved-and-loaded copy
        have the same hash on every platform.
        """
        digest = hashlib.sha256()
        digest.update(FORMAT.encode())
        digest.update(json.dumps(self.to_config(), sort_keys=True, separators=(",", ":")).encode())
        for key, array in self.arrays().items():
            digest.update(f"\n{key}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array, dtype="<i8").tobytes())
        return digest.hexdigest()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network to ``path`` (exactly that path), compressed and reproducibly.

        Arrays are stored in the narrowest signed integer dtype that holds
        their values; the file appears atomically.
        """
        arrays: dict[str, np.ndarray] = {
            "format": np.array(FORMAT),
            "config": np.array(json.dumps(self.to_config())),
        }
        arrays.update({key: _narrow(value) for key, value in self.arrays().items()})
        write_npz(path, arrays, compress=True)

    @classmethod
    def from_config(cls, config: Any, arrays: dict[str, np.ndarray]) -> Network:
        """Build a network from a parsed ``config`` object and its arrays.

        ``arrays`` maps file keys (``layers.<i>.weight``, ...) to arrays; keys
        that the config does not call for are refused.
        """
        return _from_parts(config, arrays.__getitem__, set(arrays))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Network):
            return NotImplemented
        return self.to_config() == other.to_config() and all(
            a == b for a, b in zip(self.layers, other.layers)
        )

    def __hash__(self) -> int:
        return hash(self.content_hash())


def _from_parts(config: Any, read, present: set[str]) -> Network:
    """Validate a config object against the spec and build the network.

    ``read(key)`` returns the array stored under ``key``; ``present`` is the set
    of array keys in the file (``format`` and ``config`` excluded).
    """
    _check_keys(config, _CONFIG_KEYS, "config", "the network config", prefix="")
    _check_name(config["name"], "name")
    _check_int(config["time_steps"], "time_steps", 1, 65535)
    inp = _check_keys(config["input"], _INPUT_KEYS, "input", 'like {"size": 784, "bits": 8}')
    try:
        input_spec = InputSpec(inp["size"], inp["bits"])
    except NetworkError as err:
        raise err.within("input") from None
    _check_enum(config["readout"], Readout, "readout")
    layers_json = config["layers"]
    if not isinstance(layers_json, list) or not layers_json:
        raise NetworkError("must be a non-empty JSON array of layer objects", key="layers", value=layers_json)
    expected: set[str] = set()
    layers: list[Layer] = []
    for i, obj in enumerate(layers_json):
        prefix = f"layers.{i}"
        _check_keys(obj, _LAYER_KEYS, prefix, "a layer")
        flag = obj["bias"]
        if not isinstance(flag, bool):
            raise NetworkError("must be true or false", key=f"{prefix}.bias", value=flag)
        names = [f"{prefix}.weight"] + ([f"{prefix}.bias"] if flag else [])
        expected.update(names)
        for name in names:
            if name not in present:
                raise NetworkError(f"missing array (the config says layer {i} has it)", key=name)
        try:
            leak = Leak.from_json(obj["leak"])
        except NetworkError as err:
            raise err.within(f"{prefix}.leak") from None
        try:
            layer = Layer(
                name=obj["name"],
                kind=obj["kind"],
                size=obj["size"],
                weight_bits=obj["weight_bits"],
                potential_bits=obj["potential_bits"],
                threshold=obj["threshold"],
                leak=leak,
                reset=obj["reset"],
                amplitude_bits=obj["amplitude_bits"],
                weight=read(names[0]),
                bias=read(names[1]) if flag else None,
            )
        except NetworkError as err:
            raise err.within(prefix) from None
        layers.append(layer)
    network = Network(config["name"], config["time_steps"], input_spec, config["readout"], layers)
    for key in sorted(present - expected):
        if key.endswith(".bias") and key.replace(".bias", ".weight") in expected:
            raise NetworkError("array present but the layer's config says \"bias\": false", key=key)
        raise NetworkError("unknown array key (allowed: format, config, layers.<i>.weight, layers.<i>.bias)", key=key)
    return network

