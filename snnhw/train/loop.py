"""The training loop: data, optimiser, checkpoints, resume and export.

Training is reproducible bit for bit on the CPU for a given configuration and
thread count: the initial weights come from ``seed``; the order of the training
samples and the augmentation shifts of epoch ``e`` come from a generator seeded
with ``(seed, e)``, so a run resumed from a checkpoint continues exactly as the
uninterrupted run would have. On a GPU the matrix products sum in another
order; the *trained* weights can then differ in the last bits, but the exported
file and the golden model still agree exactly (the export checks it).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from snnhw._io import atomic_open, atomic_write_text
from snnhw.datasets import Dataset, load_dataset
from snnhw.errors import InputError
from snnhw.ir import InputSpec, Layer, LayerKind, Network, Readout, Reset
from snnhw.model.golden import simulate
from snnhw.netgen import parse_leak
from snnhw.train.qat import EXACT_LIMIT, SURROGATES, LayerSpec, QuantNetwork, patch_mask, potential_bound

__all__ = ["TrainConfig", "TrainResult", "build_model", "export_network", "train"]

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
#: Configuration keys that may change between a checkpoint and its resumption.
_RESUMABLE_CHANGES = frozenset({"threads", "device"})


@dataclass
class TrainConfig:
    """Everything that determines a training run (saved with every checkpoint).

    Attributes
    ----------
    dataset:
        ``mnist`` or ``digits``.
    name:
        Name of the exported network.
    hidden:
        Sizes of the dense layers between the encoder and the output layer.
    encoder_size:
        Encoder neurons of a fully connected encoder (``patch`` = 0).
    patch, stride, channels:
        Local receptive fields: with ``patch`` > 0 every encoder neuron sees one
        ``patch × patch`` window; windows step by ``stride``; ``channels``
        neurons share each window. The encoder size is then
        ``positions × channels``.
    time_steps, weight_bits, amplitude_bits, leak, reset, readout:
        The integer semantics of the exported network (every layer).
    surrogate, surrogate_scale:
        Surrogate derivative of ``fire`` and its scale.
    epochs, batch_size, lr, weight_decay:
        Adam with a cosine learning-rate schedule over all epochs.
    shift:
        Augmentation: random image shifts of up to this many pixels (0: none).
    limit:
        Use only the first N training samples (0: all).
    val:
        Hold out the last N training samples for a per-epoch validation figure (0: none).
    seed:
        Seed of the weights, the sample order and the augmentation.
    threads:
        CPU threads for PyTorch (results are bit-reproducible for a fixed count).
    device:
        ``auto`` (a CUDA GPU when PyTorch sees one, else the CPU), ``cpu`` or ``cuda``.
    init:
        A network file (or bundled name) to continue from: its layer sizes, leaks, resets, widths,
        time steps and readout replace the shape options above, and its integer weights are the
        starting point (fine-tuning an imported network, for example).
    """

    dataset: str = "digits"
    name: str = ""
    hidden: list[int] = field(default_factory=lambda: [32])
    encoder_size: int = 64
    patch: int = 0
    stride: int = 1
    channels: int = 1
    time_steps: int = 4
    weight_bits: int = 8
    amplitude_bits: int = 2
    leak: str = "shift:2"
    reset: str = "subtract"
    readout: str = "potential"
    surrogate: str = "arctan"
    surrogate_scale: float = 1.0
    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    shift: int = 0
    limit: int = 0
    val: int = 0
    seed: int = 0
    threads: int = 0
    device: str = "auto"
    init: str | None = None

    def check(self) -> None:
        """Refuse inconsistent settings with one clear message."""
        if self.surrogate not in SURROGATES:
            raise InputError(f"must be one of {', '.join(SURROGATES)}", key="surrogate", value=self.surrogate)
        if self.readout not in [r.value for r in Readout]:
            raise InputError("must be spike_count or potential", key="readout", value=self.readout)
        if self.reset not in [r.value for r in Reset]:
            raise InputError("must be subtract or zero", key="reset", value=self.reset)
        parse_leak(self.leak)
        for key in ("time_steps", "epochs", "batch_size", "encoder_size", "channels", "stride"):
            if getattr(self, key) < 1:
                raise InputError("must be ≥ 1", key=key, value=getattr(self, key))
        if not 2 <= self.weight_bits <= 16:
            raise InputError("must be 2 … 16", key="weight_bits", value=self.weight_bits)
        if not 1 <= self.amplitude_bits <= 8:
            raise InputError("must be 1 … 8", key="amplitude_bits", value=self.amplitude_bits)
        if any(h < 1 for h in self.hidden):
            raise InputError("every hidden size must be ≥ 1", key="hidden", value=self.hidden)
        if self.device not in ("auto", "cpu", "cuda"):
            raise InputError("must be auto, cpu or cuda", key="device", value=self.device)
        if self.lr <= 0 or self.surrogate_scale <= 0:
            raise InputError("must be > 0", key="lr/surrogate_scale", value=(self.lr, self.surrogate_scale))


@dataclass
class TrainResult:
    """What a finished run produced."""

    network: Network
    history: list[dict[str, float | None]]
    seconds: float
    checked_samples: int
    device: str = "cpu"


def _layer_specs(config: TrainConfig, data: Dataset) -> list[LayerSpec]:
    leak = parse_leak(config.leak)
    reset = Reset(config.reset)
    height, width = data.shape
    if config.patch:
        if config.patch > min(height, width):
            raise InputError(f"must fit the {height}×{width} {data.name} images", key="patch", value=config.patch)
        mask = patch_mask(height, width, config.patch, config.stride, config.channels)
        enc_size = len(mask)
    else:
        mask, enc_size = None, config.encoder_size
    sizes = [enc_size, *config.hidden, data.classes]
    specs = []
    n_in = data.size
    for i, size in enumerate(sizes):
        name = "encoder" if i == 0 else ("output" if i == len(sizes) - 1 else f"hidden{i}")
        last = i == len(sizes) - 1
        specs.append(LayerSpec(
            name=name, size=size, n_in=n_in, weight_bits=config.weight_bits, amplitude_bits=config.amplitude_bits,
            leak=leak, reset=reset, bias=True, fires=not (last and config.readout == "potential"),
            input_scale=float(data.max_value) if i == 0 else 1.0, mask=mask if i == 0 else None,
        ))
        n_in = size
    return specs


def init_config(config: TrainConfig, network: Network) -> TrainConfig:
    """``config`` with the shape options taken from ``network`` (for ``init``)."""
    first = network.layers[0]
    return dataclasses.replace(
        config, hidden=[layer.size for layer in network.layers[1:-1]], encoder_size=first.size, patch=0,
        time_steps=network.time_steps, weight_bits=max(layer.weight_bits for layer in network.layers),
        amplitude_bits=first.amplitude_bits, readout=network.readout.value, reset=first.reset.value,
        leak=first.leak.kind.value + (f":{first.leak.shift}" if first.leak.shift else ""))


def _init_specs(network: Network, data: Dataset) -> list[LayerSpec]:
    if network.input.size != data.size:
        raise InputError(f"takes {network.input.size} inputs, the {data.name} images have {data.size}", key="init",
                         value=network.name)
    last = len(network.layers) - 1
    return [LayerSpec(name=layer.name, size=layer.size, n_in=layer.weight.shape[1], weight_bits=layer.weight_bits,
                      amplitude_bits=layer.amplitude_bits, leak=layer.leak, reset=layer.reset, bias=True,
                      fires=not (i == last and network.readout is Readout.POTENTIAL),
                      input_scale=float(data.max_value) if i == 0 else 1.0)
            for i, layer in enumerate(network.layers)]


def build_model(config: TrainConfig, data: Dataset) -> QuantNetwork:
    """The untrained model of a configuration (with ``init``: the network's weights, threshold = 1 units)."""
    config.check()
    if config.init is None:
        return QuantNetwork(_layer_specs(config, data), config.time_steps, Readout(config.readout),
                            surrogate=config.surrogate, surrogate_scale=config.surrogate_scale, seed=config.seed)
    from snnhw.netfile import resolve_network

    network = resolve_network(config.init)
    model = QuantNetwork(_init_specs(network, data), network.time_steps, network.readout,
                         surrogate=config.surrogate, surrogate_scale=config.surrogate_scale, seed=config.seed)
    with torch.no_grad():
        for qlayer, layer in zip(model.lif, network.layers, strict=True):
            theta = float(layer.threshold)
            qlayer.weight.copy_(torch.from_numpy(layer.weight.astype(np.float64) / theta
                                                 * qlayer.spec.input_scale).float())
            if qlayer.bias is not None and layer.bias is not None:
                qlayer.bias.copy_(torch.from_numpy(layer.bias.astype(np.float64) / theta).float())
            elif qlayer.bias is not None:
                qlayer.bias.zero_()
    return model


def export_network(model: QuantNetwork, config: TrainConfig, data: Dataset) -> Network:
    """The ``snnhw.network/1`` network that computes what ``model`` computes.

    Each layer's potential width is the smallest that holds the bound of
    :func:`~snnhw.train.qat.potential_bound`, so ``sat`` never clamps.
    """
    thetas = model.thetas()
    layers = []
    input_max = data.max_value
    for i, (qlayer, theta) in enumerate(zip(model.lif, thetas)):
        spec = qlayer.spec
        with torch.no_grad():
            q, b = qlayer.quantised(theta)
        weight = q.cpu().numpy().astype(np.int64)
        bias = None if b is None else b.cpu().numpy().astype(np.int64)
        bound = potential_bound(weight, bias, theta, input_max, config.time_steps, i == 0)
        if bound >= EXACT_LIMIT:
            raise InputError(
                f"layer {spec.name}: potentials may reach {bound}, beyond the 2^24 that training computes exactly; "
                "use fewer weight bits, fewer time steps or smaller layers", key="weight_bits", value=config.weight_bits)
        bits = max(4, (bound + 1).bit_length() + 1, (theta + 1).bit_length() + 1)
        if bias is not None:
            bits = max(bits, int(np.abs(bias).max(initial=0) + 1).bit_length() + 1)
        layers.append(Layer(
            name=spec.name, kind=LayerKind.ENCODER if i == 0 else LayerKind.DENSE, size=spec.size,
            weight_bits=spec.weight_bits, potential_bits=bits, threshold=theta, leak=spec.leak, reset=spec.reset,
            amplitude_bits=spec.amplitude_bits, weight=weight, bias=bias,
        ))
        input_max = int(qlayer.cap)
    return Network(name=config.name or f"{config.dataset}-snn", time_steps=config.time_steps,
                   input=InputSpec(data.size, data.bits), readout=Readout(config.readout), layers=tuple(layers))


def _shifted(x: np.ndarray, shape: tuple[int, int], shifts: np.ndarray) -> np.ndarray:
    """Images moved by ``shifts (N, 2)`` pixels (rows, columns), zero-filled."""
    h, w = shape
    k = int(np.abs(shifts).max(initial=0))
    if k == 0:
        return x
    img = x.reshape(-1, h, w)
    padded = np.pad(img, ((0, 0), (k, k), (k, k)))
    out = np.empty_like(img)
    for dy, dx in {(int(a), int(b)) for a, b in shifts}:
        sel = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
        out[sel] = padded[sel, k - dy : k - dy + h, k - dx : k - dx + w]
    return out.reshape(len(x), -1)


def _device(config: TrainConfig) -> torch.device:
    """The device of a run; TF32 is switched off so that GPU products of integers stay exact."""
    if config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError("PyTorch sees no CUDA device", key="device", value=config.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch.device("cuda")


def _tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(x.astype(np.float32)).to(device)


def _accuracy(model: QuantNetwork, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    device = next(model.parameters()).device
    correct = 0
    with torch.no_grad():
        for s in range(0, len(x), batch):
            scores = model.integer_scores(_tensor(x[s : s + batch], device)).cpu()
            correct += int((_predict(scores) == torch.from_numpy(y[s : s + batch])).sum())
    return correct / len(x)


def _predict(scores: torch.Tensor) -> torch.Tensor:
    """The smallest index with the maximum score (the spec's tie rule)."""
    return torch.argmax(scores, dim=1)  # torch.argmax returns the first maximal index


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_open(path) as handle:
        torch.save(state, handle)


def train(
    config: TrainConfig,
    *,
    data: str | os.PathLike[str] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Callable[[dict[str, float | None]], None] | None = None,
    check_samples: int = 1000,
) -> TrainResult:
    """Train a network with quantisation-aware surrogate gradients and export it.

    Parameters
    ----------
    config:
        The run's configuration.
    data:
        The MNIST folder (see :func:`snnhw.datasets.mnist_dir`).
    checkpoint_dir:
        Where ``checkpoint.pt`` is written after every epoch (none when ``None``).
    resume:
        Continue from the checkpoint in ``checkpoint_dir``; its configuration
        must equal ``config``.
    progress:
        Show a progress bar per epoch.
    on_epoch:
        Called with each epoch's figures.
    check_samples:
        Test samples on which the exported network is run through the golden
        model and compared with the trained forward pass (must agree exactly).

    Returns
    -------
    TrainResult
    """
    config.check()
    if config.init is not None:
        from snnhw.netfile import resolve_network

        config = init_config(config, resolve_network(config.init))
    if config.threads:
        torch.set_num_threads(config.threads)
    train_set = load_dataset(config.dataset, "train", data)
    test_set = load_dataset(config.dataset, "test", data)
    x_all, y_all = train_set.x, train_set.y
    if config.limit:
        x_all, y_all = x_all[: config.limit], y_all[: config.limit]
    if config.val:
        if config.val >= len(x_all):
            raise InputError("must be smaller than the training set", key="val", value=config.val)
        x_tr, y_tr = x_all[: -config.val], y_all[: -config.val]
        x_val, y_val = x_all[-config.val :], y_all[-config.val :]
    else:
        x_tr, y_tr, x_val, y_val = x_all, y_all, x_all[:0], y_all[:0]

    device = _device(config)
    model = build_model(config, train_set).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(x_tr) / config.batch_size)
    total = steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    history: list[dict[str, float | None]] = []
    first_epoch, seconds = 0, 0.0
    ckpt = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir is not None else None
    if ckpt is not None:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        if ckpt is None or not ckpt.exists():
            raise InputError("no checkpoint to resume from", source=str(ckpt))
        try:
            state = torch.load(ckpt, map_location="cpu", weights_only=True)
            saved = state["config"]
        except Exception as err:  # a truncated or foreign file: torch raises many kinds
            raise InputError(f"cannot be read as a snnhw checkpoint ({type(err).__name__})", source=str(ckpt)) from None
        # Threads and device change only the summation order, not the run: they may differ on resume.
        changed = sorted(k for k, v in dataclasses.asdict(config).items()
                         if k not in _RESUMABLE_CHANGES and saved.get(k) != v)
        if changed:
            raise InputError("the checkpoint was made with another configuration", source=str(ckpt),
                             key=",".join(changed))
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        first_epoch, history, seconds = state["epoch"] + 1, state["history"], state["seconds"]
        log.info("resumed from %s after epoch %d", ckpt, first_epoch)

    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(first_epoch, config.epochs):
        start = time.perf_counter()
        rng = np.random.default_rng([config.seed, epoch])
        order = rng.permutation(len(x_tr))
        shifts = rng.integers(-config.shift, config.shift + 1, size=(len(x_tr), 2)) if config.shift else None
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                   disable=None if progress else True, leave=False)
        for step in bar:
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            xb = x_tr[idx]
            if shifts is not None:
                xb = _shifted(xb, train_set.shape, shifts[idx])
            xt = _tensor(xb, device)
            yt = torch.from_numpy(y_tr[idx]).to(device)
            logits, _ = model(xt)
            loss = loss_fn(logits, yt)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((_predict(logits.detach()) == yt).sum())
            seen += len(idx)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        bar.close()
        model.eval()
        seconds += time.perf_counter() - start
        figures = {"epoch": epoch + 1, "loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1),
                   "val_accuracy": _accuracy(model, x_val, y_val) if len(x_val) else None,
                   "seconds": round(seconds, 1)}
        history.append(figures)
        log.info("epoch %d: %s", epoch + 1, json.dumps(figures))
        if on_epoch is not None:
            on_epoch(figures)
        if ckpt is not None:
            _save_checkpoint(ckpt, {"config": dataclasses.asdict(config), "model": model.state_dict(),
                                    "optimiser": optimiser.state_dict(), "scheduler": scheduler.state_dict(),
                                    "epoch": epoch, "history": history, "seconds": seconds})

    network = export_network(model, config, train_set)
    n_check = min(check_samples, len(test_set.x))
    if n_check:
        _check_export(model, network, test_set.x[:n_check])
    return TrainResult(network=network, history=history, seconds=seconds, checked_samples=n_check,
                       device=str(device))


def _check_export(model: QuantNetwork, network: Network, x: np.ndarray) -> None:
    """The golden model on the exported file must give the trained forward pass's scores exactly."""
    trace = simulate(network, x)
    device = next(model.parameters()).device
    with torch.no_grad():
        mine = np.concatenate([model.integer_scores(_tensor(x[s : s + 500], device)).cpu().numpy()
                               for s in range(0, len(x), 500)] or [np.zeros((0, network.output_size))]).astype(np.int64)
    if not np.array_equal(mine, trace.scores):
        bad = int((mine != trace.scores).any(axis=1).sum())
        raise RuntimeError(f"exported network differs from the trained forward pass on {bad} of {len(x)} samples")
    if int(trace.extras["saturations"].sum()):
        raise RuntimeError("the exported network saturates; its potential widths are too small")


def write_provenance(path: str | os.PathLike[str], config: TrainConfig, result: TrainResult, command: str) -> None:
    """Write the run's configuration, command, time and history as JSON next to the network."""
    payload = {"command": command, "config": dataclasses.asdict(config), "seconds": round(result.seconds, 1),
               "history": result.history, "hash": result.network.content_hash(),
               "torch": torch.__version__, "threads": torch.get_num_threads(), "device": result.device}
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
