"""Traces: what an engine computed for a batch of inputs (spec §4).

A trace holds, for N samples, every layer's events, the last layer's scores
and the predictions. Every engine (the golden model here, the RTL simulators
later) produces the same :class:`Trace`, saved with exactly the keys of the
trace file format; engines may add further per-sample arrays in ``extras``.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from snnhw._io import write_npz
from snnhw.errors import InputError
from snnhw.ir import Network

__all__ = ["LayerStats", "Trace", "check_inputs", "compare_traces", "first_divergence", "load_inputs", "load_trace"]


@dataclass(frozen=True)
class LayerStats:
    """Activity of one layer over a trace.

    Attributes
    ----------
    events:
        Number of events (tokens other than end-of-window) the layer emitted.
    spikes:
        Sum of the events' amplitudes.
    saturations:
        Number of additions whose result was clamped by ``sat`` (``None`` if
        the engine does not count them).
    """

    name: str
    size: int
    events: int
    spikes: int
    saturations: int | None


@dataclass(frozen=True, eq=False)
class Trace:
    """The result of running a network on N input samples.

    Attributes
    ----------
    predictions:
        ``int64 (N,)``: the smallest neuron index with the maximum score.
    scores:
        ``int64 (N, size_last)``.
    events:
        One ``int64 (E_i, 4)`` array per layer, rows ``(sample, t, neuron,
        amplitude)`` sorted by ``(sample, t, neuron)``.
    extras:
        Engine-specific arrays saved with the trace (the golden model adds
        ``saturations``, ``int64 (layers,)``).
    """

    predictions: np.ndarray
    scores: np.ndarray
    events: tuple[np.ndarray, ...]
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        """Number of samples N."""
        return int(self.predictions.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The trace as file keys → arrays (the spec keys first, then extras)."""
        out = {
            "predictions": np.asarray(self.predictions, dtype=np.int64),
            "scores": np.asarray(self.scores, dtype=np.int64),
        }
        for i, ev in enumerate(self.events):
            out[f"events.{i}"] = np.asarray(ev, dtype=np.int64).reshape(-1, 4)
        out.update(self.extras)
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trace exactly at ``path`` (no extension added), atomically."""
        write_npz(path, self.arrays(), compress=True)

    def stats(self, network: Network) -> list[LayerStats]:
        """Per-layer event, spike and saturation counts."""
        sat = self.extras.get("saturations")
        return [
            LayerStats(
                name=layer.name,
                size=layer.size,
                events=len(ev),
                spikes=int(ev[:, 3].sum()) if len(ev) else 0,
                saturations=None if sat is None else int(sat[i]),
            )
            for i, (layer, ev) in enumerate(zip(network.layers, self.events))
        ]


def load_trace(path: str | os.PathLike[str]) -> Trace:
    """Read a trace file written by any engine.

    Raises
    ------
    InputError
        The file cannot be read or lacks a key of the trace format.
    """
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle, np.load(handle, allow_pickle=False) as npz:
            n_layers = sum(1 for key in npz.files if key.startswith("events."))
            core = ["predictions", "scores", *(f"events.{i}" for i in range(n_layers))]
            for key in core:
                if key not in npz.files:
                    raise InputError("missing (not a trace file?)", key=key, source=source)
            events = tuple(npz[f"events.{i}"] for i in range(n_layers))
            extras = {key: npz[key] for key in npz.files if key not in core}
            return Trace(npz["predictions"], npz["scores"], events, extras)
    except InputError:
        raise
    except (OSError, ValueError, EOFError, AttributeError, zipfile.BadZipFile, zlib.error) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"not a readable trace file ({reason})", source=source) from None


def compare_traces(expected: Trace, actual: Trace) -> list[str]:
    """Compare the spec keys of two traces exactly; return one line per difference.

    An empty list means the traces agree bit for bit on predictions, scores
    and every layer's events (extras are not compared).
    """
    problems: list[str] = []
    for key, a in expected.arrays().items():
        if key not in ("predictions", "scores") and not key.startswith("events."):
            continue
        b = actual.arrays().get(key)
        if b is None:
            problems.append(f"{key}: missing")
        elif a.shape != b.shape:
            problems.append(f"{key}: shape {b.shape}, expected {a.shape}")
        elif not np.array_equal(a, b):
            row = int(np.argwhere(a != b)[0][0])
            problems.append(f"{key}: first difference at row {row}: {b[row].tolist()} != expected {a[row].tolist()}")
    if len(actual.events) != len(expected.events):
        problems.append(f"layers: {len(actual.events)}, expected {len(expected.events)}")
    return problems


def check_inputs(network: Network, inputs: object, source: str | None = None) -> np.ndarray:
    """Validate an input batch for ``network`` and return it (not copied).

    The batch must be an integer array (bool and float are refused) of shape
    ``(N, input.size)`` with values in ``[0, 2^bits)``; N = 0 is valid. Its
    dtype is kept, so a large ``uint8`` batch is not widened here.
    """
    spec = network.input
    if not isinstance(inputs, np.ndarray):
        raise InputError("inputs must be a numpy array", source=source, value=type(inputs).__name__)
    if inputs.dtype.kind not in "iu":
        raise InputError("inputs must have an integer dtype (bool and float are refused)", source=source, value=str(inputs.dtype))
    if inputs.ndim != 2 or inputs.shape[1] != spec.size:
        raise InputError(f"inputs must have shape (N, {spec.size}) (N samples × input.size)", source=source, value=inputs.shape)
    if inputs.size:
        low, high = int(inputs.min()), int(inputs.max())
        if low < 0 or high > spec.max_value:
            raise InputError(f"input values must be 0 … {spec.max_value} (input.bits {spec.bits})", source=source, value=low if low < 0 else high)
    return inputs


def load_inputs(path: str | os.PathLike[str], network: Network) -> np.ndarray:
    """Read and validate an ``INPUTS.npy`` file for ``network``."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            array = np.load(handle, allow_pickle=False)
            if not isinstance(array, np.ndarray):
                array.close()
                raise InputError("must be a single .npy array, not an .npz archive", source=source)
    except FileNotFoundError:
        raise InputError("no such file", source=source) from None
    except IsADirectoryError:
        raise InputError("is a directory, not an .npy file", source=source) from None
    except (OSError, ValueError, EOFError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"not a readable .npy array ({reason})", source=source) from None
    return check_inputs(network, array, source)


