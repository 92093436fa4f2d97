"""A deliberately naive reading of the semantics, for testing the golden model.

One sample at a time, one step at a time, one neuron at a time, Python
integers only. It shares no code with :mod:`snnhw.model`; it is written
straight from ``docs/semantics.md`` and is slow on purpose.
"""

from __future__ import annotations

import numpy as np

from snnhw.ir import Network


def naive_run(network: Network, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Return the trace arrays for ``inputs``, plus ``saturations`` (clamped additions per layer)."""
    layers = network.layers
    T = network.time_steps
    n_samples = len(inputs)
    events: list[list[tuple[int, int, int, int]]] = [[] for _ in layers]
    scores = []
    saturations = [0] * len(layers)

    def sat(v: int, lo: int, hi: int, layer: int) -> int:
        if v < lo or v > hi:
            saturations[layer] += 1
        return min(max(v, lo), hi)

    for s in range(n_samples):
        x = [int(v) for v in inputs[s]]
        potential = [[0] * layer.size for layer in layers]
        counts = [0] * layers[-1].size
        # The encoder current, once per sample.
        enc = layers[0]
        lo, hi = -(2 ** (enc.potential_bits - 1)), 2 ** (enc.potential_bits - 1) - 1
        current = []
        for i in range(enc.size):
            total = sum(int(enc.weight[i, j]) * x[j] for j in range(enc.n_in))
            if enc.bias is not None:
                total += int(enc.bias[i])
            current.append(sat(total, lo, hi, 0))
        for t in range(T):
            step_input: list[tuple[int, int]] = []  # (j, c) of the previous layer this step
            for li, layer in enumerate(layers):
                lo, hi = -(2 ** (layer.potential_bits - 1)), 2 ** (layer.potential_bits - 1) - 1
                last = li == len(layers) - 1
                fires = not (last and network.readout.value == "potential")
                produced = []
                for n in range(layer.size):
                    v = potential[li][n]
                    kind, k = layer.leak.kind.value, layer.leak.shift
                    if kind == "shift":
                        v = v - (v // 2**k)
                    elif kind == "pow2":
                        v = v // 2**k
                    if li == 0:
                        v = sat(v + current[n], lo, hi, 0)
                    else:
                        if layer.bias is not None:
                            v = sat(v + int(layer.bias[n]), lo, hi, li)
                        for j, c in sorted(step_input):
                            v = sat(v + c * int(layer.weight[n, j]), lo, hi, li)
                    if fires and v >= layer.threshold:
                        if layer.reset.value == "subtract":
                            c = min(v // layer.threshold, 2**layer.amplitude_bits - 1)
                            v = v - c * layer.threshold
                        else:
                            c = 1
                            v = 0
                        produced.append((n, c))
                        events[li].append((s, t, n, c))
                        if last:
                            counts[n] += c
                    potential[li][n] = v
                step_input = produced
        scores.append(counts if network.readout.value == "spike_count" else list(potential[-1]))
    score_arr = np.array(scores, dtype=np.int64).reshape(n_samples, layers[-1].size)
    predictions = np.array([max(range(len(r)), key=lambda n, r=r: (r[n], -n)) for r in score_arr], dtype=np.int64)
    out = {"predictions": predictions.reshape(n_samples), "scores": score_arr}
    for li, ev in enumerate(events):
        out[f"events.{li}"] = np.array(sorted(ev), dtype=np.int64).reshape(-1, 4)
    out["saturations"] = np.array(saturations, dtype=np.int64)
    return out
