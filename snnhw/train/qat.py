"""Quantisation-aware LIF layers whose forward pass is the integer semantics.

Every layer holds float *shadow* weights. Each forward pass quantises them to
integers with a per-layer scale (the threshold θ: one unit of float potential is
θ integer units) and then runs the network in integer units, exactly as the
golden model does: integer weights and biases, the leak with its flooring
shift, ``fire`` with graded amplitudes and either reset. Values are integers
held in float tensors; the non-differentiable steps (rounding, the flooring
shift, ``fire``) pass gradients straight through or through a surrogate.

Exactness. Potentials are never clamped in training: the exporter picks every
layer's potential width from a bound that no reachable potential can exceed
(:func:`potential_bound`), so ``sat`` never acts and the training forward equals
the golden model bit for bit. All integers stay below 2^24, where float32
arithmetic on integers is exact whatever the summation order; the exporter
checks this bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from snnhw.ir import Leak, LeakKind, Readout, Reset

__all__ = ["SURROGATES", "LayerSpec", "QuantLIF", "QuantNetwork", "patch_mask", "potential_bound"]

#: Largest magnitude of an integer that float32 holds exactly.
EXACT_LIMIT = 2**24


def _fast_sigmoid(x: torch.Tensor, scale: float) -> torch.Tensor:
    return 1.0 / (1.0 + scale * x.abs()) ** 2


def _arctan(x: torch.Tensor, scale: float) -> torch.Tensor:
    return 1.0 / (1.0 + (math.pi / 2 * scale * x) ** 2)


def _triangle(x: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.clamp(1.0 - scale * x.abs(), min=0.0)


def _straight_through(x: torch.Tensor, scale: float) -> torch.Tensor:
    return (x.abs() < 0.5 / scale).to(x.dtype)


#: Surrogate derivatives of the step at the threshold, as functions of the
#: distance ``u − 1`` from threshold in units of θ, and their scale. Each peaks
#: at 1; a larger scale makes the bump narrower.
SURROGATES: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "fast_sigmoid": _fast_sigmoid,
    "arctan": _arctan,
    "triangle": _triangle,
    "straight_through": _straight_through,
}


class _Fire(torch.autograd.Function):
    """``c = clamp(V div θ, 0, cap)``, exact forward, surrogate backward.

    The backward pass uses the surrogate around the first threshold crossing
    and a slope of 1/θ on the graded part (1 ≤ V/θ < cap), where the amplitude
    follows the potential linearly.
    """

    @staticmethod
    def forward(ctx, v: torch.Tensor, theta: float, cap: int, surrogate: str, scale: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(v)
        ctx.theta, ctx.cap, ctx.surrogate, ctx.scale = theta, cap, surrogate, scale
        return torch.clamp(torch.floor(v / theta), 0, cap)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (v,) = ctx.saved_tensors
        u = v / ctx.theta
        fn = SURROGATES[ctx.surrogate]
        below = fn(u - 1.0, ctx.scale)
        if ctx.cap > 1:
            slope = torch.where(u < 1.0, below, torch.where(u < ctx.cap, torch.ones_like(u), fn(u - ctx.cap, ctx.scale)))
        else:
            slope = below
        return grad * slope / ctx.theta, None, None, None, None


def _floor_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.floor(x) - x).detach()


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def patch_mask(height: int, width: int, patch: int, stride: int, channels: int) -> np.ndarray:
    """Connectivity of a local-receptive-field encoder, ``bool (neurons, height·width)``.

    Neuron ``(position, channel)`` (position-major, row by row) sees the
    ``patch × patch`` window at that position; windows step by ``stride`` and
    stay inside the image.
    """
    if patch > min(height, width):
        raise ValueError(f"patch {patch} is larger than the {height}×{width} input")
    rows = (height - patch) // stride + 1
    cols = (width - patch) // stride + 1
    mask = np.zeros((rows * cols * channels, height * width), dtype=bool)
    for r in range(rows):
        for c in range(cols):
            window = np.zeros((height, width), dtype=bool)
            window[r * stride : r * stride + patch, c * stride : c * stride + patch] = True
            base = (r * cols + c) * channels
            mask[base : base + channels] = window.reshape(-1)
    return mask


@dataclass(frozen=True)
class LayerSpec:
    """Fixed integer parameters of one trained layer (the rest is learned)."""

    name: str
    size: int
    n_in: int
    weight_bits: int
    amplitude_bits: int
    leak: Leak
    reset: Reset
    bias: bool = True
    fires: bool = True
    input_scale: float = 1.0
    mask: np.ndarray | None = None


class QuantLIF(nn.Module):
    """One LIF layer trained in integer units (the encoder when ``encoder``)."""

    def __init__(self, spec: LayerSpec, encoder: bool, generator: torch.Generator) -> None:
        super().__init__()
        self.spec = spec
        self.encoder = encoder
        fan_in = spec.n_in if spec.mask is None else max(1, int(spec.mask.sum(axis=1).max()))
        bound = 1.0 / math.sqrt(fan_in)
        w = (torch.rand(spec.size, spec.n_in, generator=generator) * 2 - 1) * bound * 2.0
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(torch.zeros(spec.size)) if spec.bias else None
        self.mask: torch.Tensor | None
        if spec.mask is not None:
            self.register_buffer("mask", torch.from_numpy(spec.mask.astype(np.float32)))
        else:
            self.mask = None
        self.wmax = 2 ** (spec.weight_bits - 1) - 1
        self.cap = 2**spec.amplitude_bits - 1 if spec.reset is Reset.SUBTRACT else 1

    def effective_weight(self) -> torch.Tensor:
        """Float weights per unit of input (masked), threshold = 1."""
        w = self.weight if self.mask is None else self.weight * self.mask
        return w / self.spec.input_scale

    def theta(self) -> int:
        """The integer threshold: the largest that keeps every weight within W bits."""
        peak = float(self.effective_weight().detach().abs().max())
        if peak <= 0.0:
            return 1
        return max(1, math.floor(self.wmax / peak))

    def quantised(self, theta: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Integer weights and bias (as floats) at threshold ``theta``, with straight-through rounding."""
        q = torch.clamp(_round_ste(self.effective_weight() * theta), -self.wmax - 1, self.wmax)
        b = None if self.bias is None else _round_ste(self.bias * theta)
        return q, b

    def leak(self, v: torch.Tensor) -> torch.Tensor:
        """The spec's leak on integer potentials."""
        leak = self.spec.leak
        if leak.kind is LeakKind.NONE:
            return v
        assert leak.shift is not None
        shifted = _floor_ste(v / 2**leak.shift)
        return v - shifted if leak.kind is LeakKind.SHIFT else shifted

    def fire(self, v: torch.Tensor, theta: int, surrogate: str, scale: float, detach_reset: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Spike amplitudes and the potential after the reset."""
        c = _Fire.apply(v, float(theta), self.cap, surrogate, scale)
        assert isinstance(c, torch.Tensor)
        r = c.detach() if detach_reset else c
        if self.spec.reset is Reset.SUBTRACT:
            return c, v - r * theta
        spiked = (v >= theta).to(v.dtype)
        return c, v * (1.0 - spiked)


class QuantNetwork(nn.Module):
    """The trained network: a :class:`QuantLIF` encoder and dense layers.

    Parameters
    ----------
    specs:
        One :class:`LayerSpec` per layer, the encoder first.
    time_steps:
        T.
    readout:
        ``spike_count`` or ``potential``.
    surrogate, surrogate_scale:
        The surrogate derivative of ``fire`` (a key of :data:`SURROGATES`) and its scale.
    seed:
        Seed of the initial weights.
    """

    def __init__(self, specs: list[LayerSpec], time_steps: int, readout: Readout, surrogate: str = "arctan",
                 surrogate_scale: float = 1.0, seed: int = 0, detach_reset: bool = True) -> None:
        super().__init__()
        if surrogate not in SURROGATES:
            raise ValueError(f"unknown surrogate {surrogate!r}")
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(QuantLIF(s, i == 0, generator) for i, s in enumerate(specs))
        self.lif: list[QuantLIF] = list(self.layers)  # type: ignore[arg-type]  # the same modules, typed
        self.time_steps = time_steps
        self.readout = readout
        self.surrogate = surrogate
        self.surrogate_scale = surrogate_scale
        self.detach_reset = detach_reset

    def thetas(self) -> list[int]:
        """The integer threshold of every layer at the current weights."""
        return [layer.theta() for layer in self.lif]

    def forward(self, x: torch.Tensor, record: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run integer inputs ``x (N, n_x)``.

        Returns
        -------
        logits, spikes
            The float logits for the loss (the integer scores divided by the
            last layer's scale), and, when ``record``, one ``(T, N, size)``
            tensor of amplitudes per firing layer.
        """
        thetas = self.thetas()
        params = [layer.quantised(theta) for layer, theta in zip(self.lif, thetas)]
        n = x.shape[0]
        enc = self.lif[0]
        w0, b0 = params[0]
        current = x @ w0.t()
        if b0 is not None:
            current = current + b0
        potentials = [torch.zeros(n, layer.spec.size, dtype=x.dtype, device=x.device) for layer in self.lif]
        scores = torch.zeros(n, self.lif[-1].spec.size, dtype=x.dtype, device=x.device)
        recorded: list[list[torch.Tensor]] = [[] for _ in self.layers]
        last = len(self.layers) - 1
        for _ in range(self.time_steps):
            v = enc.leak(potentials[0]) + current
            c, potentials[0] = enc.fire(v, thetas[0], self.surrogate, self.surrogate_scale, self.detach_reset)
            if record:
                recorded[0].append(c.detach())
            for i in range(1, len(self.layers)):
                layer = self.lif[i]
                w, b = params[i]
                v = layer.leak(potentials[i])
                if b is not None:
                    v = v + b
                v = v + c @ w.t()
                if i == last and self.readout is Readout.POTENTIAL:
                    potentials[i] = v
                    break
                c, potentials[i] = layer.fire(v, thetas[i], self.surrogate, self.surrogate_scale, self.detach_reset)
                if record:
                    recorded[i].append(c.detach())
            if self.readout is Readout.SPIKE_COUNT:
                scores = scores + c
        if self.readout is Readout.POTENTIAL:
            logits = potentials[-1] / thetas[-1]
        else:
            logits = scores
        spikes = [torch.stack(r) for r in recorded if r] if record else []
        return logits, spikes

    def integer_scores(self, x: torch.Tensor) -> torch.Tensor:
        """The integer scores the golden model computes (potential or spike count)."""
        with torch.no_grad():
            logits, _ = self.forward(x)
            if self.readout is Readout.POTENTIAL:
                return torch.round(logits * self.thetas()[-1])
            return logits


def potential_bound(weight: np.ndarray, bias: np.ndarray | None, theta: int, input_max: int, time_steps: int,
                    encoder: bool) -> int:
    """A bound on |V| that no reachable potential of the layer exceeds.

    Per step, a neuron's potential moves by at most ``D = |b| + input_max · Σ_j |W_j|``
    (for the encoder, ``|I|`` with the same form); the leak never increases |V|, and
    ``fire`` only lowers a potential that is ≥ θ. So ``|V| ≤ θ + T·D`` at every
    point of every step; the encoder current itself is bounded by ``D``.
    """
    w = np.abs(weight.astype(np.int64)).sum(axis=1) * input_max
    if bias is not None:
        w = w + np.abs(bias.astype(np.int64))
    per_step = int(w.max()) if len(w) else 0
    return theta + time_steps * per_step + (per_step if encoder else 0)
