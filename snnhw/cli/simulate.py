"""The ``run`` command: a network on inputs, on the golden model or a simulator."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from snnhw.cli.options import build_options, resolve_build_option, table, with_progress, writable
from snnhw.engines import ENGINES, run_engine
from snnhw.ir import Network
from snnhw.model.trace import Trace, load_inputs
from snnhw.netfile import resolve_network

__all__ = ["run"]


def _stats_table(network: Network, trace: Trace) -> str:
    n = max(trace.samples, 1)
    rows = []
    for s in trace.stats(network):
        rows.append(
            (
                s.name,
                str(s.size),
                str(s.events),
                str(s.spikes),
                f"{s.events / n:.1f}",
                "-" if s.saturations is None else str(s.saturations),
            )
        )
    return table(("layer", "size", "events", "spikes", "events/sample", "saturations"), rows)


@click.command()
@click.argument("net", metavar="NET")
@click.argument("inputs", metavar="INPUTS.npy", type=click.Path(path_type=Path))
@click.option(
    "--engine",
    type=click.Choice(sorted(ENGINES)),
    default="golden",
    show_default=True,
    help="Which engine computes the trace: " + "; ".join(f"{k}: {d}" for k, (_, d) in sorted(ENGINES.items())) + ".",
)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Trace file to write (exactly this path).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Run only the first N samples.")
@click.option("--stats", is_flag=True, help="Print events, spikes and saturated additions per layer.")
@build_options
def run(net: str, inputs: Path, engine: str, out: Path, limit: int | None, stats: bool, build_file: Path | None,
        lanes: int | None, cores: int | None) -> None:
    """Run NET on INPUTS.npy and write the trace file.

    INPUTS.npy is an integer array (N, input.size) with values in
    [0, 2^input.bits); N = 0 is valid. The trace holds predictions, scores and
    every layer's events (see docs/semantics.md).

    With a hardware engine (verilator: a compiled C++ harness, the fast one;
    cocotb-verilator or icarus: the cocotb bench) the accelerator's Verilog is
    generated for the build (--build, --lanes, --cores), simulated, and the
    trace is recorded from the hardware's own streams, with the extra key
    `cycles` (per-sample latency). It is then checked against the golden
    model: on any difference the command names the first one (sample, layer,
    step, neuron, expected vs. got) and exits with status 1. SNNHW_WAVES=1
    keeps a waveform.
    """
    network = resolve_network(net)
    writable(out)
    x = load_inputs(inputs, network)
    if limit is not None:
        x = x[:limit]
    build = resolve_build_option(network, build_file, lanes, cores) if engine != "golden" else None
    if engine != "golden":
        from snnhw.rtl.generate import verilog_text

        verilog_text(network, build)  # type: ignore[arg-type]  # refuses impossible builds before the simulator starts
    trace = with_progress(lambda progress: run_engine(engine, network, x, progress=progress, build=build),
                           len(x), f"{engine}")
    trace.save(out)
    click.echo(f"{len(x)} samples through {network.name} ({engine}) → {out}")
    if stats:
        click.echo(_stats_table(network, trace))
    if engine != "golden":
        from snnhw.model.trace import first_divergence

        golden = run_engine("golden", network, x)
        where = first_divergence(network, golden, trace)
        if where is not None:
            click.echo(f"snnhw: MISMATCH against the golden model: {where}", err=True)
            sys.exit(1)
        click.echo(f"bit-exact against the golden model: {len(x)} samples, every layer's events, scores and "
                   "predictions")
        cycles, total = trace.extras.get("cycles"), trace.extras.get("cycles_total")
        if cycles is not None and total is not None and len(cycles):
            click.echo(f"cycles: {float(total[0]) / len(cycles):.0f} per sample back to back; latency per sample "
                       f"{int(cycles.min())} … {int(cycles.max())} (first input accepted → prediction)")
