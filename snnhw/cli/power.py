"""The ``power`` command: energy per inference from gate-level switching activity (ASAP7)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from snnhw.cli.options import build_options, fixed_option, resolve_build_option
from snnhw.errors import InputError
from snnhw.model.trace import load_inputs
from snnhw.netfile import resolve_network

__all__ = ["power_cmd"]

#: Bundled networks whose data set is known: their default inputs are its test images.
KNOWN_DATASETS = {"mnist": "mnist", "digits": "digits"}


@click.command("power")
@click.argument("net", metavar="NET")
@click.option("--target", type=click.Choice(["asap7"]), default="asap7", show_default=True,
              help="Technology (ASAP7 only: the one with open power tables).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Run directory (an ASAP7 synthesis run there for the same network, build and corner is reused).")
@build_options
@click.option("--inputs", "inputs_file", type=click.Path(path_type=Path), default=None,
              help="Samples to simulate (.npy); default: the test images of the bundled network's data set.")
@click.option("--samples", type=click.IntRange(min=1), default=20, show_default=True,
              help="Samples simulated (the first N of the inputs).")
@click.option("--corner", type=click.Choice(["TT"]), default="TT", show_default=True,
              help="Library corner: TT, whose 0.7 V power tables are consistent (the FF files disagree about their "
                   "own voltage).")
@click.option("--clock-mhz", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Clock the power is given at [default: the TT corner's Fmax from OpenSTA].")
@click.option("--pdk", type=click.Path(path_type=Path), default=None, help="ASAP7 liberty directory.")
@click.option("--fakeram", type=click.Path(path_type=Path), default=None, help="fakeram7 macro directory.")
@fixed_option
def power_cmd(net: str, target: str, out: Path, build_file: Path | None, lanes: int | None, cores: int | None,
              inputs_file: Path | None, samples: int, corner: str, clock_mhz: float | None, pdk: Path | None,
              fakeram: Path | None, fixed: bool) -> None:
    """Energy per inference of NET in ASAP7, from the mapped netlist's own switching activity.

    Synthesizes (or reuses) the ASAP7 run in --out, simulates the mapped netlist
    (standard-cell models from the liberty, SRAM macros preloaded with their
    memory images) in Verilator on the samples, checks every layer's events, the
    scores and the predictions against the golden model, and computes energy from
    the toggle counts and the liberty tables: energy per sample split into
    sequential, combinational, clock pins, leakage and SRAM (assumed model), mW
    at the clock, and pJ per synaptic operation. Writes power.json and a power
    section in report.json and report.md. See docs/power.md.

    The design is the loadable one by default (as silicon needs): the
    simulation first streams NET's load image over s_axis_config, and the
    activity is recorded from the first sample on. --fixed: the design with
    NET in its memories.
    """
    from snnhw.power.flow import run_power

    network = resolve_network(net)
    build = resolve_build_option(network, build_file, lanes, cores, silicon=True, fixed=fixed)
    if inputs_file is not None:
        x = load_inputs(inputs_file, network)
        label = f"{inputs_file}, first {min(samples, len(x))}"
    elif net in KNOWN_DATASETS:
        from snnhw.datasets import load_dataset

        x = load_dataset(KNOWN_DATASETS[net], "test").x
        label = f"the first {min(samples, len(x))} {KNOWN_DATASETS[net]} test images"
    else:
        raise InputError(f"required for {network.name!r}: only the bundled mnist and digits networks have a known "
                         "test set", key="--inputs")
    x = x[:samples]
    out.mkdir(parents=True, exist_ok=True)
    p = run_power(network, build, out, x, inputs_label=label, corner=corner, clock_mhz=clock_mhz,
                  pdk=str(pdk) if pdk else None, fakeram=str(fakeram) if fakeram else None,
                  progress=sys.stderr.isatty())
    s = p["energy_split_nj"]
    click.echo(f"{network.name} in ASAP7 ({p['corner']}, {p['clock_mhz']:.1f} MHz, {p['clock_source']}): "
               f"{p['samples']} samples ({label}), gate-level simulation bit-exact against the golden model")
    click.echo(f"energy per sample {p['energy_per_sample_nj']:.4g} nJ: sequential {s['sequential']:.3g}, "
               f"combinational {s['combinational']:.3g}, clock pins {s['clock']:.3g}, leakage {s['leakage']:.3g}, "
               f"SRAM {s['sram']:.3g} (assumed)")
    click.echo(f"{p['power_mw']:.3g} mW; {p['sops_per_sample']:.1f} SOPs per sample, "
               + (f"{p['pj_per_sop']:.3g} pJ per SOP" if p["pj_per_sop"] else "no SOPs"))
    click.echo(f"→ {out / 'power.json'}, {out / 'report.md'}")
