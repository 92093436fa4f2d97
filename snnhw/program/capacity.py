"""What a loadable design can hold, and a network padded to it.

Fixed at generation (the design's network): the layer count and kinds, every width (input bits,
weight bits, potential bits, amplitude bits), the leak kind, the reset, the readout, whether a
layer has a bias, the largest T, the neurons of every layer and the input size, and the encoder's
entry capacity (:class:`snnhw.rtl.build.LoadSpec`). Loaded at run time: the weights, biases,
thresholds, leak shifts, T, and the encoder's weight lists.

A network fits when its structure is the design's and its sizes are within it, with the last
layer's size (the result's) equal. A layer without a bias fits one with a bias (zero biases).
"""

from __future__ import annotations

import math

import numpy as np

from snnhw.errors import CapacityError
from snnhw.ir import InputSpec, Layer, Network
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.encoder import sparse_entries

__all__ = ["capacity_network", "check_fits", "embed", "pad_inputs"]


def _refuse(rule: str, key: str, value: object, source: str | None) -> CapacityError:
    return CapacityError(rule, key=key, value=value, source=source)


def check_fits(network: Network, design: Network, build: Build, *, source: str | None = None) -> None:
    """Raise :class:`~snnhw.errors.CapacityError` naming the first limit of the loadable design of
    ``design`` under ``build`` that ``network`` exceeds (``source``: the network's file)."""
    if build.load is None:
        raise CapacityError("the design is not loadable (generate it with --loadable)", key="--hardware",
                            source=source)
    if network.input.bits != design.input.bits:
        raise _refuse(f"must be the design's {design.input.bits}", "input.bits", network.input.bits, source)
    if network.input.size > design.input.size:
        raise _refuse(f"must be at most the design's {design.input.size}", "input.size", network.input.size, source)
    if network.time_steps > design.time_steps:
        raise _refuse(f"must be at most the design's {design.time_steps}", "time_steps", network.time_steps, source)
    if network.readout != design.readout:
        raise _refuse(f"must be the design's {design.readout.value!r}", "readout", network.readout.value, source)
    if len(network.layers) != len(design.layers):
        raise _refuse(f"must be the design's {len(design.layers)}", "layers", len(network.layers), source)
    for i, (layer, cap) in enumerate(zip(network.layers, design.layers)):
        key = f"layers.{i}"
        last = i == len(design.layers) - 1
        if last and layer.size != cap.size:
            raise _refuse(f"must be the design's output size {cap.size}", f"{key}.size", layer.size, source)
        if layer.size > cap.size:
            raise _refuse(f"must be at most the design's {cap.size}", f"{key}.size", layer.size, source)
        for name in ("weight_bits", "potential_bits", "amplitude_bits"):
            if getattr(layer, name) != getattr(cap, name):
                raise _refuse(f"must be the design's {getattr(cap, name)}", f"{key}.{name}", getattr(layer, name),
                              source)
        if layer.leak.kind != cap.leak.kind:
            raise _refuse(f"must be the design's {cap.leak.kind.value!r}", f"{key}.leak.kind", layer.leak.kind.value,
                          source)
        if layer.reset != cap.reset:
            raise _refuse(f"must be the design's {cap.reset.value!r}", f"{key}.reset", layer.reset.value, source)
        if layer.has_bias and not cap.has_bias:
            raise _refuse("must be false: the design's layer has no bias", f"{key}.bias", True, source)
    padded = embed(network, design)
    enc = build.layers[0]
    layer = padded.layers[0]
    for c, (lo, hi) in enumerate(core_slices(layer.size, enc.cores)):
        n = len(sparse_entries(layer.weight, lo, hi, min(enc.lanes, hi - lo)))
        if n > build.load.entries[c]:
            rows = math.ceil((hi - lo) / min(enc.lanes, hi - lo))
            raise _refuse(f"encoder weight lists of core {c} need {n} entries, more than the design's "
                          f"{build.load.entries[c]} ({rows} rows × fan-in {build.load.fan_in})", "layers.0.weight",
                          n, source)


def _padded(network: Network, sizes: list[int], n_in: int, time_steps: int, biased: list[bool]) -> Network:
    """``network`` with layer ``sizes``, ``n_in`` inputs and ``time_steps`` steps: zero weights for the neurons
    and inputs it lacks, and zero biases where ``biased`` asks for a bias the layer lacks."""
    layers = []
    prev = n_in
    for layer, size, has_bias in zip(network.layers, sizes, biased):
        weight = np.zeros((size, prev), dtype=np.int64)
        weight[: layer.size, : layer.n_in] = layer.weight
        bias = None
        if has_bias:
            bias = np.zeros(size, dtype=np.int64)
            if layer.bias is not None:
                bias[: layer.size] = layer.bias
        layers.append(Layer(name=layer.name, kind=layer.kind, size=size, weight_bits=layer.weight_bits,
                            potential_bits=layer.potential_bits, threshold=layer.threshold, leak=layer.leak,
                            reset=layer.reset, amplitude_bits=layer.amplitude_bits, weight=weight, bias=bias))
        prev = size
    return Network(name=network.name, time_steps=time_steps, input=InputSpec(n_in, network.input.bits),
                   readout=network.readout, layers=tuple(layers))


def embed(network: Network, design: Network) -> Network:
    """``network`` padded to the shape of ``design`` (a network that fits it, :func:`check_fits`): zero
    weights and biases for the neurons and inputs it lacks. Its events, scores and predictions are
    ``network``'s (a padded neuron never fires: its potential stays 0 below θ ≥ 1)."""
    return _padded(network, [c.size for c in design.layers], design.input.size, network.time_steps,
                   [c.has_bias for c in design.layers])


def pad_inputs(inputs: np.ndarray, design: Network) -> np.ndarray:
    """Samples of a network with fewer inputs than the design, padded with zero values."""
    x = np.atleast_2d(np.asarray(inputs, dtype=np.int64))
    out = np.zeros((len(x), design.input.size), dtype=np.int64)
    out[:, : x.shape[1]] = x
    return out


def capacity_network(network: Network, sizes: list[int] | None = None, time_steps: int | None = None,
                     input_size: int | None = None) -> Network:
    """The design network of a capacity: ``network`` padded to layer ``sizes`` (default its own), at most
    ``time_steps`` steps (default its own) and ``input_size`` inputs. The last size must be the output size."""
    sizes = [layer.size for layer in network.layers] if sizes is None else list(sizes)
    if len(sizes) != len(network.layers):
        raise CapacityError(f"must give {len(network.layers)} layer sizes, one per layer", key="--capacity",
                            value=",".join(map(str, sizes)))
    if sizes[-1] != network.output_size:
        raise CapacityError(f"the last size must be the output size {network.output_size}", key="--capacity",
                            value=sizes[-1])
    for i, (size, layer) in enumerate(zip(sizes, network.layers)):
        if size < layer.size:
            raise CapacityError(f"layer {i} ({layer.name}) must hold at least the network's {layer.size} neurons",
                                key="--capacity", value=size)
    n_in = network.input.size if input_size is None else input_size
    if n_in < network.input.size:
        raise CapacityError(f"must be at least the network's {network.input.size}", key="input_size",
                            value=n_in)
    t = network.time_steps if time_steps is None else time_steps
    if t < network.time_steps or t > 65535:
        raise CapacityError(f"must be {network.time_steps} … 65535", key="--max-time-steps", value=t)
    return _padded(network, sizes, n_in, t, [layer.has_bias for layer in network.layers])
