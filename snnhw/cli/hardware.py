"""Hardware commands: ``generate``, ``synth``, ``report``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from snnhw.cli.options import build_options, fixed_option, loadable_options, resolve_build_option, resolve_design
from snnhw.errors import InputError
from snnhw.model.trace import load_inputs
from snnhw.netfile import resolve_network

__all__ = ["generate", "report", "synth"]


@click.command()
@click.argument("net", metavar="NET")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Directory to write into.")
@build_options
@loadable_options
def generate(net: str, out: Path, build_file: Path | None, lanes: int | None, cores: int | None, loadable: bool,
             capacity: str | None, max_time_steps: int | None, encoder_fan_in: int | None, no_preload: bool) -> None:
    """Generate the accelerator's Verilog for NET.

    Writes OUT/snnhw_top.v (deterministic: same network and build, same
    bytes) and OUT/metadata.json (network hash, resolved build, ports, tool
    versions, cycle model). A loadable design (--loadable, --capacity)
    also gets OUT/network.npz, its network, whose shape is the capacity;
    metadata.json states the capacity.
    """
    from snnhw.rtl.generate import generate as gen

    network = resolve_network(net)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    design, build = resolve_design(network, build_file, lanes, cores, loadable=loadable, capacity=capacity,
                                   max_time_steps=max_time_steps, encoder_fan_in=encoder_fan_in, no_preload=no_preload)
    files = gen(design, build, out)
    for layer, lb in zip(design.layers, build.layers):
        click.echo(f"{layer.name:>12}: {layer.size} neurons, {lb.cores} core(s) × {lb.lanes} lane(s), "
                   f"FIFO {lb.fifo_depth}, memory {lb.memory}, weights {lb.weights}")
    if build.load is not None:
        click.echo(f"loadable: up to T = {design.time_steps}, inputs {design.input.size}, encoder fan-in "
                   f"{build.load.fan_in} ({', '.join(map(str, build.load.entries))} entries per core); "
                   + (f"{network.name} preloaded" if build.load.preloaded else "empty until loaded"))
    click.echo(f"wrote {', '.join(str(path) for path in files.values())}")


@click.command("pack")
@click.argument("net", metavar="NET")
@click.option("--hardware", "hardware", required=True, type=click.Path(path_type=Path),
              help="Directory of a loadable design (snnhw generate --loadable --out DIR).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Load image to write (IMAGE.bin).")
def pack_cmd(net: str, hardware: Path, out: Path) -> None:
    """Write the load image that programs NET into the loadable design in DIR.

    The image is the configuration stream's frames (BEGIN, WRITEs, COMMIT with
    NET's identifier), each with its CRC-32; docs/architecture.md has the
    format. A network that does not fit the design is refused in one line
    naming the first limit it exceeds (exit 2).
    """
    from snnhw.cli.options import writable
    from snnhw.program import load_frames, load_hardware, write_image

    network = resolve_network(net)
    writable(out)
    hw = load_hardware(hardware)
    frames = load_frames(network, hw.network, hw.build, source=net)
    write_image(out, frames)
    words = sum(len(f) for f in frames)
    click.echo(f"{network.name} → {out}: {len(frames)} frames, {words} words ({4 * words} bytes) for the design in "
               f"{hardware}")


@click.command()
@click.argument("net", metavar="NET")
@click.option("--target", type=click.Choice(["xcup", "ecp5", "asap7"]), required=True,
              help="xcup: Xilinx UltraScale+ (Yosys); ecp5: Lattice ECP5 (Yosys + nextpnr); asap7: ASAP7 7 nm (Yosys + OpenSTA).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Run directory to write into.")
@build_options
@click.option("--clock-mhz", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Target clock [default: xcup 250 (assumed), ecp5 100, asap7 1000].")
@click.option("--corner", type=click.Choice(["FF", "TT", "SS"]), default=None,
              help="ASAP7 library corner of the synthesis and its pre-layout timing [default: FF; TT with --layout].")
@click.option("--pdk", type=click.Path(path_type=Path), default=None,
              help="ASAP7 liberty directory [default: $SNNHW_ASAP7_LIB, else ../shared/pdk/asap7/liberty].")
@click.option("--fakeram", type=click.Path(path_type=Path), default=None,
              help="fakeram7 macro-model directory [default: $SNNHW_ASAP7_FAKERAM, else <pdk>/../fakeram].")
@click.option("--part", default=None, help="FPGA part [default: ecp5 LFE5U-85F; xcup xczu7ev-ffvc1156-2-e, for the Vivado script].")
@click.option("--seed", type=click.IntRange(min=1), default=None,
              help="ECP5: nextpnr's placement seed [default: 1]; the routed Fmax moves with it.")
@click.option("--inputs", "inputs_file", type=click.Path(path_type=Path), default=None,
              help="INPUTS.npy whose golden-model events drive the cycle model [default: 64 random inputs].")
@click.option("--cosim", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also co-simulate N of the inputs on Verilator (bit-exact check) and report measured cycles.")
@click.option("--orfs", is_flag=True, help="ASAP7: also write an OpenROAD-flow-scripts design; run it when FLOW_HOME is set.")
@click.option("--clock-gating/--no-clock-gating", default=None,
              help="ASAP7: ICG cells on the clocks of flip-flops that share an enable [default: on; off with --layout].")
@click.option("--layout", is_flag=True,
              help="ASAP7: place and route with OpenROAD, then sign off after routing at SS, TT and FF (OUT/layout/).")
@click.option("--utilization", type=click.FloatRange(0.05, 0.90), default=0.40, show_default=True,
              help="--layout: standard-cell utilisation of the core area left beside the macros (CORE_UTILIZATION).")
@click.option("--until", type=click.Choice(["global_place", "cts", "global_route", "detailed_route"]),
              default="detailed_route", show_default=True,
              help="--layout: the last step to run (detailed_route includes fillers and RC extraction).")
@click.option("--platform", type=click.Path(path_type=Path), default=None,
              help="--layout: ORFS asap7 platform directory [default: $SNNHW_ASAP7_PLATFORM, else <pdk>/../platform].")
@fixed_option
def synth(net: str, target: str, out: Path, build_file: Path | None, lanes: int | None, cores: int | None,
          clock_mhz: float | None, corner: str | None, pdk: Path | None, fakeram: Path | None, part: str | None,
          seed: int | None, inputs_file: Path | None, cosim: int, orfs: bool, clock_gating: bool | None,
          layout: bool, utilization: float, until: str, platform: Path | None, fixed: bool) -> None:
    """Synthesize NET's accelerator for a target and report resources, area, clock and latency.

    Writes OUT/report.json (schema in docs/flows.md: every figure with its unit
    and source), OUT/report.md, the generated Verilog, the tool scripts and
    their logs. UltraScale+ figures are post-synthesis with an assumed clock;
    the ECP5 Fmax is nextpnr's after place and route; the ASAP7 Fmax is
    OpenSTA's on the mapped netlist (pre-layout); with --layout, OpenSTA's after
    routing with extracted parasitics, at TT (and SS and FF beside it).

    ASAP7 builds the loadable design by default (every parameter written over
    s_axis_config at run time: silicon SRAM has no initial values); --fixed
    builds the design with the network in its memories, as the FPGA flows do.
    """
    from snnhw.synth import synthesize

    options = None
    if layout:
        from snnhw.layout.flow import LayoutOptions

        options = LayoutOptions(utilization=utilization, until=until, platform=str(platform) if platform else None)
    elif (utilization, until, platform) != (0.40, "detailed_route", None):
        raise InputError("--utilization, --until and --platform need --layout", key="--layout")
    if corner is None:
        corner = "TT" if layout else "FF"
    if seed is not None and target != "ecp5":
        raise InputError("sets nextpnr's seed: only --target ecp5 places and routes with it", key="--seed", value=seed)

    network = resolve_network(net)
    build = resolve_build_option(network, build_file, lanes, cores, silicon=target == "asap7", fixed=fixed)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    x = load_inputs(inputs_file, network) if inputs_file is not None else None
    report = synthesize(network, build, target, out, clock_mhz=clock_mhz, corner=corner, clock_gating=clock_gating,
                        pdk=str(pdk) if pdk else None, fakeram=str(fakeram) if fakeram else None, part=part,
                        seed=seed, inputs=x, cosim=cosim, orfs=orfs, layout=options, progress=sys.stderr.isatty())
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
    if report.get("layout"):
        lay = report["layout"]
        by = lay["fmax_mhz_by_corner"]
        parts.append(f"layout ({lay['stage']}): Fmax {fmt(lay['fmax_mhz'])} MHz at {lay['corner']} (SS {fmt(by['SS'])}, "
                     f"FF {fmt(by['FF'])}); hold WNS {fmt(lay['hold_wns_ps'])} ps; die {fmt(lay['die_area_um2'])} µm², "
                     f"utilisation {fmt(lay['core_utilization'])}; wire {fmt(lay['wirelength_um'])} µm; "
                     f"DRC {fmt(lay['drc_violations'])}, unrouted {fmt(lay['unrouted_nets'])}; {fmt(lay['power_mw'])} mW")
    parts.append(f"clock {fmt(perf['clock_mhz'])} MHz ({perf['clock_source']}); {fmt(perf['cycles_per_sample'])} "
                 f"cycles/sample back to back (event bound {fmt(perf.get('event_bound_cycles'))}); latency {fmt(perf['latency_us'])} µs; {fmt(perf['samples_per_s'])} samples/s")
    if perf.get("cycles_per_sample_measured") is not None:
        parts.append(f"measured on Verilator: {fmt(perf['cycles_per_sample_measured'])} cycles/sample "
                     f"({perf['cosim_samples']} samples, bit-exact)")
    return "\n".join(parts)


@click.command()
@click.argument("dirs", metavar="DIR...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Directory for report.md (table) and report_lanes.png (plots).")
def report(dirs: tuple[Path, ...], out: Path) -> None:
    """Compare synthesis runs: a markdown table and PNG plots of resources and latency against lanes.

    Runs with a power section (`snnhw power`) add energy per sample, pJ per SOP
    and mW to the table.
    """
    from snnhw.synth.report import compare

    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", source=str(out))
    text, files = compare(dirs, out)
    click.echo(text)
    click.echo(f"wrote {files['markdown']} and {files['plot']}")
