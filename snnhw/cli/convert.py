"""Networks to and from other frameworks: ``import`` and ``export`` (NIR graphs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from snnhw._io import atomic_write_text
from snnhw.cli.options import writable
from snnhw.errors import InputError

__all__ = ["export_cmd", "import_cmd"]


@click.command("import")
@click.argument("model", metavar="MODEL.nir", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Network file to write (.npz); the import report goes beside it as OUT.import.json.")
@click.option("--time-steps", type=click.IntRange(1, 65535), required=True, help="Time steps T (NIR stores none).")
@click.option("--dt", type=float, default=None,
              help="Time step in seconds (NIR stores none) [default: from the preset, or inferred where every LIF "
                   "has the same tau/r].")
@click.option("--preset", type=click.Choice(["snntorch", "norse", "sinabs", "steps"]), default=None,
              help="The exporting framework's conventions: dt, integrator and reset (see docs/importing.md).")
@click.option("--integrator", type=click.Choice(["euler", "exp"]), default=None,
              help="How the continuous neuron is discretised [default: the preset's, else euler].")
@click.option("--reset", type=click.Choice(["zero", "subtract"]), default=None,
              help="Reset after a spike [default: the preset's, else zero, as NIR's v_reset says].")
@click.option("--input-bits", type=click.IntRange(1, 16), default=8, show_default=True, help="Bits per input value.")
@click.option("--input-scale", type=float, default=None,
              help="Float value of one input LSB [default: 1/(2^B - 1), inputs in [0, 1]].")
@click.option("--weight-bits", type=click.IntRange(2, 16), default=8, show_default=True, help="Weight bits W.")
@click.option("--potential-bits", type=click.IntRange(4, 32), default=16, show_default=True, help="Potential bits P.")
@click.option("--amplitude-bits", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Amplitude bits A (NIR spikes are binary).")
@click.option("--readout", type=click.Choice(["spike_count", "potential"]), default=None,
              help="Readout [default: potential for a graph that ends in LI, else spike_count].")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="Refuse a layer whose effective time constant is off by more than this fraction.")
@click.option("--name", default=None, help="Network name [default: the model file's stem].")
@click.option("--calibrate", "calibrate", type=click.Path(path_type=Path), default=None,
              help="Integer inputs (.npy, as `snnhw run` takes them): compare the imported network with a float "
                   "reference of the NIR equations on them, per layer and top-1.")
@click.option("--check-agreement", type=click.FloatRange(0, 1), default=None,
              help="With --calibrate: exit 1 when the top-1 agreement is below this fraction.")
def import_cmd(model: Path, out: Path, time_steps: int, dt: float | None, preset: str | None, integrator: str | None,
               reset: str | None, input_bits: int, input_scale: float | None, weight_bits: int, potential_bits: int,
               amplitude_bits: int, readout: str | None, tolerance: float, name: str | None, calibrate: Path | None,
               check_agreement: float | None) -> None:
    """Import a NIR graph (snnTorch, Norse, Sinabs, Lava …) as an snnhw network.

    Feed-forward chains of Affine/Linear and LIF/IF layers (and an LI readout)
    become integer layers; the report gives the leak, scale and threshold chosen
    for each layer and the time-constant error (docs/importing.md).
    """
    from snnhw.importers.nir import ImportOptions, agreement, import_graph, read_graph
    from snnhw.model.trace import load_inputs

    writable(out)
    if check_agreement is not None and calibrate is None:
        raise InputError("needs --calibrate X.npy", key="--check-agreement", value=check_agreement)
    options = ImportOptions(time_steps=time_steps, dt=dt, preset=preset, integrator=integrator, reset=reset,
                            input_bits=input_bits, input_scale=input_scale, weight_bits=weight_bits,
                            potential_bits=potential_bits, amplitude_bits=amplitude_bits, readout=readout,
                            name=name, tolerance=tolerance)
    graph = read_graph(model)
    network, report = import_graph(graph, options, source=str(model))
    calibration = agreement(graph, network, report, load_inputs(calibrate, network)) if calibrate else None
    network.save(out)
    report_path = out.with_name(out.name + ".import.json")
    atomic_write_text(report_path, json.dumps(report.to_json(), indent=2) + "\n")
    click.echo(f"{model} → {out}: {len(network.layers)} layers, T = {time_steps}, dt = {report.dt:g} s "
               f"({report.dt_source}), {report.integrator}, reset {report.reset}, readout {report.readout}")
    for layer in report.layers:
        tau = "no leak" if layer.tau_s is None else (
            f"tau {layer.tau_s:.4g} s → {layer.tau_effective_s:.4g} s ({100 * layer.tau_error:.1f} % off)")
        click.echo(f"  {layer.name}: {layer.neuron}, leak {layer.leak}, {tau}, scale 2^{layer.scale_exponent}, "
                   f"threshold {layer.threshold_int}, weights {layer.weight_range[0]} … {layer.weight_range[1]}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    if calibration is not None:
        click.echo(f"against the NIR equations in float on {calibration['samples']} samples of {calibrate}: "
                   f"top-1 agreement {100 * calibration['top1_agreement']:.2f} %")
        for entry in calibration["layers"]:
            step = entry["first_divergence_step"]
            click.echo(f"  {entry['layer']}: spikes agree on {100 * entry['spike_agreement']:.3f} % of entries, "
                       f"first divergence at step {'none' if step is None else step}, "
                       f"{entry['saturations']} saturated additions")
    click.echo(f"report: {report_path}")
    if calibration is not None and check_agreement is not None and calibration["top1_agreement"] < check_agreement:
        click.echo(f"snnhw: top-1 agreement {calibration['top1_agreement']:.4f} is below --check-agreement "
                   f"{check_agreement:g}", err=True)
        sys.exit(1)


@click.command("export")
@click.argument("net", metavar="NET")
@click.option("--to", "fmt", type=click.Choice(["nir"]), required=True, help="Format to write.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="File to write (.nir).")
@click.option("--dt", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True,
              help="Time step in seconds that the exported time constants assume (snnTorch's by default).")
def export_cmd(net: str, fmt: str, out: Path, dt: float) -> None:
    """Write network NET as a NIR graph (1-D parameters), for snnTorch, Norse, Sinabs, Lava ….

    Shift leaks become LIF neurons with tau = dt·2^k and r = 2^k, so that
    snnTorch's importer reads back beta = 1 − 2^−k with unit input gain; the
    network's own fields travel in the graph's metadata, so `snnhw import` gives
    back the identical network.
    """
    from snnhw.importers.nir import export_graph, write_nir
    from snnhw.netfile import resolve_network

    writable(out)
    network = resolve_network(net)
    graph, warnings = export_graph(network, dt=dt)
    write_nir(graph, out)
    click.echo(f"{network.name} → {out}: {len(network.layers)} layers as NIR, dt = {dt:g} s")
    for warning in warnings:
        click.echo(f"  warning: {warning}")

