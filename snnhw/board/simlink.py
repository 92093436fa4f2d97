"""The board core in Verilator through cocotb, behind a pseudo-terminal (``--port sim``).

:class:`SimulatedBoard` builds the :class:`~snnhw.board.core.BoardCore` of a
network (UART and protocol included; only a board's PLL and I/O buffers are
left out, which have no simulation models) as Verilog, runs it in Verilator
through cocotb (``snnhw.sim.board_bench``) and hands back the name of a
pseudo-terminal that behaves like the board's USB serial port. When it stops,
:attr:`SimulatedBoard.timing` holds the link's throughput in simulated time
(:class:`LinkTiming`): the figure a board at that clock and baud rate would
reach, which the wall-clock rate of a simulation is not.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from amaranth.back import verilog

from snnhw.board.core import BoardCore, uart_divisor
from snnhw.errors import BoardError
from snnhw.ir import Network
from snnhw.rtl.build import Build

__all__ = ["SIM_LOADED", "SIM_TOP", "LinkTiming", "SimulatedBoard", "board_verilog", "keep_simulated_load",
           "simulated_load"]

log = logging.getLogger(__name__)

#: Name of the simulated board module.
SIM_TOP = "snnhw_board"
#: The file in a loadable board build that keeps what its simulated board holds (``board load --port sim``).
SIM_LOADED = "sim-loaded.npz"


def keep_simulated_load(directory: Path, network: Network) -> None:
    """Record that the simulated board of the build in ``directory`` now holds ``network``: a simulation
    lives for one command, so the next ``board run --port sim`` loads it again before anything else."""
    network.save(Path(directory) / SIM_LOADED)


def simulated_load(directory: Path) -> Network | None:
    """The network that ``board load --port sim`` last loaded into the build in ``directory`` (None: the
    build's own)."""
    from snnhw.netfile import load_network

    path = Path(directory) / SIM_LOADED
    return load_network(path) if path.is_file() else None


@dataclass(frozen=True)
class LinkTiming:
    """The samples of a simulated run, timed on the simulated line."""

    samples: int  # RESULT frames the board sent
    cycles: int  # from the first SAMPLE frame's first bit to the last RESULT frame's last bit
    clock_hz: int

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def images_per_s(self) -> float:
        return self.samples / self.seconds if self.cycles else float("nan")


def link_timing(frames: dict[str, list[list[int]]], clock_hz: int) -> LinkTiming | None:
    """:class:`LinkTiming` from the bench's frame times (None: no sample was answered)."""
    from snnhw.board.protocol import T_RESULT, T_SAMPLE

    starts = [cycle for kind, cycle in frames.get("to_board", []) if kind == T_SAMPLE]
    ends = [cycle for kind, cycle in frames.get("from_board", []) if kind == T_RESULT]
    if not starts or not ends:
        return None
    return LinkTiming(len(ends), max(ends) - min(starts), clock_hz)


def board_verilog(network: Network, build: Build, *, clock_hz: int, baud: int) -> str:
    """Verilog of the board core (module :data:`SIM_TOP`)."""
    core = BoardCore(network, build, clock_hz=clock_hz, baud=baud)
    return verilog.convert(core, name=SIM_TOP, emit_src=False, strip_internal_attrs=True)


class SimulatedBoard:
    """A context manager: ``with SimulatedBoard(net, build, ...) as port:`` gives a serial port name."""

    def __init__(self, network: Network, build: Build, *, clock_hz: int, baud: int, start_timeout: float = 900.0) -> None:
        self.network, self.build = network, build
        self.clock_hz, self.baud = clock_hz, baud
        self.start_timeout = start_timeout
        self.work: Path | None = None
        self.thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.timing: LinkTiming | None = None

    def __enter__(self) -> str:
        from snnhw.sim.runner import _build, simulator_available

        missing = simulator_available("verilator")
        if missing:
            raise BoardError(missing, key="--port", value="sim")
        text = board_verilog(self.network, self.build, clock_hz=self.clock_hz, baud=self.baud)
        divisor = uart_divisor(self.clock_hz, self.baud)
        log.info("building the simulated board (Verilator)")
        runner, build_dir = _build("verilator", text, toplevel=SIM_TOP)
        self.work = work = Path(tempfile.mkdtemp(prefix="snnhw-board-"))

        def simulate() -> None:
            try:
                runner.test(test_module="snnhw.sim.board_bench", hdl_toplevel=SIM_TOP, build_dir=build_dir,  # type: ignore[attr-defined]
                            test_dir=work, log_file=work / "sim.log",
                            extra_env={"SNNHW_BOARD_DIR": str(work), "SNNHW_BOARD_DIVISOR": str(divisor)})
            except BaseException as err:
                self.failure = err

        self.thread = threading.Thread(target=simulate, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        port = work / "port"
        while not port.exists():
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self._stop()
                why = f" ({self.failure})" if self.failure is not None else ""
                raise BoardError(f"the simulated board did not start{why}", key="--port", value="sim")
            time.sleep(0.05)
        return port.read_text().strip()

    def _stop(self) -> None:
        if self.work is not None:
            (self.work / "stop").write_text("")
        if self.thread is not None:
            self.thread.join(120)
        if self.work is not None:
            frames = self.work / "frames.json"
            if frames.is_file():
                self.timing = link_timing(json.loads(frames.read_text()), self.clock_hz)
            shutil.rmtree(self.work, ignore_errors=True)

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()
