"""The ``run`` command: a network on inputs, on the golden model or a simulator."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from snnhw.cli.options import build_options, resolve_build_option, table, with_progress, writable
from snnhw.engines import ENGINES, run_engine
from snnhw.errors import InputError
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


def _run_on_hardware(network: Network, x, engine: str, hardware: Path, source: str) -> Trace:
    """Load ``network`` into the loadable design in ``hardware`` and run ``x`` on it (one simulator run)."""
    from snnhw.engines import SIMULATOR_OF
    from snnhw.program import embed, load_frames, load_hardware, pad_inputs
    from snnhw.rtl.loader import network_id

    hw = load_hardware(hardware)
    frames = load_frames(network, hw.network, hw.build, source=source)
    padded = embed(network, hw.network)
    xp = pad_inputs(x, hw.network)
    if hw.verilog is None:
        raise InputError("is a board build: run it with snnhw board run --hardware", key="--hardware",
                         value=str(hardware))
    text = hw.verilog.read_text()

    def job(progress):
        if engine == "verilator":
            from snnhw.sim.batch import batch_sim, build_harness

            exe = build_harness(hw.network, hw.build, verilog=text)
            return batch_sim(hw.network, hw.build, xp, config=frames, target=padded, harness=exe, progress=progress)
        from snnhw.sim.runner import cosim

        return cosim(hw.network, hw.build, xp, simulator=SIMULATOR_OF[engine], config=frames, target=padded,
                     verilog=text, progress=progress)

    trace, counters = with_progress(job, len(x), f"{engine} on {hardware}")
    status = counters.get("config", {})
    want = network_id(network)
    if not status.get("committed") or status.get("hash") != want:
        click.echo(f"snnhw: the load was not committed (status {status}; expected identifier {want:016x})", err=True)
        sys.exit(1)
    click.echo(f"loaded {network.name} into {hardware} (identifier {want:016x}, {len(frames)} frames, "
               f"{sum(len(f) for f in frames)} words; CRC errors {status['crc_errors']}, errors {status['errors']})")
    return trace


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
@click.option("--hardware", "hardware", type=click.Path(path_type=Path), default=None,
              help="Run NET on an already generated loadable design (snnhw generate --loadable --out DIR): the "
                   "simulator is built from DIR's Verilog, NET's load image is streamed in, then the samples.")
def run(net: str, inputs: Path, engine: str, out: Path, limit: int | None, stats: bool, build_file: Path | None,
        lanes: int | None, cores: int | None, hardware: Path | None) -> None:
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

    With --hardware DIR the design is not generated: NET is loaded into the
    loadable design in DIR over its configuration stream (refused in one line,
    exit 2, if it does not fit), and the loaded identifier is checked too.
    """
    network = resolve_network(net)
    writable(out)
    x = load_inputs(inputs, network)
    if limit is not None:
        x = x[:limit]
    if hardware is not None:
        if engine == "golden":
            raise InputError("needs a simulator engine (--engine verilator, icarus or cocotb-verilator)",
                             key="--hardware", value=str(hardware))
        if build_file is not None or lanes is not None or cores is not None:
            raise InputError("the design in --hardware fixes the build; drop --build, --lanes and --cores",
                             key="--hardware", value=str(hardware))
        trace = _run_on_hardware(network, x, engine, hardware, net)
    else:
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
