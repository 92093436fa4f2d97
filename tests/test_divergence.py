"""first_divergence names the first place two traces differ."""

from __future__ import annotations

import dataclasses

import numpy as np

from snnhw.model import simulate
from snnhw.model.trace import first_divergence
from snnhw.netgen import random_network


def _setup():
    net = random_network(8, input_size=6, input_bits=3, sizes=[5, 4, 3], time_steps=5)
    x = np.random.default_rng(1).integers(0, 8, size=(3, 6))
    return net, simulate(net, x)


def test_equal_traces_have_no_divergence() -> None:
    net, trace = _setup()
    assert first_divergence(net, trace, trace) is None


def test_changed_amplitude_is_named_with_sample_layer_step_and_neuron() -> None:
    net, trace = _setup()
    events = [e.copy() for e in trace.events]
    row = len(events[1]) // 2
    s, t, n, a = (int(v) for v in events[1][row])
    events[1][row, 3] = a + 1
    other = dataclasses.replace(trace, events=tuple(events))
    assert first_divergence(net, trace, other) == (
        f"sample {s}, layer 1 ({net.layers[1].name}), step {t}, neuron {n}: expected amplitude {a}, got {a + 1} "
        "(0 = no spike)")


def test_missing_and_extra_spikes_are_named() -> None:
    net, trace = _setup()
    events = [e.copy() for e in trace.events]
    s, t, n, a = (int(v) for v in events[0][0])
    events[0] = events[0][1:]
    other = dataclasses.replace(trace, events=tuple(events))
    assert first_divergence(net, trace, other) == (
        f"sample {s}, layer 0 ({net.layers[0].name}), step {t}, neuron {n}: expected amplitude {a}, got 0 "
        "(0 = no spike)")
    assert first_divergence(net, other, trace).endswith(f"expected amplitude 0, got {a} (0 = no spike)")


def test_scores_and_predictions_are_named() -> None:
    net, trace = _setup()
    scores = trace.scores.copy()
    scores[2, 1] += 5
    assert first_divergence(net, trace, dataclasses.replace(trace, scores=scores)) == (
        f"sample 2, scores, neuron 1: expected {trace.scores[2, 1]}, got {trace.scores[2, 1] + 5}")
    predictions = trace.predictions.copy()
    predictions[0] += 1
    assert first_divergence(net, trace, dataclasses.replace(trace, predictions=predictions)) == (
        f"sample 0, prediction: expected {trace.predictions[0]}, got {trace.predictions[0] + 1}")
