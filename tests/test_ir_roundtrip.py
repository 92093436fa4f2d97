"""Saving, loading, hashing and derived widths of networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnhw.errors import NetworkError
from snnhw.ir import FORMAT, Network
from snnhw.netfile import bundled_networks, load_network, resolve_network
from snnhw.netgen import random_network

from .conftest import base_arrays, base_config, write_network_file


@pytest.mark.parametrize("seed", range(8))
def test_save_load_round_trip(tmp_path: Path, seed: int) -> None:
    network = random_network(seed, vary=True, sizes=(5, 4, 3))
    path = tmp_path / "net.bin"  # any name; written exactly there
    network.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.bin"]
    loaded = load_network(path)
    assert loaded == network
    assert loaded.content_hash() == network.content_hash()


def test_saved_file_is_plain_numpy_and_narrow(tmp_path: Path) -> None:
    network = random_network(0, weight_bits=6, potential_bits=12)
    network.save(tmp_path / "n.npz")
    with np.load(tmp_path / "n.npz", allow_pickle=False) as npz:
        assert str(npz["format"]) == FORMAT
        assert npz["layers.0.weight"].dtype == np.int8
        assert npz["layers.0.bias"].dtype in (np.int8, np.int16)
        assert set(npz.files) == {"format", "config", *network.arrays()}


def test_save_is_deterministic(tmp_path: Path) -> None:
    network = random_network(3)
    network.save(tmp_path / "a.npz")
    network.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_hash_ignores_dtype_and_container(tmp_path: Path) -> None:
    arrays = base_arrays()
    a = load_network(write_network_file(tmp_path / "a.npz", base_config(), arrays, compressed=False))
    arrays = {k: v.astype(np.int64) for k, v in arrays.items()}
    b = load_network(write_network_file(tmp_path / "b.npz", base_config(), arrays, compressed=True))
    assert a.content_hash() == b.content_hash()
    assert a == b and hash(a) == hash(b)
    config = base_config()
    config["layers"][1]["threshold"] = 6
    c = load_network(write_network_file(tmp_path / "c.npz", config, arrays))
    assert c.content_hash() != a.content_hash()
    assert c != a


def test_hash_is_stable_across_versions() -> None:
    """The digest of a fixed network must never change (it names build outputs)."""
    network = Network.from_config(base_config(), base_arrays())
    assert network.content_hash() == "7febff351ba211a9df2512824a15308e2923c4ffa24297f4a13d81853057e999"


def test_parameters_are_read_only() -> None:
    network = Network.from_config(base_config(), base_arrays())
    with pytest.raises(ValueError, match="read-only"):
        network.layers[0].weight[0, 0] = 5
    with pytest.raises(AttributeError):
        network.layers[0].threshold = 3  # type: ignore[misc]


def test_from_config_refuses_unknown_arrays() -> None:
    arrays = base_arrays() | {"junk": np.zeros(1, dtype=np.int8)}
    with pytest.raises(NetworkError, match="junk: unknown array key"):
        Network.from_config(base_config(), arrays)


@pytest.mark.parametrize(
    ("steps", "size", "amp_bits", "expected"),
    [(1, 1, 1, (1, 1, 1)), (2, 2, 1, (1, 1, 1)), (16, 784, 2, (4, 10, 2)), (17, 785, 8, (5, 10, 8)), (65535, 256, 3, (16, 8, 3))],
)
def test_stream_widths(steps: int, size: int, amp_bits: int, expected: tuple[int, int, int]) -> None:
    network = random_network(0, sizes=(size,), time_steps=steps, amplitude_bits=amp_bits, input_size=2)
    widths = network.stream_widths(0)
    assert (widths.dt, widths.idx, widths.amp) == expected
    assert widths.total == sum(expected)


def test_bundled_example_and_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "example" in bundled_networks()
    example = resolve_network("example")
    assert example.name == "example"
    # an existing file wins over a bundled name
    monkeypatch.chdir(tmp_path)
    random_network(1, name="mine").save(tmp_path / "example")
    assert resolve_network("example").name == "mine"
    with pytest.raises(NetworkError, match="not a bundled network"):
        resolve_network("no-such-network")


def test_bundled_example_is_reproducible(tmp_path: Path) -> None:
    """snnhw/networks/example.npz is exactly what its documented command writes."""
    from snnhw.netgen import random_network as make

    network = make(7, input_size=64, input_bits=4, sizes=(32, 16, 10), time_steps=8, name="example")
    network.save(tmp_path / "example.npz")
    assert (tmp_path / "example.npz").read_bytes() == bundled_networks()["example"].read_bytes()
