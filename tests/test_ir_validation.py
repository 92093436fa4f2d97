"""Every validation rule of snnhw.network/1, each way.

A file that meets every rule is accepted, at every boundary; a file that
breaks one rule is refused with a message naming the file, the key and the
rule (and the offending value where there is one).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from snnhw.errors import NetworkError
from snnhw.ir import InputSpec, Layer, LayerKind, Leak, LeakKind, Network
from snnhw.netfile import load_network

from .conftest import base_arrays, base_config, write_network_file

_MISSING = object()


def _set(obj: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    if value is _MISSING:
        del obj[last]
    elif isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


# (id, config path, value, expected key in the message, expected rule fragment)
CONFIG_CASES = [
    # top level
    *[(f"missing-{k}", k, _MISSING, "config", f"missing required key '{k}'") for k in ("name", "time_steps", "input", "readout", "layers")],
    ("unknown-top-key", "extra", 1, "extra", "unknown key"),
    ("name-empty", "name", "", "name", "non-empty string"),
    ("name-int", "name", 5, "name", "non-empty string"),
    ("T-zero", "time_steps", 0, "time_steps", "1 … 65535"),
    ("T-too-big", "time_steps", 65536, "time_steps", "1 … 65535"),
    ("T-true", "time_steps", True, "time_steps", "integer"),
    ("T-float", "time_steps", 4.0, "time_steps", "integer"),
    ("T-string", "time_steps", "4", "time_steps", "integer"),
    ("T-null", "time_steps", None, "time_steps", "integer"),
    ("input-not-object", "input", [3, 8], "input", "JSON object"),
    ("input-missing-size", "input.size", _MISSING, "input", "missing required key 'size'"),
    ("input-missing-bits", "input.bits", _MISSING, "input", "missing required key 'bits'"),
    ("input-extra-key", "input.signed", False, "input.signed", "unknown key"),
    ("input-size-zero", "input.size", 0, "input.size", "≥ 1"),
    ("input-bits-zero", "input.bits", 0, "input.bits", "1 … 16"),
    ("input-bits-17", "input.bits", 17, "input.bits", "1 … 16"),
    ("input-bits-true", "input.bits", True, "input.bits", "integer"),
    ("readout-unknown", "readout", "max", "readout", "must be one of"),
    ("readout-int", "readout", 0, "readout", "must be one of"),
    ("layers-empty", "layers", [], "layers", "non-empty"),
    ("layers-object", "layers", {}, "layers", "non-empty JSON array"),
    ("layer-not-object", "layers.1", "dense", "layers.1", "JSON object"),
    # layer keys
    *[
        (f"layer-missing-{k}", f"layers.1.{k}", _MISSING, "layers.1", f"missing required key '{k}'")
        for k in ("name", "kind", "size", "weight_bits", "potential_bits", "threshold", "leak", "reset", "amplitude_bits", "bias")
    ],
    ("layer-unknown-key", "layers.0.delay", 0, "layers.0.delay", "unknown key"),
    ("layer-name-empty", "layers.0.name", "", "layers.0.name", "non-empty string"),
    ("layer-name-duplicate", "layers.1.name", "enc", "layers.1.name", "unique"),
    ("layer0-dense", "layers.0.kind", "dense", "layers.0.kind", "'encoder'"),
    ("layer1-encoder", "layers.1.kind", "encoder", "layers.1.kind", "'dense'"),
    ("kind-unknown", "layers.1.kind", "conv", "layers.1.kind", "must be one of"),
    ("size-zero", "layers.1.size", 0, "layers.1.size", "≥ 1"),
    ("size-float", "layers.1.size", 2.0, "layers.1.size", "integer"),
    ("W-1", "layers.0.weight_bits", 1, "layers.0.weight_bits", "2 … 16"),
    ("W-17", "layers.0.weight_bits", 17, "layers.0.weight_bits", "2 … 16"),
    ("W-true", "layers.0.weight_bits", True, "layers.0.weight_bits", "integer"),
    ("P-3", "layers.1.potential_bits", 3, "layers.1.potential_bits", "4 … 32"),
    ("P-33", "layers.1.potential_bits", 33, "layers.1.potential_bits", "4 … 32"),
    ("threshold-0", "layers.1.threshold", 0, "layers.1.threshold", "1 … 127 for potential_bits 8"),
    ("threshold-neg", "layers.1.threshold", -1, "layers.1.threshold", "1 … 127"),
    ("threshold-2^(P-1)", "layers.1.threshold", 128, "layers.1.threshold", "1 … 127"),
    ("threshold-float", "layers.1.threshold", 5.5, "layers.1.threshold", "integer"),
    ("leak-not-object", "layers.0.leak", "none", "layers.0.leak", "JSON object"),
    ("leak-missing-kind", "layers.0.leak", {}, "layers.0.leak", "missing required key 'kind'"),
    ("leak-kind-unknown", "layers.0.leak", {"kind": "exp"}, "layers.0.leak.kind", "must be one of"),
    ("leak-none-with-shift", "layers.0.leak", {"kind": "none", "shift": 1}, "layers.0.leak.shift", "unknown key"),
    ("leak-shift-missing", "layers.0.leak", {"kind": "shift"}, "layers.0.leak", "missing required key 'shift'"),
    ("leak-shift-zero", "layers.0.leak", {"kind": "shift", "shift": 0}, "layers.0.leak.shift", "≥ 1"),
    ("leak-shift-P", "layers.0.leak", {"kind": "pow2", "shift": 8}, "layers.0.leak.shift", "1 … 7 for potential_bits 8"),
    ("leak-shift-true", "layers.0.leak", {"kind": "pow2", "shift": True}, "layers.0.leak.shift", "integer"),
    ("leak-extra-key", "layers.0.leak", {"kind": "pow2", "shift": 1, "beta": 0.5}, "layers.0.leak.beta", "unknown key"),
    ("reset-unknown", "layers.0.reset", "hold", "layers.0.reset", "must be one of"),
    ("A-0", "layers.0.amplitude_bits", 0, "layers.0.amplitude_bits", "1 … 8"),
    ("A-9", "layers.0.amplitude_bits", 9, "layers.0.amplitude_bits", "1 … 8"),
    ("bias-string", "layers.0.bias", "true", "layers.0.bias", "true or false"),
    ("bias-int", "layers.0.bias", 1, "layers.0.bias", "true or false"),
]


@pytest.mark.parametrize(("path", "value", "key", "rule"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_config_rule_refused(tmp_path: Path, config, arrays, path, value, key, rule) -> None:
    _set(config, path, value)
    file = write_network_file(tmp_path / "net.npz", config, arrays)
    with pytest.raises(NetworkError) as info:
        load_network(file)
    message = str(info.value)
    assert message.startswith(f"{file}: "), message
    if key is not None:
        assert f": {key}: " in message, message
    assert rule in message, message


def _arr(**changes: Any) -> dict[str, np.ndarray]:
    arrays = base_arrays()
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return arrays


ARRAY_CASES = [
    ("weight-missing", _arr(layers__1__weight=None), "layers.1.weight", "missing array"),
    ("bias-missing", _arr(layers__0__bias=None), "layers.0.bias", "missing array"),
    ("bias-not-declared", _arr(layers__1__bias=np.zeros(2, np.int8)), "layers.1.bias", "\"bias\": false"),
    ("extra-array", _arr(extra=np.zeros(1, np.int8)), "extra", "unknown array key"),
    ("extra-layer-array", _arr(layers__2__weight=np.zeros((1, 2), np.int8)), "layers.2.weight", "unknown array key"),
    ("weight-float", _arr(layers__0__weight=np.array([[1, -2, 3], [0, 7, -8]], np.float64)), "layers.0.weight", "integer dtype"),
    ("weight-bool", _arr(layers__1__weight=np.ones((2, 2), bool)), "layers.1.weight", "integer dtype"),
    ("bias-float", _arr(layers__0__bias=np.array([1.0, 2.0])), "layers.0.bias", "integer dtype"),
    ("weight-transposed", _arr(layers__0__weight=np.zeros((3, 2), np.int8)), "layers.0.weight", "shape (2, "),
    ("weight-1d", _arr(layers__1__weight=np.zeros(4, np.int8)), "layers.1.weight", "shape (2, n_in)"),
    ("weight-3d", _arr(layers__1__weight=np.zeros((2, 2, 1), np.int8)), "layers.1.weight", "shape (2, n_in)"),
    ("weight-n_in-mismatch", _arr(layers__1__weight=np.zeros((2, 3), np.int8)), "layers.1.weight", "shape (2, 2)"),
    ("weight-too-big", _arr(layers__1__weight=np.array([[8, 0], [0, 0]])), "layers.1.weight", "-8 … 7 for weight_bits 4, got 8"),
    ("weight-too-small", _arr(layers__1__weight=np.array([[0, 0], [0, -9]])), "layers.1.weight", "got -9"),
    ("weight-uint-too-big", _arr(layers__0__weight=np.array([[1, 2, 3], [0, 200, 1]], np.uint8)), "layers.0.weight", "got 200"),
    ("bias-too-big", _arr(layers__0__bias=np.array([128, 0])), "layers.0.bias", "-128 … 127 for potential_bits 8, got 128"),
    ("bias-too-small", _arr(layers__0__bias=np.array([0, -129])), "layers.0.bias", "got -129"),
    ("bias-wrong-shape", _arr(layers__0__bias=np.zeros((2, 1), np.int8)), "layers.0.bias", "shape (2,)"),
    ("bias-0d", _arr(layers__0__bias=np.array(3)), "layers.0.bias", "shape (2,)"),
]


@pytest.mark.parametrize(("arrays_", "key", "rule"), [c[1:] for c in ARRAY_CASES], ids=[c[0] for c in ARRAY_CASES])
def test_array_rule_refused(tmp_path: Path, config, arrays_, key, rule) -> None:
    file = write_network_file(tmp_path / "net.npz", config, arrays_)
    with pytest.raises(NetworkError) as info:
        load_network(file)
    message = str(info.value)
    assert message.startswith(f"{file}: {key}: "), message
    assert rule in message, message


def test_layer_size_must_match_weight_rows(tmp_path: Path, config, arrays) -> None:
    config["layers"][1]["size"] = 3
    file = write_network_file(tmp_path / "net.npz", config, arrays)
    with pytest.raises(NetworkError, match=r"layers\.1\.weight: array must have shape \(3, 2\)"):
        load_network(file)


FILE_CASES = [
    ("format-missing", {"fmt": None}, "format", "missing"),
    ("format-wrong", {"fmt": "snnhw.network/2"}, "format", "must be exactly 'snnhw.network/1', got 'snnhw.network/2'"),
    ("format-1d", {"fmt": np.array(["snnhw.network/1"])}, "format", "0-d unicode string array"),
    ("format-bytes", {"fmt": np.array(b"snnhw.network/1")}, "format", "0-d unicode string array"),
    ("format-int", {"fmt": np.array(1)}, "format", "0-d unicode string array"),
    ("config-missing", {"config": None}, "config", "missing"),
    ("config-not-json", {"config": "{name: t}", "raw_config": True}, "config", "not valid JSON"),
    ("config-empty", {"config": "", "raw_config": True}, "config", "not valid JSON"),
    ("config-array", {"config": "[]", "raw_config": True}, "config", "must be a JSON object"),
    ("config-1d", {"config": np.array(['{"name": "t"}'])}, "config", "0-d unicode string array"),
    ("config-duplicate-key", {"config": '{"name": "t", "name": "u"}', "raw_config": True}, "config", "duplicate key"),
    ("config-nan", {"config": '{"name": "t", "time_steps": NaN, "input": {"size": 3, "bits": 8}, "readout": "spike_count", "layers": []}', "raw_config": True}, "time_steps", "integer"),
]


@pytest.mark.parametrize(("kwargs", "key", "rule"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_file_rule_refused(tmp_path: Path, config, arrays, kwargs, key, rule) -> None:
    kwargs = dict(kwargs)
    cfg = kwargs.pop("config", config)
    file = write_network_file(tmp_path / "net.npz", cfg, arrays, **kwargs)
    with pytest.raises(NetworkError) as info:
        load_network(file)
    message = str(info.value)
    assert message.startswith(f"{file}: "), message
    if key:
        assert f": {key}: " in message, message
    assert rule in message, message


def _good_file(tmp_path: Path, compressed: bool = True) -> Path:
    return write_network_file(tmp_path / "good.npz", base_config(), base_arrays(), compressed=compressed)


def _corrupt(data: bytes) -> bytes:
    # Flip bytes in the middle of the first member's compressed data.
    middle = len(data) // 3
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 40]) + data[middle + 40 :]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("truncated", lambda d: d[: len(d) // 2]),
        ("corrupted", _corrupt),
        ("empty", lambda d: b""),
        ("text", lambda d: b"this is not a network\n"),
    ],
)
@pytest.mark.parametrize("compressed", [True, False])
def test_damaged_file_refused(tmp_path: Path, name, make, compressed) -> None:
    data = _good_file(tmp_path, compressed).read_bytes()
    file = tmp_path / f"{name}.npz"
    file.write_bytes(make(data))
    with pytest.raises(NetworkError) as info:
        load_network(file)
    assert str(info.value).startswith(f"{file}: ")


def test_npy_file_refused(tmp_path: Path) -> None:
    file = tmp_path / "single.npy"
    np.save(file, np.zeros(3))
    with pytest.raises(NetworkError, match="not an .npz archive"):
        load_network(file)


def test_pickled_object_array_refused(tmp_path: Path, config, arrays) -> None:
    arrays["layers.1.weight"] = np.array([[1, 2], [3, None]], dtype=object)
    file = write_network_file(tmp_path / "net.npz", config, arrays)
    with pytest.raises(NetworkError, match=r"layers\.1\.weight: array cannot be read"):
        load_network(file)


def test_non_npy_member_refused(tmp_path: Path) -> None:
    file = _good_file(tmp_path)
    with zipfile.ZipFile(file, "a") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(NetworkError, match="notes.txt: unknown array key"):
        load_network(file)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="no such file"):
        load_network(tmp_path / "absent.npz")
    with pytest.raises(NetworkError, match="is a directory"):
        load_network(tmp_path)


# ------------------------------------------------------------------ accepted
# (case, key changed in the base config, value written, what the loaded network must hold, written out by hand)
ACCEPT_CASES = [
    ("T-1", "time_steps", 1, lambda n: n.time_steps, 1),
    ("T-65535", "time_steps", 65535, lambda n: n.time_steps, 65535),
    ("input-bits-1", "input.bits", 1, lambda n: (n.input.size, n.input.bits, n.input.max_value), (3, 1, 1)),
    ("input-bits-16", "input.bits", 16, lambda n: (n.input.size, n.input.bits, n.input.max_value), (3, 16, 65535)),
    ("W-2", "layers.1.weight_bits", 2, lambda n: (n.layers[1].weight_bits, n.layers[1].w_min, n.layers[1].w_max),
     (2, -2, 1)),
    ("P-4", "layers.1.potential_bits", 4, lambda n: n.layers[1].potential_bits, 4),
    ("P-32", "layers.1.potential_bits", 32, lambda n: n.layers[1].potential_bits, 32),
    ("threshold-1", "layers.1.threshold", 1, lambda n: n.layers[1].threshold, 1),
    ("threshold-max", "layers.1.threshold", 127, lambda n: n.layers[1].threshold, 127),
    ("leak-shift-1", "layers.1.leak", {"kind": "shift", "shift": 1}, lambda n: n.layers[1].leak,
     Leak(LeakKind.SHIFT, 1)),
    ("leak-pow2-P-1", "layers.1.leak", {"shift": 7, "kind": "pow2"}, lambda n: n.layers[1].leak,
     Leak(LeakKind.POW2, 7)),
    ("A-8-with-zero-reset", "layers.1.amplitude_bits", 8,
     lambda n: (n.layers[1].amplitude_bits, n.layers[1].reset.value, n.layers[1].max_amplitude), (8, "zero", 1)),
    ("readout-potential", "readout", "potential", lambda n: (n.readout.value, n.fires(1)), ("potential", False)),
    ("unicode-name", "name", "réseau ✓", lambda n: n.name, "réseau ✓"),
    ("whitespace-name", "layers.1.name", " ", lambda n: [layer.name for layer in n.layers], ["enc", " "]),
    ("W-above-P", "layers.1.weight_bits", 16, lambda n: (n.layers[1].weight_bits, n.layers[1].potential_bits),
     (16, 8)),
]

# the base network's layers as the loader must read them, written out by hand
BASE_LAYERS = [
    {"name": "enc", "kind": "encoder", "size": 2, "weight_bits": 4, "potential_bits": 8, "threshold": 10,
     "leak": {"kind": "none"}, "reset": "subtract", "amplitude_bits": 2, "bias": True},
    {"name": "out", "kind": "dense", "size": 2, "weight_bits": 4, "potential_bits": 8, "threshold": 5,
     "leak": {"kind": "shift", "shift": 2}, "reset": "zero", "amplitude_bits": 1, "bias": False},
]


@pytest.mark.parametrize(("path", "value", "read", "expected"), [c[1:] for c in ACCEPT_CASES],
                         ids=[c[0] for c in ACCEPT_CASES])
def test_boundary_accepted(tmp_path: Path, config, arrays, path, value, read, expected) -> None:
    _set(config, path, value)
    if path == "layers.1.weight_bits" and value == 2:
        arrays["layers.1.weight"] = np.array([[-2, 1], [1, 0]])
    network = load_network(write_network_file(tmp_path / "net.npz", config, arrays))
    assert read(network) == expected
    # every other field is the base network's, as written out above
    want = {"name": "t", "time_steps": 4, "input": {"size": 3, "bits": 8}, "readout": "spike_count",
            "layers": json.loads(json.dumps(BASE_LAYERS))}
    _set(want, path, value)
    assert network.to_config() == want
    assert network.layers[0].weight.tolist() == [[1, -2, 3], [0, 7, -8]]
    assert network.layers[0].bias is not None and network.layers[0].bias.tolist() == [1, -1]
    assert network.layers[1].weight.tolist() == ([[-2, 1], [1, 0]] if value == 2 and path.endswith("weight_bits")
                                                 else [[1, 2], [3, -4]])
    assert network.layers[1].bias is None


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", ">i4", "<i8", "uint64"])
@pytest.mark.parametrize("compressed", [True, False])
def test_any_integer_dtype_accepted(tmp_path: Path, config, arrays, dtype, compressed) -> None:
    arrays["layers.1.weight"] = np.array([[1, 2], [3, 4]], dtype=dtype)
    network = load_network(write_network_file(tmp_path / "net.npz", config, arrays, compressed=compressed))
    assert network.layers[1].weight.tolist() == [[1, 2], [3, 4]]


def test_extreme_values_accepted(tmp_path: Path) -> None:
    config = base_config()
    config["layers"] = config["layers"][:1]
    layer = config["layers"][0]
    layer.update(weight_bits=16, potential_bits=32, threshold=2**31 - 1, amplitude_bits=8, size=1)
    arrays = {
        "layers.0.weight": np.array([[-(2**15), 2**15 - 1, 0]]),
        "layers.0.bias": np.array([-(2**31)]),
    }
    network = load_network(write_network_file(tmp_path / "net.npz", config, arrays))
    assert len(network.layers) == 1
    assert network.layers[0].bias.tolist() == [-(2**31)]
    config["layers"][0]["size"] = 1
    arrays["layers.0.bias"] = np.array([2**31 - 1])
    assert load_network(write_network_file(tmp_path / "net2.npz", config, arrays)).layers[0].bias[0] == 2**31 - 1


def test_key_order_and_whitespace_do_not_matter(tmp_path: Path, arrays) -> None:
    config = base_config()
    text = json.dumps(dict(reversed(list(config.items()))), indent=4)
    network = load_network(write_network_file(tmp_path / "net.npz", text, arrays, raw_config=True))
    assert network.name == "t"


# ---------------------------------------------------------- construction
def _layer(**changes: Any) -> Layer:
    fields: dict[str, Any] = dict(
        name="l",
        kind=LayerKind.ENCODER,
        size=2,
        weight_bits=4,
        potential_bits=8,
        threshold=3,
        leak=Leak(LeakKind.NONE),
        reset="subtract",
        amplitude_bits=1,
        weight=np.zeros((2, 3), dtype=np.int64),
        bias=None,
    )
    fields.update(changes)
    return Layer(**fields)


@pytest.mark.parametrize(
    ("changes", "key", "rule"),
    [
        ({"threshold": 0}, "threshold", "1 … 127 for potential_bits 8"),
        ({"threshold": True}, "threshold", "integer"),
        ({"size": 0}, "size", "≥ 1"),
        ({"leak": Leak(LeakKind.SHIFT, 8)}, "leak.shift", "1 … 7"),
        ({"reset": "hold"}, "reset", "must be one of"),
        ({"weight": np.full((2, 3), 8)}, "weight", "-8 … 7"),
        ({"weight": np.zeros((2, 3), dtype=np.float32)}, "weight", "integer dtype"),
        ({"bias": np.array([200, 0])}, "bias", "-128 … 127"),
        ({"name": ""}, "name", "non-empty"),
    ],
)
def test_construction_validates(changes, key, rule) -> None:
    with pytest.raises(NetworkError) as info:
        _layer(**changes)
    assert str(info.value).startswith(f"{key}: ") and rule in str(info.value), str(info.value)


def test_leak_construction_validates() -> None:
    with pytest.raises(NetworkError, match="takes no shift"):
        Leak(LeakKind.NONE, 2)
    with pytest.raises(NetworkError, match="shift: must be an integer ≥ 1"):
        Leak(LeakKind.POW2, 0)
    with pytest.raises(NetworkError, match="bits: must be an integer 1 … 16"):
        InputSpec(4, 0)


def test_network_construction_validates() -> None:
    encoder = _layer()
    dense = _layer(name="d", kind=LayerKind.DENSE, weight=np.zeros((2, 2), dtype=np.int64))
    Network("n", 4, InputSpec(3, 8), "spike_count", [encoder, dense])
    with pytest.raises(NetworkError, match=r"layers\.1\.kind: must be 'dense'"):
        Network("n", 4, InputSpec(3, 8), "spike_count", [encoder, _layer(weight=np.zeros((2, 2), dtype=np.int64))])
    with pytest.raises(NetworkError, match=r"layers\.0\.weight: array must have shape \(2, 4\)"):
        Network("n", 4, InputSpec(4, 8), "spike_count", [encoder])
    with pytest.raises(NetworkError, match=r"layers\.1\.name: must be unique"):
        Network("n", 4, InputSpec(3, 8), "spike_count", [encoder, _layer(kind="dense", weight=np.zeros((2, 2), dtype=np.int64))])
    with pytest.raises(NetworkError, match=r"layers: must be a non-empty list"):
        Network("n", 4, InputSpec(3, 8), "spike_count", [])
    with pytest.raises(NetworkError, match=r"time_steps: must be an integer 1 … 65535"):
        Network("n", 0, InputSpec(3, 8), "spike_count", [encoder])
