"""The analytical cycle model of the accelerator.

Per sample, a core of a layer is busy for

* encoder: ``max(front, steps)``: its front engine loads the next window and computes
  its currents (``ceil(n_in / pixels_per_beat)`` + ``E`` + 12, with E the sparse current entries it
  issues: Σ over rows of the row's largest non-zero count, at least 1, for a row that meets a
  non-zero pixel, and 1 for any other row, :func:`snnhw.rtl.encoder.active_rows`) while its step
  engine runs the current window (``T·max(R, F)`` + 2); the two overlap. Without the inputs the
  model takes every row as active (the slowest case);
* dense: ``input events·R + T·max(R, F) + 1`` — one row per cycle for each input spike
  and for each step's fire pass, plus the end-of-window row;

with ``R = ceil(neurons of the core / lanes)`` and ``F = pipeline_depth − 3``, the
stages of a fire pass's work: a fire pass of fewer rows than that waits for its
write-back before the next operation (see :mod:`snnhw.rtl.core`). A layer takes as long as its
slowest core. Layers run concurrently, decoupled by FIFOs, so back to back the
accelerator finishes one sample per ``max over layers`` of these, and a single
sample's latency is about the sum of the encoder's load and current phases, the
slowest layer's step work, and the readout's ``size + 1`` beats.

:func:`predict_total` adds the pipeline fill: the first window's front phase
before any spike exists, and the readout's beats after the last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snnhw.ir import Network
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.core import LEAD
from snnhw.rtl.encoder import FRONT_DRAIN, active_rows, issued_entries, pixels_per_word, sparse_entries

__all__ = ["LayerCost", "cycle_model", "encoder_front", "event_bound", "input_events_from_trace", "layer_costs", "predict_busy",
           "predict_cycles", "predict_total", "sample_cycles", "steady_cycles"]

#: Cycles between a window's last token and its result beats leaving (FIFO, merge and readout registers).
PIPELINE_CONSTANT = 4


@dataclass(frozen=True)
class LayerCost:
    """Per-sample cost of one layer: ``fixed + per_event · input events`` cycles (``front``: the
    encoder's load-and-currents phase, which overlaps the previous window's steps)."""

    fixed: int
    per_event: int
    rows: int
    front: int = 0


def layer_costs(network: Network, build: Build) -> list[LayerCost]:
    """The cost coefficients of every layer (its slowest core)."""
    T = network.time_steps
    costs = []
    for i, layer in enumerate(network.layers):
        lb = build.layers[i]
        worst = None
        for lo, hi in core_slices(layer.size, lb.cores):
            lanes = min(lb.lanes, hi - lo)
            rows = math.ceil((hi - lo) / lanes)
            # a FIRE pass of R rows is followed by a cool-down of F − R cycles when R < F (F = depth − 2)
            step = max(rows, lb.pipeline_depth - LEAD + 1)
            if i == 0:
                entries = len(sparse_entries(layer.weight, lo, hi, lanes))
                front = -(-layer.n_in // build.pixels_per_beat) + entries + FRONT_DRAIN + 3
                cost = LayerCost(fixed=max(front, T * step + 2), per_event=0, rows=rows, front=front)
            else:
                cost = LayerCost(fixed=T * step + 1, per_event=rows, rows=rows)
            if worst is None or (cost.fixed, cost.per_event) > (worst.fixed, worst.per_event):
                worst = cost
        assert worst is not None
        costs.append(worst)
    return costs


def event_bound(network: Network, build: Build, input_events: np.ndarray) -> np.ndarray:
    """The work that the spikes force, per sample, ``(N,)``: the largest over layers of an encoder's
    ``T·R`` step rows and a dense layer's ``(input events + T)·R`` rows (R of the layer's largest
    core). No design of this architecture can take fewer cycles per sample back to back."""
    T = network.time_steps
    costs = layer_costs(network, build)
    ev = np.asarray(input_events, dtype=np.int64)
    work = [np.full(ev.shape[1], T * costs[0].rows, dtype=np.int64)]
    work += [(ev[i] + T) * c.rows for i, c in enumerate(costs) if i > 0]
    return np.stack(work).max(axis=0)


def steady_cycles(end: np.ndarray, total: float) -> float:
    """Cycles per sample back to back, measured: ``(end of sample N − end of sample 1) / (N − 1)``
    (the first sample's fill and the last one's drain excluded); ``total / N`` for one sample."""
    end = np.asarray(end, dtype=np.int64)
    if len(end) >= 2:
        return float(end[-1] - end[0]) / (len(end) - 1)
    return float(total) / max(1, len(end))


def predict_busy(network: Network, build: Build, input_events: np.ndarray) -> np.ndarray:
    """Rows issued per layer and sample, ``(layers, N)``: what the ``busy_<i>`` counters count
    (plus, once after reset, the encoder's and every dense core's R-row init pass)."""
    T = network.time_steps
    costs = layer_costs(network, build)
    ev = np.asarray(input_events, dtype=np.int64)
    rows = [np.full(ev.shape[1], T * costs[0].rows + 1, dtype=np.int64)]
    rows += [T * c.rows + 1 + c.per_event * ev[i] for i, c in enumerate(costs) if i > 0]  # cool-downs issue nothing
    return np.stack(rows)


def encoder_front(network: Network, build: Build, inputs: np.ndarray) -> np.ndarray:
    """Cycles of the encoder's front engine per sample, ``(N,)`` (its slowest core): the load, the
    entries it issues for the sample's pixels, and the drain."""
    layer, lb = network.layers[0], build.layers[0]
    x = np.atleast_2d(np.asarray(inputs))
    ppw = pixels_per_word(network.input.bits, build.pixels_per_beat)
    fixed = -(-layer.n_in // build.pixels_per_beat) + FRONT_DRAIN + 3
    worst = np.zeros(len(x), dtype=np.int64)
    for lo, hi in core_slices(layer.size, lb.cores):
        lanes = min(lb.lanes, hi - lo)
        entries = sparse_entries(layer.weight, lo, hi, lanes)
        active = active_rows(layer.weight, lo, hi, lanes, ppw, x)
        issued = np.array([len(issued_entries(entries, a)) for a in active], dtype=np.int64)
        worst = np.maximum(worst, fixed + issued)
    return worst


def predict_cycles(network: Network, build: Build, input_events: np.ndarray,
                   inputs: np.ndarray | None = None) -> np.ndarray:
    """Cycles each layer needs per sample, ``(layers, N)``, given input events per layer and sample
    (back to back, the slowest layer sets the pace); with the samples' ``inputs`` the encoder's front
    follows their non-zero pixels, without them every row counts as active."""
    costs = layer_costs(network, build)
    ev = np.asarray(input_events, dtype=np.int64)
    out = np.stack([c.fixed + c.per_event * ev[i] for i, c in enumerate(costs)])
    if inputs is not None and out.shape[1]:
        T, lb = network.time_steps, build.layers[0]
        step = max(costs[0].rows, lb.pipeline_depth - LEAD + 1)
        out[0] = np.maximum(encoder_front(network, build, inputs), T * step + 2)
    return out


def predict_total(network: Network, build: Build, input_events: np.ndarray,
                  inputs: np.ndarray | None = None) -> float:
    """Predicted cycles to stream N samples back to back (no gaps, no back-pressure)."""
    busy = predict_cycles(network, build, input_events, inputs)
    if busy.shape[1] == 0:
        return 0.0
    front = layer_costs(network, build)[0].front if inputs is None else int(encoder_front(network, build,
                                                                                         inputs[:1])[0])
    return float(busy.max(axis=0).sum() + front + network.output_size + 1 + PIPELINE_CONSTANT)


def sample_cycles(network: Network, build: Build, input_events: np.ndarray,
                  inputs: np.ndarray | None = None) -> tuple[float, float]:
    """Predicted cycles per sample: back to back, and for one sample alone (mean over the samples).

    ``input_events`` is as for :func:`cycle_model`; N = 0 gives ``(0.0, 0.0)``.
    """
    n = input_events.shape[1]
    if n == 0:
        return 0.0, 0.0
    back_to_back = predict_total(network, build, input_events, inputs) / n
    alone = float(np.mean([predict_total(network, build, input_events[:, i : i + 1],
                                         None if inputs is None else inputs[i : i + 1]) for i in range(n)]))
    return back_to_back, alone


def cycle_model(network: Network, build: Build, input_events: np.ndarray | None = None) -> dict[str, object]:
    """The model as a JSON-ready dict: coefficients and, given event counts, per-sample figures.

    Parameters
    ----------
    input_events:
        ``(layers, N)`` input events per layer and sample (row 0 is ignored: the
        encoder's input is the pixel vector). From a golden trace:
        row ``i`` = events of layer ``i − 1``.
    """
    costs = layer_costs(network, build)
    out: dict[str, object] = {
        "layers": [{"name": layer.name, "fixed_cycles": c.fixed, "cycles_per_input_event": c.per_event,
                    "rows": c.rows} for layer, c in zip(network.layers, costs)],
        "readout_cycles": network.output_size + 1,
        "pipeline_constant": PIPELINE_CONSTANT,
    }
    if input_events is not None:
        busy = predict_cycles(network, build, input_events)
        out["busy_per_layer"] = busy.mean(axis=1).tolist()
        out["interval_cycles"] = float(busy.max(axis=0).mean())
        out["total_cycles"] = predict_total(network, build, input_events)
    return out


def input_events_from_trace(network: Network, events: tuple[np.ndarray, ...], n_samples: int) -> np.ndarray:
    """Input events per layer and sample, ``(layers, N)``, from a trace's event arrays."""
    out = np.zeros((len(network.layers), n_samples), dtype=np.int64)
    for i in range(1, len(network.layers)):
        e = events[i - 1]
        if len(e):
            out[i] = np.bincount(e[:, 0], minlength=n_samples)[:n_samples]
    return out
