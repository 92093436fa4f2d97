"""Accuracy and activity of a network on a data set, through the golden model.

The figures that drive hardware latency are the events (tokens) and spikes
(sum of amplitudes) each layer emits per sample: a dense layer's work grows with
the events it receives, plus one pass over its rows per time step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from snnhw.datasets import Dataset
from snnhw.errors import InputError
from snnhw.ir import Network
from snnhw.model.golden import simulate
from snnhw.model.trace import Trace

__all__ = ["check_fits", "evaluate", "evaluation_report", "per_sample_counts"]

log = logging.getLogger(__name__)


def check_fits(network: Network, data: Dataset) -> None:
    """Refuse a network whose input or output does not match the data set."""
    if network.input.size != data.size:
        raise InputError(f"network {network.name!r} takes {network.input.size} inputs; {data.name} images have {data.size}",
                         key="input.size", value=network.input.size)
    if (1 << network.input.bits) <= data.max_value:
        raise InputError(f"network {network.name!r} takes {network.input.bits}-bit inputs; {data.name} values reach "
                         f"{data.max_value}", key="input.bits", value=network.input.bits)
    if network.output_size < data.classes:
        raise InputError(f"network {network.name!r} has {network.output_size} outputs; {data.name} has {data.classes} classes",
                         key=f"layers.{len(network.layers) - 1}.size", value=network.output_size)


def per_sample_counts(trace: Trace, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Events and spikes of one layer for every sample, ``int64 (N,)`` each."""
    ev = trace.events[layer]
    n = trace.samples
    events = np.bincount(ev[:, 0], minlength=n) if len(ev) else np.zeros(n, dtype=np.int64)
    spikes = np.bincount(ev[:, 0], weights=ev[:, 3], minlength=n).astype(np.int64) if len(ev) else np.zeros(n, dtype=np.int64)
    return events, spikes


def evaluate(
    network: Network,
    data: Dataset,
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], Trace]:
    """Run ``network`` on a data split through the golden model.

    Parameters
    ----------
    network:
        The network.
    data:
        The split (see :func:`snnhw.datasets.load_dataset`).
    limit:
        Use only the first N samples.
    progress:
        Called with the number of samples finished.

    Returns
    -------
    report, trace
        The report (see :func:`evaluation_report`) and the golden trace.
    """
    check_fits(network, data)
    x, y = data.x, data.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    trace = simulate(network, x, progress=progress)
    return evaluation_report(network, data, trace, y), trace


def evaluation_report(network: Network, data: Dataset, trace: Trace, labels: np.ndarray) -> dict[str, Any]:
    """The figures of ``snnhw eval --json``.

    Keys: ``network``, ``hash``, ``dataset``, ``split``, ``samples``, ``correct``,
    ``accuracy`` (a fraction in [0, 1]), ``confusion`` (rows: true class,
    columns: prediction), ``per_class_accuracy``, and ``layers``: per layer its
    ``events_per_sample`` and ``spikes_per_sample`` (mean, max), the total
    ``events`` and ``spikes``, and ``saturations`` (additions clamped by ``sat``).
    """
    n = trace.samples
    classes = max(data.classes, network.output_size)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    if n:
        np.add.at(confusion, (labels, trace.predictions), 1)
    correct = int(np.trace(confusion))
    sat = trace.extras.get("saturations")
    layers = []
    for i, layer in enumerate(network.layers):
        events, spikes = per_sample_counts(trace, i)
        layers.append({
            "name": layer.name,
            "size": layer.size,
            "events": int(events.sum()),
            "spikes": int(spikes.sum()),
            "events_per_sample": float(events.mean()) if n else 0.0,
            "events_per_sample_max": int(events.max(initial=0)),
            "spikes_per_sample": float(spikes.mean()) if n else 0.0,
            "spikes_per_sample_max": int(spikes.max(initial=0)),
            "saturations": None if sat is None else int(sat[i]),
        })
    totals = confusion.sum(axis=1)
    return {
        "network": network.name,
        "hash": network.content_hash(),
        "dataset": data.name,
        "split": data.split,
        "samples": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "confusion": confusion.tolist(),
        "per_class_accuracy": [float(confusion[c, c] / totals[c]) if totals[c] else None for c in range(classes)],
        "layers": layers,
    }

