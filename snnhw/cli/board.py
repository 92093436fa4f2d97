"""The ``board`` command group: ``build``, ``run`` and ``program``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from snnhw.cli.options import (
    build_options,
    fail,
    loadable_options,
    resolve_build_option,
    resolve_design,
    with_progress,
    writable,
)
from snnhw.errors import BoardError, InputError
from snnhw.ir import Network
from snnhw.model.trace import load_inputs
from snnhw.netfile import resolve_network

__all__ = ["board"]


def _board_names() -> list[str]:
    from snnhw.boards import BOARDS

    return sorted(BOARDS)


@click.group()
def board() -> None:
    """Put a network on an FPGA board and stream samples through it.

    `board build` writes a bitstream (ulx3s-85f, with the YoWASP tools) or a
    Vivado project (zcu104); `board program` loads a bitstream with
    openFPGALoader; `board run` streams samples over the board's serial port, or
    through the simulated board with --port sim. See docs/boards.md.
    """


@board.command("build")
@click.argument("net", metavar="NET")
@click.option("--board", "board_name", type=click.Choice(_board_names()), required=True, help="The board.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output directory.")
@click.option("--clock-mhz", type=float, default=None,
              help="Accelerator clock (default: the board's, 100 MHz on ulx3s-85f and zcu104); the clock "
                   "generator must make it exactly.")
@click.option("--baud", type=click.IntRange(min=1), default=None,
              help="UART baud rate (default: the board's, 3000000 on ulx3s-85f, 2000000 on zcu104); at least 4 "
                   "clocks per bit, not necessarily a whole number.")
@click.option("--allow-timing-failure", is_flag=True,
              help="Keep a bitstream whose clock nextpnr did not meet (an error otherwise).")
@build_options
@loadable_options
def build_cmd(net: str, board_name: str, out: Path, clock_mhz: float | None, baud: int | None,
              allow_timing_failure: bool, build_file: Path | None, lanes: int | None, cores: int | None,
              loadable: bool, capacity: str | None, max_time_steps: int | None, encoder_fan_in: int | None,
              no_preload: bool) -> None:
    """Build NET for a board into directory --out.

    ulx3s-85f runs Yosys, nextpnr-ecp5 and ecppack (YoWASP wheels) to a
    complete snnhw_board.bit and fails if nextpnr's timing analysis after place
    and route misses the clock. zcu104 writes the Vivado project (Verilog, XDC,
    Tcl, build script) without running Vivado. Both write board.json (board,
    part, clock, baud, Fmax, timing, resources, tool versions, network hash).
    Without --build, --lanes or --cores the board's default build is used
    (ulx3s-85f: 16 lanes at 100 MHz, the fastest build measured to meet timing); board.json says which defaults were taken. With --loadable (and the capacity options of snnhw generate) the board
    takes any network that fits at run time (snnhw board load) without a
    rebuild; DIR then also holds network.npz, the design's network.
    """
    from snnhw.board.build import BOARD_TOP, build_board
    from snnhw.boards import get_board

    network = resolve_network(net)
    spec = get_board(board_name)
    given = lanes
    lanes = spec.default_lanes_for(build_file, lanes, cores)
    defaults = [name for name, taken in (("lanes", lanes is not None and lanes != given), ("clock_mhz", clock_mhz is None),
                                         ("baud", baud is None)) if taken]
    design, build = resolve_design(network, build_file, lanes, cores, loadable=loadable, capacity=capacity,
                                   max_time_steps=max_time_steps, encoder_fan_in=encoder_fan_in, no_preload=no_preload)
    info = build_board(design, build, board_name, out, clock_mhz=clock_mhz, baud=baud,
                       allow_timing_failure=allow_timing_failure, progress=sys.stderr.isatty(), defaults=defaults)
    click.echo(f"{network.name} on {info['board']} ({info['part']}): {info['clock_mhz']:g} MHz, {info['baud']} baud "
               f"({info['clocks_per_bit']} clocks per bit) → {out}")
    if info["toolchain"] == "trellis":
        state = "met" if info["timing_met"] else "NOT met"
        click.echo(f"timing {state}: nextpnr-ecp5 Fmax {info['fmax_mhz']:.1f} MHz after place and route; "
                   f"bitstream {out / (BOARD_TOP + '.bit')} ({info['bitstream']['bytes']:,} bytes)")
        used = info["resources"] or {}
        brief = ", ".join(f"{k} {v['used']:,}/{v['available']:,}" for k, v in used.items()
                          if k in ("TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "MULT18X18D", "EHXPLLL"))
        click.echo(f"resources: {brief}")
    else:
        click.echo(f"Vivado project written, not run (Vivado is not available here): run `sh build_{BOARD_TOP}.sh` "
                   f"in {out} on a machine with Vivado for the bitstream, timing and resources")


@board.command("run")
@click.argument("net", metavar="NET")
@click.argument("inputs", metavar="INPUTS.npy", type=click.Path(path_type=Path))
@click.option("--port", required=True,
              help="Serial port of the board (/dev/ttyUSB0, COM3), or `sim` for the board core simulated in "
                   "Verilator (UART and protocol included).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Result file to write: predictions, scores, cycles (.npz, exactly this path).")
@click.option("--check", is_flag=True,
              help="Compare predictions and scores with the golden model; exit 1 naming the first difference.")
@click.option("--board", "board_name", type=click.Choice(_board_names()), default="ulx3s-85f", show_default=True,
              help="The board: sets the default baud rate and, with --port sim, the simulated clock.")
@click.option("--baud", type=click.IntRange(min=1), default=None, help="Baud rate (default: the board's).")
@click.option("--clock-mhz", type=float, default=None,
              help="With --port sim: the clock the simulated board is built for (default: the board's).")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=None,
              help="Seconds to wait for each answer (default: 2 s on a port, 120 s in simulation).")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Times a refused or unanswered sample is sent again before giving up.")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Run only the first N samples.")
@click.option("--window", type=click.IntRange(min=1, max=128), default=None,
              help="Samples in flight, unanswered (default: the board's window, INFO; 1: one at a time).")
@build_options
@click.option("--hardware", "hardware", type=click.Path(path_type=Path), default=None,
              help="A loadable board build (snnhw board build --loadable --out DIR): the board must hold NET (snnhw "
                   "board load); with --port sim the simulated board is DIR's design, holding the network that "
                   "snnhw board load --port sim loaded last (else the build's own).")
def run_cmd(net: str, inputs: Path, port: str, out: Path, check: bool, board_name: str, baud: int | None,
            clock_mhz: float | None, timeout: float | None, retries: int, limit: int | None, window: int | None,
            build_file: Path | None, lanes: int | None, cores: int | None, hardware: Path | None) -> None:
    """Stream INPUTS.npy through the board that holds NET and write the results.

    The board is asked for its network's content hash first and refused if it
    holds another network. Each sample goes out as one frame (its values packed
    in their bits) and comes back as its prediction, scores and the
    accelerator's cycle count; up to the board's window of samples are in
    flight at once. A sample the board refuses or does not answer in time is
    sent again and counted. The result file holds `predictions` (int64 N),
    `scores` (int64 N × outputs) and `cycles` (int64 N). With --port sim the
    link's throughput is also given in simulated time, against the bound of
    the frame sizes. --build, --lanes and --cores matter with --port sim only.
    """
    from snnhw.board.runtime import BoardLink, BoardRun, frame_bound, open_port, run_samples, write_results
    from snnhw.boards import get_board

    network = resolve_network(net)
    writable(out)
    x = load_inputs(inputs, network)
    if limit is not None:
        x = x[:limit]
    spec = get_board(board_name)
    baud = spec.default_baud if baud is None else baud

    hw = None
    if hardware is not None:
        from snnhw.program import load_hardware

        if build_file is not None or lanes is not None or cores is not None:
            raise InputError("the board build in --hardware fixes the build; drop --build, --lanes and --cores",
                             key="--hardware", value=str(hardware))
        hw = load_hardware(hardware)

    def stream(port_name: str, wait: float, held: Network | None = None) -> BoardRun:
        link = BoardLink(open_port(port_name, baud), timeout=wait, retries=retries, port=port_name)
        try:
            if held is not None and hw is not None:  # the simulated board gets the network it held last time
                from snnhw.board.runtime import load_network

                load_network(held, hw.network, hw.build, link)
            return with_progress(lambda progress: run_samples(network, x, link, window=window, progress=progress),
                                 len(x), "board")
        finally:
            link.link.close()

    timing = None
    if port == "sim":
        from snnhw.board.build import clock_hz_of
        from snnhw.board.simlink import SimulatedBoard, simulated_load

        design, build = ((hw.network, hw.build) if hw is not None
                         else (network, resolve_build_option(network, build_file,
                                                             spec.default_lanes_for(build_file, lanes, cores), cores)))
        clock_hz = clock_hz_of(clock_mhz, spec.default_clock_hz)
        held = simulated_load(hw.directory) if hw is not None else None
        if held is not None:
            click.echo(f"the simulated board of {hardware} holds {held.name} (loaded by snnhw board load --port sim)")
        simulated = SimulatedBoard(design, build, clock_hz=clock_hz, baud=baud)
        with simulated as pty:
            run = stream(pty, timeout or 120.0, held)
        timing = simulated.timing
    else:
        run = stream(port, timeout or 2.0)
    write_results(out, run)
    info = run.info
    n = len(x)
    mean = float(np.mean(run.cycles)) if n else 0.0
    where = "the simulated board" if port == "sim" else port
    click.echo(f"{n} samples through {network.name} on {where} → {out}")
    bound = frame_bound(network, baud)
    click.echo(f"link: {run.images_per_s:.1f} images/s at {baud} baud, wall clock ({run.seconds:.2f} s; the frames "
               f"allow at most {bound:.1f} images/s); {run.resends} resends"
               + (f" ({', '.join(f'{k}: {v}' for k, v in run.naks.items())})" if run.naks else ""))
    if port == "sim" and timing is not None:
        click.echo(f"simulated link: {timing.images_per_s:.1f} images/s in simulated time at {baud} baud and "
                   f"{timing.clock_hz / 1e6:g} MHz ({timing.samples} results in {timing.seconds * 1e3:.2f} ms; "
                   f"{100 * timing.images_per_s / bound:.1f} % of the frames' bound)")
    if n:
        micro = mean / info.clock_hz * 1e6
        click.echo(f"accelerator: {mean:,.1f} cycles per image on average ({micro:.2f} µs at "
                   f"{info.clock_hz / 1e6:g} MHz, the board's clock)")
    if check:
        from snnhw.model.golden import simulate

        golden = simulate(network, x)
        for k in range(n):
            if run.predictions[k] != golden.predictions[k] or not np.array_equal(run.scores[k], golden.scores[k]):
                diff = np.flatnonzero(run.scores[k] != golden.scores[k])
                what = (f"score {diff[0]} is {run.scores[k][diff[0]]} on the board, {golden.scores[k][diff[0]]} in the "
                        "golden model" if diff.size else
                        f"prediction is {run.predictions[k]} on the board, {golden.predictions[k]} in the golden model")
                click.echo(f"check: sample {k}: {what}", err=True)
                sys.exit(1)
        click.echo(f"check: predictions and scores of all {n} samples equal the golden model's")


@board.command("load")
@click.argument("net", metavar="NET")
@click.option("--port", required=True,
              help="Serial port of the board (/dev/ttyUSB0, COM3), or `sim` for the simulated board of DIR.")
@click.option("--hardware", "hardware", required=True, type=click.Path(path_type=Path),
              help="The board's build directory (snnhw board build --loadable --out DIR).")
@click.option("--board", "board_name", type=click.Choice(_board_names()), default="ulx3s-85f", show_default=True,
              help="The board: sets the default baud rate.")
@click.option("--baud", type=click.IntRange(min=1), default=None, help="Baud rate (default: the board's).")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=2.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Times a refused or unanswered frame is sent again, and a refused load sent again whole.")
def load_cmd(net: str, port: str, hardware: Path, board_name: str, baud: int | None, timeout: float,
             retries: int) -> None:
    """Load NET into a running loadable board over its serial port, without a rebuild.

    NET's load image (snnhw pack) goes out in CONFIG frames, each checked by
    its CRC-16 on the board and by the accelerator's CRC-32, and each answered
    with the accelerator's configuration status; a refused frame is sent
    again, a load the accelerator counted as bad is sent again whole, and the
    command ends when the board reports NET's identifier committed. A network
    that does not fit is refused in one line (exit 2).

    --port sim loads NET into DIR's design on the simulated board core
    (Verilator, UART and protocol included) and keeps what the board holds in
    DIR/sim-loaded.npz, so that a later snnhw board run --port sim --hardware
    DIR finds NET loaded, as a real board would.
    """
    from snnhw.board.runtime import BoardLink, load_network, open_port
    from snnhw.boards import get_board
    from snnhw.program import check_fits, load_hardware

    network = resolve_network(net)
    hw = load_hardware(hardware)
    check_fits(network, hw.network, hw.build, source=net)
    spec = get_board(board_name)
    baud = spec.default_baud if baud is None else baud

    def load(port_name: str, wait: float) -> tuple[Any, int]:
        link = BoardLink(open_port(port_name, baud), timeout=wait, retries=retries, port=port_name)
        try:
            return load_network(network, hw.network, hw.build, link), link.resends
        finally:
            link.link.close()

    if port == "sim":
        from snnhw.board.build import clock_hz_of
        from snnhw.board.simlink import SimulatedBoard, keep_simulated_load

        with SimulatedBoard(hw.network, hw.build, clock_hz=clock_hz_of(None, spec.default_clock_hz), baud=baud) as pty:
            report, resends = load(pty, max(timeout, 120.0))
        keep_simulated_load(hw.directory, network)
        where = f"the simulated board of {hardware}"
    else:
        report, resends = load(port, timeout)
        where = f"the board on {port}"
    click.echo(f"loaded {network.name} into {where}: {report.frames} frames, {report.words} words in "
               f"{report.seconds:.2f} s ({report.attempts} attempt(s), {resends} resends); committed "
               f"{report.status.ident:016x}")


@board.command("program")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--flash", is_flag=True, help="Write the configuration flash (persistent) instead of the SRAM.")
@click.option("--cable", default=None, help="openFPGALoader cable (-c), when the board's default is not right.")
@click.option("--dry-run", is_flag=True, help="Print the openFPGALoader command instead of running it.")
def program_cmd(directory: Path, flash: bool, cable: str | None, dry_run: bool) -> None:
    """Load the bitstream that `board build` wrote into DIR onto the board (openFPGALoader).

    openFPGALoader is a Debian package (`apt-get install openfpgaloader`; make
    setup installs it as root). zcu104 bitstreams come from Vivado, which also
    programs them (its hardware manager): this command refuses them.
    """
    from snnhw.board.build import BOARD_TOP
    from snnhw.boards import get_board

    meta = directory / "board.json"
    try:
        info = json.loads(meta.read_text())
        spec = get_board(str(info["board"]))
    except FileNotFoundError:
        raise InputError("no board.json: run `snnhw board build` into this directory first", source=str(meta)) from None
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"not a board.json of snnhw board build ({err})", source=str(meta)) from None
    if spec.toolchain != "trellis":
        raise BoardError(f"{spec.name} bitstreams are built and programmed by Vivado (run build_{BOARD_TOP}.sh, then "
                         "its hardware manager); snnhw board program drives openFPGALoader for ECP5 boards",
                         key="board", source=str(meta), value=spec.name)
    bit = directory / f"{BOARD_TOP}.bit"
    if not bit.is_file():
        raise InputError("no bitstream here (did the build fail timing?)", source=str(bit))
    args = spec.program_args(str(bit))
    if flash:
        args = ["-f", *args]
    if cable:
        args = ["-c", cable, *args]
    tool = shutil.which("openFPGALoader")
    if dry_run:
        click.echo(" ".join(["openFPGALoader", *args]))
        return
    if tool is None:
        fail("openFPGALoader not found; install it (apt-get install openfpgaloader; make setup does as root)")
        return
    code = subprocess.call([tool, *args])
    if code != 0:
        fail(f"openFPGALoader failed with status {code}")
    click.echo(f"programmed {spec.name} with {bit}" + (" (flash)" if flash else ""))
