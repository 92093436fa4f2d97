"""The ``snnhw`` command line.

Every command prints ``--help``; user errors print one line
``snnhw: error: FILE: KEY: RULE, got VALUE`` on standard error and exit with
status 2, never a traceback. Outputs are written atomically.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from snnhw import __version__
from snnhw._io import atomic_open
from snnhw.engines import ENGINES, run_engine
from snnhw.errors import InputError, SnnhwError
from snnhw.ir import Network, Readout, Reset
from snnhw.model.trace import Trace, load_inputs
from snnhw.netfile import bundled_networks, resolve_network
from snnhw.netgen import parse_leak, random_inputs, random_network

__all__ = ["cli", "main"]

class _Group(click.Group):
    """A click group that turns snnhw errors and I/O errors into one line and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SnnhwError as err:
            _fail(str(err))
        except (OSError, MemoryError) as err:
            name = getattr(err, "filename", None)
            reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
            _fail(f"{name}: {reason}" if name else reason)


def _fail(message: str) -> None:
    click.echo(f"snnhw: error: {message}", err=True)
    sys.exit(2)


def _writable(path: Path) -> Path:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError("the output directory does not exist", source=str(path))
    if path.is_dir():
        raise InputError("is a directory; give a file path", source=str(path))
    return path


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="snnhw")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """snnhw: spiking-network accelerators from trained networks.

    Networks are snnhw.network/1 files (.npz) or the names of bundled networks
    (see `snnhw networks`). Run `snnhw COMMAND --help` for each command.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
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
    return "\n".join(lines) + "\n" + _table(header, rows)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if cell[:1].isdigit() else cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
    return _table(("layer", "size", "events", "spikes", "events/sample", "saturations"), rows)


def _build_options(func):
    func = click.option("--cores", type=click.IntRange(min=1), default=None,
                        help="Cores per layer (clamped to each layer's size); overrides the build file. Used by the simulator engines, generate and synth.")(func)
    func = click.option("--lanes", type=click.IntRange(min=1), default=None,
                        help="Lanes per core (clamped to each core's size); overrides the build file. Used by the simulator engines, generate and synth.")(func)
    func = click.option("--build", "build_file", type=click.Path(path_type=Path), default=None,
                        help="Build configuration JSON (see docs/architecture.md). Used by the simulator engines, generate and synth.")(func)
    return func


def _resolve_build(network: Network, build_file: Path | None, lanes: int | None, cores: int | None) -> Any:
    from snnhw.rtl.build import load_build, resolve_build

    config = load_build(build_file) if build_file is not None else None
    return resolve_build(network, config, lanes=lanes, cores=cores,
                         source=str(build_file) if build_file is not None else None)


@cli.command()
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
@_build_options
def run(net: str, inputs: Path, engine: str, out: Path, limit: int | None, stats: bool, build_file: Path | None,
        lanes: int | None, cores: int | None) -> None:
    """Run NET on INPUTS.npy and write the trace file.

    INPUTS.npy is an integer array (N, input.size) with values in
    [0, 2^input.bits); N = 0 is valid. The trace holds predictions, scores and
    every layer's events (see docs/semantics.md).

    With --engine verilator or icarus the accelerator's Verilog is generated
    for the build (--build, --lanes, --cores), simulated with cocotb, and the
    trace is recorded from the hardware's own streams, with the extra key
    `cycles` (per-sample latency). It is then checked against the golden
    model: on any difference the command names the first one (sample, layer,
    step, neuron, expected vs. got) and exits with status 1. SNNHW_WAVES=1
    keeps a waveform.
    """
    network = resolve_network(net)
    _writable(out)
    x = load_inputs(inputs, network)
    if limit is not None:
        x = x[:limit]
    build = _resolve_build(network, build_file, lanes, cores) if engine != "golden" else None
    if engine != "golden":
        from snnhw.rtl.generate import verilog_text

        verilog_text(network, build)  # type: ignore[arg-type]  # refuses impossible builds before the simulator starts
    trace = _with_progress(lambda progress: run_engine(engine, network, x, progress=progress, build=build),
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


@cli.command()
@click.argument("net", metavar="NET")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Directory to write into.")
@_build_options
def generate(net: str, out: Path, build_file: Path | None, lanes: int | None, cores: int | None) -> None:
    """Generate the accelerator's Verilog for NET.

    Writes OUT/snnhw_top.v (deterministic: same network and build, same
    bytes) and OUT/metadata.json (network hash, resolved build, ports, tool
    versions, cycle model).
    """
    from snnhw.rtl.generate import generate as gen

    network = resolve_network(net)
    build = _resolve_build(network, build_file, lanes, cores)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    files = gen(network, build, out)
    for layer, lb in zip(network.layers, build.layers):
        click.echo(f"{layer.name:>12}: {layer.size} neurons, {lb.cores} core(s) × {lb.lanes} lane(s), "
                   f"FIFO {lb.fifo_depth}, memory {lb.memory}, weights {lb.weights}")
    click.echo(f"wrote {files['verilog']} and {files['metadata']}")


@cli.command()
@click.argument("net", metavar="NET")
@click.option("--target", type=click.Choice(["xcup", "ecp5", "asap7"]), required=True,
              help="xcup: Xilinx UltraScale+ (Yosys); ecp5: Lattice ECP5 (Yosys + nextpnr); asap7: ASAP7 7 nm (Yosys + OpenSTA).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Run directory to write into.")
@_build_options
@click.option("--clock-mhz", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Target clock [default: xcup 250 (assumed), ecp5 100, asap7 1000].")
@click.option("--corner", type=click.Choice(["FF", "TT"]), default="FF", show_default=True, help="ASAP7 library corner.")
@click.option("--pdk", type=click.Path(path_type=Path), default=None,
              help="ASAP7 liberty directory [default: $SNNHW_ASAP7_LIB, else ../shared/pdk/asap7/liberty].")
@click.option("--fakeram", type=click.Path(path_type=Path), default=None,
              help="fakeram7 macro-model directory [default: $SNNHW_ASAP7_FAKERAM, else <pdk>/../fakeram].")
@click.option("--part", default=None, help="FPGA part [default: ecp5 LFE5U-85F; xcup xczu7ev-ffvc1156-2-e, for the Vivado script].")
@click.option("--inputs", "inputs_file", type=click.Path(path_type=Path), default=None,
              help="INPUTS.npy whose golden-model events drive the cycle model [default: 64 random inputs].")
@click.option("--cosim", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also co-simulate N of the inputs on Verilator (bit-exact check) and report measured cycles.")
@click.option("--orfs", is_flag=True, help="ASAP7: also write an OpenROAD-flow-scripts design; run it when FLOW_HOME is set.")
def synth(net: str, target: str, out: Path, build_file: Path | None, lanes: int | None, cores: int | None,
          clock_mhz: float | None, corner: str, pdk: Path | None, fakeram: Path | None, part: str | None,
          inputs_file: Path | None, cosim: int, orfs: bool) -> None:
    """Synthesize NET's accelerator for a target and report resources, area, clock and latency.

    Writes OUT/report.json (schema in docs/flows.md: every figure with its unit
    and source), OUT/report.md, the generated Verilog, the tool scripts and
    their logs. UltraScale+ figures are post-synthesis with an assumed clock;
    the ECP5 Fmax is nextpnr's after place and route; the ASAP7 Fmax is
    OpenSTA's on the mapped netlist (pre-layout).
    """
    from snnhw.synth import synthesize

    network = resolve_network(net)
    build = _resolve_build(network, build_file, lanes, cores)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    x = load_inputs(inputs_file, network) if inputs_file is not None else None
    report = synthesize(network, build, target, out, clock_mhz=clock_mhz, corner=corner,
                        pdk=str(pdk) if pdk else None, fakeram=str(fakeram) if fakeram else None, part=part,
                        inputs=x, cosim=cosim, orfs=orfs, progress=sys.stderr.isatty())
    click.echo(_synth_summary(report))
    click.echo(f"wrote {out / 'report.json'} and {out / 'report.md'}")


def _synth_summary(report: dict[str, Any]) -> str:
    from snnhw.synth.report import fmt

    perf = report["performance"]
    parts = []
    if report["target"] != "asap7":
        f = report["fpga"]
        parts.append(f"LUT {fmt(f['lut'])}, FF {fmt(f['ff'])}, carry {fmt(f['carry'])}, DSP {fmt(f['dsp'])}, "
                     + (f"EBR {fmt(f['ebr'])}" if report["target"] == "ecp5" else
                        f"RAMB36 eq. {fmt(f['bram36_equiv'])}, URAM {fmt(f['uram'])}, logic depth {fmt(f['logic_depth'])}"))
    else:
        a = report["asic"]
        parts.append(f"area {fmt(a['area_um2'])} µm² (macros {fmt(a['macro_area_um2'])}), {fmt(a['cells'])} cells, "
                     f"WNS {fmt(a['wns_ps'])} ps at {fmt(a['clock_period_ps'])} ps ({a['corner']})")
    parts.append(f"clock {fmt(perf['clock_mhz'])} MHz ({perf['clock_source']}); {fmt(perf['cycles_per_sample'])} "
                 f"cycles/sample back to back (event bound {fmt(perf.get('event_bound_cycles'))}); latency {fmt(perf['latency_us'])} µs; {fmt(perf['samples_per_s'])} samples/s")
    if perf.get("cycles_per_sample_measured") is not None:
        parts.append(f"measured on Verilator: {fmt(perf['cycles_per_sample_measured'])} cycles/sample "
                     f"({perf['cosim_samples']} samples, bit-exact)")
    return "\n".join(parts)


@cli.command()
@click.argument("dirs", metavar="DIR...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Directory for report.md (table) and report_lanes.png (plots).")
def report(dirs: tuple[Path, ...], out: Path) -> None:
    """Compare synthesis runs: a markdown table and PNG plots of resources and latency against lanes."""
    from snnhw.synth.report import compare

    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    text, files = compare(dirs, out)
    click.echo(text)
    click.echo(f"wrote {files['markdown']} and {files['plot']}")


def _with_progress(job, total: int, label: str) -> Any:
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="sample", disable=None, file=sys.stderr, leave=False) as bar:
        return job(bar.update)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise click.BadParameter(f"must be comma-separated integers ≥ 1, got {text!r}")
    return values


@cli.command("random")
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
    layer_sizes = _int_list(sizes)
    _writable(out)
    if inputs_out is not None:
        _writable(inputs_out)
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


def _confusion_table(confusion: list[list[int]]) -> str:
    k = len(confusion)
    header = ("true\\pred", *[str(c) for c in range(k)])
    rows = [(str(r), *[str(v) for v in row]) for r, row in enumerate(confusion)]
    return _table(header, rows)


@cli.command("eval")
@click.argument("net", metavar="NET")
@click.option("--dataset", type=click.Choice(["mnist", "digits"]), required=True, help="Data set (its test split).")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="MNIST folder of the four IDX files [default: $SNNHW_MNIST_DIR, else ../shared/data/mnist].")
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
        _writable(json_out)
    split = load_dataset(dataset, "test", data)
    n = len(split.x) if limit is None else min(limit, len(split.x))
    report, _ = _with_progress(lambda progress: evaluate(network, split, limit=limit, progress=progress), n, "golden")
    click.echo(f"{network.name} on {dataset} (test, {report['samples']} samples): accuracy "
               f"{100 * report['accuracy']:.2f} % ({report['correct']}/{report['samples']})\n")
    rows = [(la["name"], str(la["size"]), f"{la['events_per_sample']:.1f}", str(la["events_per_sample_max"]),
             f"{la['spikes_per_sample']:.1f}", "-" if la["saturations"] is None else str(la["saturations"]))
            for la in report["layers"]]
    click.echo(_table(("layer", "size", "events/sample", "max", "spikes/sample", "saturations"), rows))
    click.echo("\nconfusion matrix (rows: true class, columns: prediction)\n" + _confusion_table(report["confusion"]))
    if json_out is not None:
        from snnhw._io import atomic_write_text

        atomic_write_text(json_out, json.dumps(report, indent=2) + "\n")
        click.echo(f"\nwrote {json_out}")


@cli.command()
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
def train(dataset: str, out: Path, data: Path | None, name: str | None, hidden: str, encoder_size: int, patch: int,
          stride: int, channels: int, time_steps: int, weight_bits: int, amplitude_bits: int, leak: str, reset: str,
          readout: str, surrogate: str, surrogate_scale: float, epochs: int, batch_size: int, lr: float, shift: int,
          limit: int, val: int, seed: int, threads: int, device: str, checkpoint_dir: Path | None,
          resume: bool) -> None:
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

    _writable(out)
    config = TrainConfig(
        dataset=dataset, name=name or out.stem, hidden=[] if hidden.strip() in ("", "none") else _int_list(hidden),
        encoder_size=encoder_size, patch=patch, stride=stride, channels=channels, time_steps=time_steps,
        weight_bits=weight_bits, amplitude_bits=amplitude_bits, leak=leak, reset=reset, readout=readout,
        surrogate=surrogate, surrogate_scale=surrogate_scale, epochs=epochs, batch_size=batch_size, lr=lr,
        shift=shift, limit=limit, val=val, seed=seed, threads=threads, device=device,
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


@cli.command()
def networks() -> None:
    """List the networks bundled with snnhw (usable by name wherever NET is taken)."""
    from snnhw.netfile import load_network

    rows = []
    for name, path in bundled_networks().items():
        network = load_network(path)
        shape = " → ".join([str(network.input.size)] + [str(layer.size) for layer in network.layers])
        rows.append((name, shape, str(network.time_steps), network.content_hash()[:16]))
    click.echo(_table(("name", "shape", "T", "hash"), rows))


@cli.command()
@click.option("--net", "net", default="digits", show_default=True, help="Network (path or bundled name).")
@click.option("--dataset", type=click.Choice(["auto", "digits", "mnist"]), default="auto", show_default=True,
              help="Test data (auto: digits for 64 inputs, mnist for 784).")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="MNIST folder (as for `snnhw eval`).")
@click.option("--samples", type=click.IntRange(min=1), default=300, show_default=True,
              help="Test samples to co-simulate on Verilator.")
@click.option("--lanes", type=click.IntRange(min=1), default=8, show_default=True, help="Lanes of the build.")
@click.option("--targets", default="xcup,ecp5,asap7", show_default=True,
              help="Synthesis flows to run, comma-separated (none: no synthesis).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("demo-report"), show_default=True,
              help="Report directory.")
def demo(net: str, dataset: str, data: Path | None, samples: int, lanes: int, targets: str, out: Path) -> None:
    """The whole flow on a trained network, end to end (`make demo`).

    Evaluates NET on its test set through the golden model, generates the
    accelerator's Verilog, co-simulates test samples on Verilator and checks
    them bit-exact against the golden model, synthesizes for UltraScale+,
    ECP5 and ASAP7 (ASAP7 when its PDK is found), and writes OUT/report.md,
    report.json and a spike raster of one sample through every layer.
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
             say=lambda line: click.echo(line), progress=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``snnhw`` console script."""
    cli.main(args=argv, prog_name="snnhw")


if __name__ == "__main__":  # pragma: no cover
    main()
