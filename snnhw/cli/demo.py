"""The ``demo`` command: a network end to end."""

from __future__ import annotations

from pathlib import Path

import click

from snnhw import __version__
from snnhw.errors import InputError
from snnhw.netfile import resolve_network

__all__ = ["demo"]


@click.command()
@click.option("--net", "net", default="digits", show_default=True, help="Network (path or bundled name).")
@click.option("--dataset", type=click.Choice(["auto", "digits", "mnist"]), default="auto", show_default=True,
              help="Test data (auto: digits for 64 inputs, mnist for 784).")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="MNIST folder (as for `snnhw eval`).")
@click.option("--samples", type=click.IntRange(min=1), default=300, show_default=True,
              help="Test samples to co-simulate on Verilator.")
@click.option("--lanes", type=click.IntRange(min=1), default=8, show_default=True, help="Lanes of the build.")
@click.option("--targets", default="xcup,ecp5,asap7", show_default=True,
              help="Synthesis flows to run, comma-separated (none: no synthesis).")
@click.option("--power-samples", type=click.IntRange(min=0), default=10, show_default=True,
              help="Test samples simulated on the ASAP7 gate-level netlist for energy per sample (0: skip).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("demo-report"), show_default=True,
              help="Report directory.")
def demo(net: str, dataset: str, data: Path | None, samples: int, lanes: int, targets: str, power_samples: int,
         out: Path) -> None:
    """The whole flow on a trained network, end to end (`make demo`).

    Evaluates NET on its test set through the golden model, generates the
    accelerator's Verilog, co-simulates test samples on Verilator and checks
    them bit-exact against the golden model, synthesizes for UltraScale+,
    ECP5 and ASAP7 (ASAP7 when its PDK is found: at the TT corner, whose run
    the energy step reuses, or at FF with --power-samples 0), measures energy
    per sample from the ASAP7 netlist's switching activity (as `snnhw power`),
    and writes
    OUT/report.md, report.json and a spike raster of one sample through every
    layer.
    """
    from snnhw.demo import DEMO_TARGETS, run_demo

    chosen = tuple(t for t in targets.split(",") if t and t != "none")
    unknown = [t for t in chosen if t not in DEMO_TARGETS]
    if unknown:
        raise InputError(f"unknown target; choose from {', '.join(DEMO_TARGETS)}", key="--targets", value=unknown[0])
    network = resolve_network(net)
    if dataset == "auto":
        dataset = {64: "digits", 784: "mnist"}.get(network.input.size, "")
        if not dataset:
            raise InputError("cannot tell the data set from the input size; pass --dataset", key="input.size",
                             value=network.input.size)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    click.echo(f"snnhw {__version__} demo: {network.name} on {dataset}, report in {out}/")
    run_demo(network, dataset, out, samples=samples, lanes=lanes, targets=chosen, data=data,
             power_samples=power_samples, say=lambda line: click.echo(line), progress=True)
