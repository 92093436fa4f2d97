"""Shared fixtures and helpers of the test suite."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

# No example database and caches outside the checkout: runs are reproducible and
# nothing is written into the source tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "snnhw-hypothesis"))
settings.register_profile("snnhw", database=None, derandomize=True)
settings.load_profile("snnhw")
# Verilator models of the suite's many small designs at -O0: two to three times faster to compile, and no
# trace depends on it (snnhw.sim.runner.sim_opt); tests/test_eval.py builds the MNIST design at the default.
os.environ.setdefault("SNNHW_SIM_OPT", "-O0")


#: Test files that take minutes, run first so that the workers of ``pytest -n`` finish together
#: (``--dist loadfile`` hands out files in collection order).
SLOW_FIRST = ("test_layout_flow.py", "test_sweep.py", "test_cosim.py", "test_synth.py", "test_board.py",
              "test_power.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept within a rank


def base_config() -> dict[str, Any]:
    """A small valid config: an encoder with bias and a dense layer without."""
    return {
        "name": "t",
        "time_steps": 4,
        "input": {"size": 3, "bits": 8},
        "readout": "spike_count",
        "layers": [
            {
                "name": "enc",
                "kind": "encoder",
                "size": 2,
                "weight_bits": 4,
                "potential_bits": 8,
                "threshold": 10,
                "leak": {"kind": "none"},
                "reset": "subtract",
                "amplitude_bits": 2,
                "bias": True,
            },
            {
                "name": "out",
                "kind": "dense",
                "size": 2,
                "weight_bits": 4,
                "potential_bits": 8,
                "threshold": 5,
                "leak": {"kind": "shift", "shift": 2},
                "reset": "zero",
                "amplitude_bits": 1,
                "bias": False,
            },
        ],
    }


def base_arrays() -> dict[str, np.ndarray]:
    return {
        "layers.0.weight": np.array([[1, -2, 3], [0, 7, -8]], dtype=np.int8),
        "layers.0.bias": np.array([1, -1], dtype=np.int16),
        "layers.1.weight": np.array([[1, 2], [3, -4]], dtype=np.int64),
    }


def write_network_file(
    path: Path,
    config: Any,
    arrays: dict[str, np.ndarray],
    *,
    fmt: Any = "snnhw.network/1",
    compressed: bool = True,
    raw_config: bool = False,
) -> Path:
    """Write a network file the way a third-party tool would (``numpy.savez``)."""
    content: dict[str, Any] = {}
    if fmt is not None:
        content["format"] = fmt if isinstance(fmt, np.ndarray) else np.array(fmt)
    if config is not None:
        content["config"] = config if isinstance(config, np.ndarray) else np.array(config if raw_config else json.dumps(config))
    content.update(arrays)
    saver = np.savez_compressed if compressed else np.savez
    with open(path, "wb") as handle:
        saver(handle, **content)
    return path


@pytest.fixture
def config() -> dict[str, Any]:
    return copy.deepcopy(base_config())


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    return base_arrays()
