"""Training and evaluation: ``train``, ``eval``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from snnhw.cli.options import dataset_options, int_list, table, with_progress, writable
from snnhw.errors import InputError
from snnhw.ir import Readout, Reset
from snnhw.netfile import resolve_network

__all__ = ["eval_cmd", "train"]


def _confusion_table(confusion: list[list[int]]) -> str:
    k = len(confusion)
    header = ("true\\pred", *[str(c) for c in range(k)])
    rows = [(str(r), *[str(v) for v in row]) for r, row in enumerate(confusion)]
    return table(header, rows)


@click.command("eval")
@click.argument("net", metavar="NET")
@dataset_options
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Only the first N test samples.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Also write the figures as a JSON object (accuracy as a fraction, samples, confusion, layers).")
def eval_cmd(net: str, dataset: str, data: Path | None, limit: int | None, json_out: Path | None) -> None:
    """Accuracy and activity of NET on a data set's test split, through the golden model.

    Prints the accuracy, every layer's events and spikes per sample (the
    figures that drive hardware latency), its saturated additions, and the
    confusion matrix. mnist: the 10,000 test images; digits: scikit-learn's
    8×8 digits, every fifth image (360).
    """
    from snnhw.datasets import load_dataset
    from snnhw.evaluate import evaluate

    network = resolve_network(net)
    if json_out is not None:
        writable(json_out)
    split = load_dataset(dataset, "test", data)
    n = len(split.x) if limit is None else min(limit, len(split.x))
    report, _ = with_progress(lambda progress: evaluate(network, split, limit=limit, progress=progress), n, "golden")
    click.echo(f"{network.name} on {dataset} (test, {report['samples']} samples): accuracy "
               f"{100 * report['accuracy']:.2f} % ({report['correct']}/{report['samples']})\n")
    rows = [(la["name"], str(la["size"]), f"{la['events_per_sample']:.1f}", str(la["events_per_sample_max"]),
             f"{la['spikes_per_sample']:.1f}", "-" if la["saturations"] is None else str(la["saturations"]))
            for la in report["layers"]]
    click.echo(table(("layer", "size", "events/sample", "max", "spikes/sample", "saturations"), rows))
    click.echo("\nconfusion matrix (rows: true class, columns: prediction)\n" + _confusion_table(report["confusion"]))
    if json_out is not None:
        from snnhw._io import atomic_write_text

        atomic_write_text(json_out, json.dumps(report, indent=2) + "\n")
        click.echo(f"\nwrote {json_out}")


@click.command()
@click.option("--dataset", type=click.Choice(["mnist", "digits"]), required=True, help="Data set to train on.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Network file to write (.npz).")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="MNIST folder (as for `snnhw eval`).")
@click.option("--name", default=None, help="Network name [default: the output file's stem].")
@click.option("--hidden", default="32", show_default=True, help="Dense layer sizes before the output layer, comma-separated.")
@click.option("--encoder-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Encoder neurons of a fully connected encoder (without --patch).")
@click.option("--patch", type=click.IntRange(min=0), default=0, show_default=True,
              help="Local receptive fields: every encoder neuron sees one PATCH×PATCH window (0: fully connected).")
@click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True, help="Step between windows.")
@click.option("--channels", type=click.IntRange(min=1), default=1, show_default=True, help="Encoder neurons per window.")
@click.option("--time-steps", type=click.IntRange(1, 65535), default=4, show_default=True, help="Time steps T.")
@click.option("--weight-bits", type=click.IntRange(2, 16), default=8, show_default=True, help="Weight bits W.")
@click.option("--amplitude-bits", type=click.IntRange(1, 8), default=2, show_default=True, help="Amplitude bits A.")
@click.option("--leak", default="shift:2", show_default=True, help="Leak of every layer: none, shift:K or pow2:K.")
@click.option("--reset", type=click.Choice([r.value for r in Reset]), default="subtract", show_default=True, help="Reset.")
@click.option("--readout", type=click.Choice([r.value for r in Readout]), default="potential", show_default=True,
              help="Readout of the last layer.")
@click.option("--surrogate", type=click.Choice(["fast_sigmoid", "arctan", "triangle", "straight_through"]),
              default="arctan", show_default=True, help="Surrogate derivative of the spike.")
@click.option("--surrogate-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Surrogate scale (larger: narrower).")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True, help="Epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Batch size.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3, show_default=True,
              help="Adam learning rate (cosine schedule).")
@click.option("--shift", type=click.IntRange(min=0), default=0, show_default=True,
              help="Augmentation: random shifts of up to this many pixels.")
@click.option("--limit", type=click.IntRange(min=0), default=0, show_default=True, help="Use the first N training samples (0: all).")
@click.option("--val", type=click.IntRange(min=0), default=0, show_default=True,
              help="Hold out the last N training samples for a per-epoch validation accuracy.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed (weights, order, augmentation).")
@click.option("--threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="CPU threads (0: PyTorch's default); results are reproducible for a fixed count.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto: a CUDA GPU when PyTorch sees one, else the CPU.")
@click.option("--checkpoint-dir", type=click.Path(path_type=Path), default=None,
              help="Where checkpoint.pt goes after every epoch [default: OUT without .npz, plus .ckpt].")
@click.option("--resume", is_flag=True, help="Continue from the checkpoint (same options required).")
@click.option("--init", "init", default=None,
              help="Start from this network (file or bundled name), keeping its shape and options: layer sizes, "
                   "leaks, resets, widths, T and readout come from it (fine-tuning an imported network).")
def train(dataset: str, out: Path, data: Path | None, name: str | None, hidden: str, encoder_size: int, patch: int,
          stride: int, channels: int, time_steps: int, weight_bits: int, amplitude_bits: int, leak: str, reset: str,
          readout: str, surrogate: str, surrogate_scale: float, epochs: int, batch_size: int, lr: float, shift: int,
          limit: int, val: int, seed: int, threads: int, device: str, checkpoint_dir: Path | None,
          resume: bool, init: str | None) -> None:
    """Train a LIF network with quantisation-aware surrogate gradients and write it.

    The forward pass is the integer semantics of the network file, so the
    written network computes on the golden model (and the hardware) exactly
    what was trained; this is checked on test samples before writing. Writes
    OUT and OUT.json (the command, configuration, time and per-epoch figures).
    Needs PyTorch (`pip install 'snnhw[train]'`).
    """
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("snnhw train needs PyTorch: pip install torch==2.13.0 'snnhw[train]' (make setup does)") from None
    from snnhw.train import TrainConfig, write_provenance
    from snnhw.train import train as run_training

    writable(out)
    config = TrainConfig(
        dataset=dataset, name=name or out.stem, hidden=[] if hidden.strip() in ("", "none") else int_list(hidden),
        encoder_size=encoder_size, patch=patch, stride=stride, channels=channels, time_steps=time_steps,
        weight_bits=weight_bits, amplitude_bits=amplitude_bits, leak=leak, reset=reset, readout=readout,
        surrogate=surrogate, surrogate_scale=surrogate_scale, epochs=epochs, batch_size=batch_size, lr=lr,
        shift=shift, limit=limit, val=val, seed=seed, threads=threads, device=device, init=init,
    )
    ckpt = checkpoint_dir if checkpoint_dir is not None else out.with_suffix(".ckpt")

    def show(figures: dict[str, Any]) -> None:
        val_text = "" if figures["val_accuracy"] is None else f", val {100 * figures['val_accuracy']:.2f} %"
        click.echo(f"epoch {figures['epoch']}: loss {figures['loss']:.4f}, train {100 * figures['train_accuracy']:.2f} %"
                   f"{val_text} ({figures['seconds']:.0f} s)", err=True)

    result = run_training(config, data=data, checkpoint_dir=ckpt, resume=resume, progress=True, on_epoch=show)
    result.network.save(out)
    command = "snnhw train " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "snnhw train"
    write_provenance(out.with_name(out.name + ".json"), config, result, command)
    from snnhw.datasets import load_dataset
    from snnhw.evaluate import evaluate

    report, _ = evaluate(result.network, load_dataset(dataset, "test", data))
    click.echo(f"wrote {out} ({result.network.name}, hash {result.network.content_hash()[:16]}) after "
               f"{result.seconds:.0f} s of training; the golden model reproduces the trained forward pass on "
               f"{result.checked_samples} test samples; test accuracy {100 * report['accuracy']:.2f} % "
               f"({report['correct']}/{report['samples']})")