def first_divergence(network: Network, expected: Trace, actual: Trace) -> str | None:
    """Where two traces first differ, in words: sample, layer, step, neuron, expected vs. got.

    Samples are scanned in order; within a sample, layers in order, then the
    scores and the prediction. Returns ``None`` when the spec keys agree.
    """
    if not compare_traces(expected, actual):
        return None
    n = min(expected.samples, actual.samples)
    if expected.samples != actual.samples:
        return f"{actual.samples} samples, expected {expected.samples}"
    for s in range(n):
        for i, layer in enumerate(network.layers):
            exp = expected.events[i]
            got = actual.events[i]
            e = exp[exp[:, 0] == s][:, 1:] if len(exp) else np.zeros((0, 3), dtype=np.int64)
            g = got[got[:, 0] == s][:, 1:] if len(got) else np.zeros((0, 3), dtype=np.int64)
            if np.array_equal(e, g):
                continue
            for k in range(max(len(e), len(g))):
                ek = tuple(int(v) for v in e[k]) if k < len(e) else None
                gk = tuple(int(v) for v in g[k]) if k < len(g) else None
                if ek == gk:
                    continue
                where = ek if gk is None or (ek is not None and ek[:2] <= gk[:2]) else gk
                assert where is not None
                t, neuron = where[0], where[1]
                want = next((int(a) for tt, nn, a in e if tt == t and nn == neuron), 0)
                have = next((int(a) for tt, nn, a in g if tt == t and nn == neuron), 0)
                return (f"sample {s}, layer {i} ({layer.name}), step {t}, neuron {neuron}: "
                        f"expected amplitude {want}, got {have} (0 = no spike)")
        if not np.array_equal(expected.scores[s], actual.scores[s]):
            neuron = int(np.argmax(expected.scores[s] != actual.scores[s]))
            return (f"sample {s}, scores, neuron {neuron}: expected {int(expected.scores[s, neuron])}, "
                    f"got {int(actual.scores[s, neuron])}")
        if expected.predictions[s] != actual.predictions[s]:
            return f"sample {s}, prediction: expected {int(expected.predictions[s])}, got {int(actual.predictions[s])}"
    return "; ".join(compare_traces(expected, actual))
