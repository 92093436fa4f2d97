"""Commands about network files: ``info``, ``random``, ``networks``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from snnhw._io import atomic_open
from snnhw.cli.options import int_list, table, writable
from snnhw.ir import Network, Readout, Reset
from snnhw.netfile import bundled_networks, resolve_network
from snnhw.netgen import parse_leak, random_inputs, random_network

__all__ = ["info", "networks", "random_cmd"]


@click.command()
@click.argument("net", metavar="NET")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
def info(net: str, as_json: bool) -> None:
    """Describe network NET: shape, options, stream widths and content hash."""
    network = resolve_network(net)
    if as_json:
        click.echo(json.dumps(_summary(network), indent=2))
    else:
        click.echo(_describe(network))


def _summary(network: Network) -> dict[str, Any]:
    """The network as a JSON-ready summary (config plus derived figures)."""
    layers = []
    for i, layer in enumerate(network.layers):
        w = network.stream_widths(i)
        layers.append(
            {
                **layer.to_json(),
                "n_in": layer.n_in,
                "leak": str(layer.leak),
                "nonzero_weights": layer.nonzero_weights,
                "fires": network.fires(i),
                "stream_bits": {"dt": w.dt, "idx": w.idx, "amp": w.amp, "token": w.total},
            }
        )
    return {
        "name": network.name,
        "hash": network.content_hash(),
        "time_steps": network.time_steps,
        "input": {"size": network.input.size, "bits": network.input.bits},
        "readout": network.readout.value,
        "layers": layers,
    }


def _describe(network: Network) -> str:
    """A readable description: header lines and a table of layers."""
    summary = _summary(network)
    lines = [
        f"network    {network.name}",
        f"hash       {summary['hash']}",
        f"steps      T = {network.time_steps}",
        f"input      {network.input.size} × {network.input.bits} bit",
        f"readout    {network.readout.value}",
    ]
    header = ("#", "name", "kind", "size", "n_in", "nnz", "W", "P", "θ", "leak", "reset", "A", "bias", "dt/idx/amp")
    rows = [
        (
            str(i),
            layer["name"],
            layer["kind"],
            str(layer["size"]),
            str(layer["n_in"]),
            str(layer["nonzero_weights"]),
            str(layer["weight_bits"]),
            str(layer["potential_bits"]),
            str(layer["threshold"]),
            layer["leak"],
            layer["reset"],
            str(layer["amplitude_bits"]),
            "yes" if layer["bias"] else "no",
            "{dt}/{idx}/{amp}".format(**layer["stream_bits"]),
        )
        for i, layer in enumerate(summary["layers"])
    ]
    return "\n".join(lines) + "\n" + table(header, rows)


@click.command("random")
@click.argument("out", metavar="NET.npz", type=click.Path(path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), required=True, help="Random seed; the same options give the same file.")
@click.option("--input-size", type=click.IntRange(min=1), default=16, show_default=True, help="Input vector size.")
@click.option("--input-bits", type=click.IntRange(1, 16), default=8, show_default=True, help="Bits per input value.")
@click.option("--sizes", default="12,8,4", show_default=True, help="Layer sizes, encoder first, comma-separated.")
@click.option("--time-steps", type=click.IntRange(1, 65535), default=8, show_default=True, help="Time steps T.")
@click.option("--weight-bits", type=click.IntRange(2, 16), default=6, show_default=True, help="Weight bits W (every layer).")
@click.option("--potential-bits", type=click.IntRange(4, 32), default=16, show_default=True, help="Potential bits P (every layer).")
@click.option("--amplitude-bits", type=click.IntRange(1, 8), default=2, show_default=True, help="Amplitude bits A (every layer).")
@click.option("--leak", default="shift:2", show_default=True, help="Leak of every layer: none, shift:K or pow2:K.")
@click.option("--reset", type=click.Choice([r.value for r in Reset]), default="subtract", show_default=True, help="Reset of every layer.")
@click.option("--readout", type=click.Choice([r.value for r in Readout]), default="spike_count", show_default=True, help="Readout of the last layer.")
@click.option("--bias/--no-bias", default=True, show_default=True, help="Give every layer a bias.")
@click.option("--density", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True, help="Fraction of non-zero weights.")
@click.option("--vary", is_flag=True, help="Draw every layer's widths, leak, reset, amplitude bits, bias and threshold at random.")
@click.option("--name", default=None, help="Network name (default random-SEED).")
@click.option("--inputs", "inputs_out", type=click.Path(path_type=Path), default=None, help="Also write random inputs to this .npy file.")
@click.option("--samples", type=click.IntRange(min=0), default=16, show_default=True, help="Number of random inputs for --inputs.")
def random_cmd(out: Path, seed: int, input_size: int, input_bits: int, sizes: str, time_steps: int, weight_bits: int,
               potential_bits: int, amplitude_bits: int, leak: str, reset: str, readout: str, bias: bool, density: float,
               vary: bool, name: str | None, inputs_out: Path | None, samples: int) -> None:
    """Write a valid random network to NET.npz (for trying the flow and for tests)."""
    layer_sizes = int_list(sizes)
    writable(out)
    if inputs_out is not None:
        writable(inputs_out)
    leak_obj = parse_leak(leak)
    network = random_network(
        seed,
        input_size=input_size,
        input_bits=input_bits,
        sizes=layer_sizes,
        time_steps=time_steps,
        weight_bits=weight_bits,
        potential_bits=potential_bits,
        amplitude_bits=amplitude_bits,
        leak=leak_obj,
        reset=reset,
        readout=readout,
        bias=bias,
        density=density,
        vary=vary,
        name=name,
    )
    network.save(out)
    click.echo(f"wrote {out} ({network.name}, hash {network.content_hash()[:16]})")
    if inputs_out is not None:
        x = random_inputs(network, samples, [seed, 1])
        with atomic_open(inputs_out) as handle:
            np.save(handle, x)
        click.echo(f"wrote {inputs_out} ({samples} samples)")


@click.command()
def networks() -> None:
    """List the networks bundled with snnhw (usable by name wherever NET is taken)."""
    from snnhw.netfile import load_network

    rows = []
    for name, path in bundled_networks().items():
        network = load_network(path)
        shape = " → ".join([str(network.input.size)] + [str(layer.size) for layer in network.layers])
        rows.append((name, shape, str(network.time_steps), network.content_hash()[:16]))
    click.echo(table(("name", "shape", "T", "hash"), rows))
