"""``snnhw verify``: a data set's whole test split through the RTL and the golden model, bit for bit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from snnhw.cli.options import build_options, dataset_options, resolve_build_option, with_progress, writable
from snnhw.netfile import resolve_network

__all__ = ["verify_cmd"]


@click.command("verify")
@click.argument("net", metavar="NET")
@dataset_options
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N test samples.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Simulator processes at a time, each streaming its own chunk [default: the CPU count].")
@click.option("--chunk", type=click.IntRange(min=1), default=None,
              help="Samples streamed back to back through one simulator process [default: the samples split "
                   "evenly over the processes].")
@click.option("--gaps", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Probability of an idle cycle on the pixel stream while beats wait.")
@click.option("--backpressure", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Probability of tready low on the result stream.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the gaps and back-pressure.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Also write the figures as a JSON object.")
@build_options
def verify_cmd(net: str, dataset: str, data: Path | None, limit: int | None, jobs: int | None, chunk: int | None,
               gaps: float, backpressure: float, seed: int, json_out: Path | None, build_file: Path | None,
               lanes: int | None, cores: int | None) -> None:
    """Verify NET's generated RTL on a data set's whole test split, bit-exact.

    Every test sample streams through the accelerator's Verilog on Verilator
    (the batch engine: a compiled C++ harness) and through the golden model;
    every layer's events, the scores and the predictions must agree exactly.
    Prints samples/s of the RTL, cycles per sample and the accuracy the RTL
    computed; on a difference it names the first one and exits with status 1.
    """
    from snnhw.datasets import load_dataset
    from snnhw.evaluate import check_fits
    from snnhw.rtl.generate import verilog_text
    from snnhw.sim.verify import verify

    network = resolve_network(net)
    if json_out is not None:
        writable(json_out)
    build = resolve_build_option(network, build_file, lanes, cores)
    verilog_text(network, build)  # refuses impossible builds before the simulator builds
    split = load_dataset(dataset, "test", data)
    check_fits(network, split)
    x, y = split.x, split.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    jobs = jobs or os.cpu_count() or 1
    report = with_progress(lambda progress: verify(network, build, x, chunk=chunk, jobs=jobs, gaps=gaps,
                                                   backpressure=backpressure, seed=seed, progress=progress),
                           len(x), "verilator")
    predictions = report.pop("predictions")
    lanes_text = ", ".join(str(layer.lanes) for layer in build.layers)
    summary = {"network": network.name, "dataset": dataset, "lanes": [layer.lanes for layer in build.layers],
               **report}
    if report["bit_exact"]:
        summary["accuracy"] = float((predictions == y).mean()) if len(y) else None
    if json_out is not None:
        from snnhw._io import atomic_write_text

        atomic_write_text(json_out, json.dumps(summary, indent=2) + "\n")
    if not report["bit_exact"]:
        click.echo(f"snnhw: MISMATCH against the golden model: {report['first_mismatch']}", err=True)
        sys.exit(1)
    click.echo(f"{network.name} on {dataset} (test, {len(x)} samples), lanes {lanes_text}: bit-exact against the "
               "golden model (every layer's events, scores and predictions)")
    click.echo(f"RTL: {report['samples_per_s']:.1f} samples/s ({report['rtl_s']:.1f} s, {jobs} process(es), "
               f"build {report['build_s']:.1f} s); {report['cycles_per_sample']:.0f} cycles per sample back to back; "
               f"accuracy {100 * summary['accuracy']:.2f} %")

