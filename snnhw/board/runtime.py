"""The host runtime: stream samples through a board over a serial port and collect its results.

:class:`BoardLink` speaks the protocol of :mod:`snnhw.board.protocol` over any
pyserial port (a USB serial adapter, a pseudo-terminal, the simulated board of
:mod:`snnhw.board.simlink`). Samples go out in a window: up to ``INFO.window``
of them unanswered at a time, each with its sequence number, so the line to
the board never waits for a result. A sample the board refuses (``NAK`` with
its ``seq``) is sent again as soon as the window has room; when no frame at all
arrives for ``timeout`` seconds, the oldest unanswered sample is sent again. A
sample is given up after ``retries`` resends, and every resend is counted.

The result file of :func:`write_results` holds ``predictions`` (``int64 (N,)``),
``scores`` (``int64 (N, size_last)``), exactly as in a trace file, and ``cycles``
(``int64 (N,)``), the accelerator's own cycle count of each sample; no events,
which stay on the chip.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snnhw._io import write_npz
from snnhw.board.protocol import (
    LOADED_BYTES,
    NAK_REASONS,
    T_INFO,
    T_LOADED,
    T_NAK,
    T_RESULT,
    T_STATUS,
    BoardInfo,
    Frame,
    FrameDecoder,
    LoadStatus,
    Result,
    decode_result,
    encode_config,
    encode_frame,
    encode_sample,
    result_payload_bytes,
    sample_payload_bytes,
)
from snnhw.errors import BoardError
from snnhw.ir import Network
from snnhw.rtl.top import result_bits

__all__ = ["BoardLink", "BoardRun", "LoadReport", "check_info", "check_loaded", "frame_bound", "link_seconds",
           "load_network", "open_port", "run_samples", "write_results"]

#: Sequence numbers of samples: 0 … 254 (a NAK carries 0xFF for a frame refused before its ``seq``).
SEQ_COUNT = 255
#: Unanswered samples stay within about half that range of each other.
SEQ_SPAN = 128

log = logging.getLogger(__name__)


def open_port(port: str, baud: int, timeout: float = 0.05) -> Any:
    """Open ``port`` with pyserial (8N1, no flow control)."""
    try:
        import serial
    except ImportError:
        raise BoardError("pyserial is not installed: pip install 'snnhw[board]'", key="--port", value=port) from None
    try:
        link = serial.Serial(port, baudrate=baud, timeout=timeout, write_timeout=5.0)
    except (serial.SerialException, ValueError, OSError) as err:
        raise BoardError(f"cannot open the serial port ({err})", key="--port", value=port) from None
    try:  # Linux: an FTDI bridge's latency timer from 16 ms to 1 ms, so short result frames are not held back
        link.set_low_latency_mode(True)
    except (AttributeError, NotImplementedError, ValueError, OSError):
        log.debug("%s: low-latency mode not available", port)
    return link


class BoardLink:
    """Frames over a serial port ``link`` (anything with ``read(n)``, ``write(b)`` and ``in_waiting``)."""

    def __init__(self, link: Any, *, timeout: float, retries: int = 3, port: str = "") -> None:
        self.link, self.timeout, self.retries, self.port = link, timeout, retries, port
        self.decoder = FrameDecoder()
        self.resends = 0
        self.naks: dict[str, int] = {}
        self.pending: list[Frame] = []

    def _receive(self, kinds: set[int], deadline: float) -> Frame | None:
        while True:
            while self.pending:
                frame = self.pending.pop(0)
                if frame.kind in kinds:
                    return frame
                log.debug("ignoring a frame of type 0x%02x", frame.kind)
            if time.monotonic() > deadline:
                return None
            data = self.link.read(max(1, getattr(self.link, "in_waiting", 0) or 1))
            if data:
                self.pending.extend(self.decoder.feed(data))

    def _exchange(self, frame: bytes, kinds: set[int], what: str, accept: Callable[[Frame], bool]) -> Frame:
        for attempt in range(self.retries + 1):
            if attempt:
                self.resends += 1
            self.link.write(frame)
            deadline = time.monotonic() + self.timeout
            while True:
                got = self._receive(kinds | {T_NAK}, deadline)
                if got is None:
                    log.info("no answer to %s within %.3g s (attempt %d)", what, self.timeout, attempt + 1)
                    break
                if got.kind == T_NAK:
                    reason = NAK_REASONS.get(got.payload[1] if len(got.payload) > 1 else 0, "unknown reason")
                    self.naks[reason] = self.naks.get(reason, 0) + 1
                    log.info("the board refused %s: %s", what, reason)
                    break
                if accept(got):
                    return got
        raise BoardError(f"the board did not answer {what} after {self.retries + 1} attempts of {self.timeout:g} s "
                         "each (is it programmed with this build, and is the baud rate right?)",
                         key="--port", value=self.port)

    def info(self) -> BoardInfo:
        """Ask the board what it holds."""
        frame = self._exchange(encode_frame(T_STATUS), {T_INFO}, "a status request", lambda f: True)
        try:
            return BoardInfo.unpack(frame.payload)
        except ValueError as err:
            raise BoardError(f"the board's status frame is malformed ({err})", key="--port", value=self.port) from None

    def config(self, seq: int, words: list[int]) -> LoadStatus:
        """Send one configuration frame's ``words`` (none: only ask) and return the status after them."""
        got = self._exchange(encode_config(seq, words), {T_LOADED}, f"configuration frame {seq}",
                             lambda f: len(f.payload) == LOADED_BYTES and f.payload[0] == seq & 0xFF)
        return LoadStatus.unpack(got.payload)

    def stream(self, samples: np.ndarray, info: BoardInfo, *, window: int | None = None,
               progress: Callable[[int], None] | None = None) -> list[Result]:
        """Send every sample with up to ``window`` (default ``info.window``) unanswered; return the results
        in sample order."""
        window = max(1, min(info.window if window is None else window, SEQ_SPAN))
        size = result_payload_bytes(info.output_size, info.result_bytes)
        n = len(samples)
        results: list[Result | None] = [None] * n
        frames = [b""] * n
        attempts = [0] * n
        waiting: dict[int, int] = {}  # seq → sample index, sent and unanswered
        again: deque[int] = deque()  # samples to send again
        next_k, done = 0, 0
        quiet_since = time.monotonic()

        def send(k: int) -> None:
            if not frames[k]:
                frames[k] = encode_sample(k % SEQ_COUNT, samples[k], info.input_bits)
            waiting[k % SEQ_COUNT] = k
            self.link.write(frames[k])

        def retry(k: int, why: str) -> None:
            attempts[k] += 1
            self.resends += 1
            if attempts[k] > self.retries:
                raise BoardError(f"sample {k} was not answered after {self.retries + 1} attempts (last: {why}); is the "
                                 "board programmed with this build, and is the baud rate right?", key="--port",
                                 value=self.port)
            log.info("sample %d: %s; sending it again", k, why)
            again.append(k)

        while done < n:
            oldest = min(waiting.values(), default=next_k)
            while len(waiting) < window:
                if again:
                    send(again.popleft())
                elif next_k < n and next_k - min(oldest, next_k) < SEQ_SPAN:
                    send(next_k)
                    next_k += 1
                else:
                    break
            data = self.link.read(max(1, getattr(self.link, "in_waiting", 0) or 1))
            got = self.decoder.feed(data) if data else []
            if got:
                quiet_since = time.monotonic()
            for frame in got:
                seq = frame.payload[0] if frame.payload else None
                if frame.kind == T_RESULT and len(frame.payload) == size and seq in waiting:
                    k = waiting.pop(seq)
                    results[k] = decode_result(frame.payload, info.output_size, info.result_bytes)
                    done += 1
                    if progress is not None:
                        progress(1)
                elif frame.kind == T_NAK:
                    reason = NAK_REASONS.get(frame.payload[1] if len(frame.payload) > 1 else 0, "unknown reason")
                    self.naks[reason] = self.naks.get(reason, 0) + 1
                    if seq in waiting:
                        retry(waiting.pop(seq), f"refused: {reason}")
                    else:
                        log.info("the board refused a frame: %s", reason)
                else:
                    log.debug("ignoring a frame of type 0x%02x", frame.kind)
            if waiting and time.monotonic() - quiet_since > self.timeout:
                k = min(waiting.values())
                del waiting[k % SEQ_COUNT]
                retry(k, f"no answer within {self.timeout:g} s")
                quiet_since = time.monotonic()
        return [r for r in results if r is not None]


def check_info(info: BoardInfo, network: Network, port: str) -> None:
    """Refuse a board that holds another network (or speaks another layout)."""
    if info.network_sha256 != network.content_hash():
        raise BoardError(f"the board holds network {info.network_sha256[:12]}…, not {network.name!r} "
                         f"({network.content_hash()[:12]}…); build and program the board for this network",
                         key="--port", value=port)
    expect = (network.input.size, network.input.bits, network.output_size, result_bits(network) // 8)
    have = (info.input_size, info.input_bits, info.output_size, info.result_bytes)
    if expect != have:
        raise BoardError(f"the board's layout {have} differs from the network's {expect}", key="--port", value=port)


@dataclass
class LoadReport:
    """What :func:`load_network` did."""

    frames: int
    words: int
    seconds: float
    attempts: int
    status: LoadStatus


def load_network(network: Network, design: Network, build: Any, link: BoardLink, *,
                 progress: Callable[[int], None] | None = None) -> LoadReport:
    """Load ``network`` into a loadable board whose design is ``design`` under ``build``: its load image in
    ``CONFIG`` frames (each resent on a NAK or a lost answer). A load whose frames the accelerator
    counted as bad (CRC or malformed) is sent again whole, up to ``link.retries`` times; it ends when the
    board reports ``network``'s identifier committed."""
    from snnhw.program import load_frames
    from snnhw.rtl.loader import network_id

    info = link.info()
    if not info.config_words:
        raise BoardError("the board's design is not loadable (build it with --loadable)", key="--port",
                         value=link.port)
    frames = load_frames(network, design, build, max_frame_words=info.config_words)
    want = network_id(network)
    start = time.perf_counter()
    status = link.config(0, [])
    for attempt in range(link.retries + 1):
        before = status
        for k, words in enumerate(frames):
            status = link.config((k + 1) & 0xFF, words)
            if progress is not None:
                progress(1)
            counts = (status.crc_errors, status.errors, status.refused)
            if counts != (before.crc_errors, before.errors, before.refused):  # a frame was refused: start again
                break
        if status.committed and status.ident == want:
            return LoadReport(len(frames), sum(len(f) for f in frames), time.perf_counter() - start, attempt + 1, status)
        log.info("load attempt %d not committed (%s); sending the image again", attempt + 1, status)
        link.resends += 1
    raise BoardError(f"the board did not commit {network.name!r} after {link.retries + 1} attempts (last status: "
                     f"CRC errors {status.crc_errors}, errors {status.errors}, refused {status.refused})",
                     key="--port", value=link.port)


def check_loaded(network: Network, link: BoardLink) -> LoadStatus:
    """Refuse a loadable board that has not committed ``network``."""
    from snnhw.rtl.loader import network_id

    status = link.config(0, [])
    if not status.committed or status.ident != network_id(network):
        held = f"network {status.ident:016x}" if status.committed else "no committed network"
        raise BoardError(f"the board holds {held}, not {network.name!r} ({network_id(network):016x}); load it with "
                         "snnhw board load", key="--port", value=link.port)
    return status


@dataclass
class BoardRun:
    """What :func:`run_samples` measured."""

    predictions: np.ndarray
    scores: np.ndarray
    cycles: np.ndarray
    info: BoardInfo
    seconds: float
    resends: int
    naks: dict[str, int]

    @property
    def images_per_s(self) -> float:
        return len(self.predictions) / self.seconds if self.seconds > 0 else float("nan")


def link_seconds(network: Network, baud: int) -> float:
    """Seconds per sample that the frames alone take on a full-duplex 8N1 link at ``baud`` (10 bits per byte):
    the longer of a SAMPLE frame (to the board) and a RESULT frame (back), which travel at the same time."""
    up = 6 + sample_payload_bytes(network.input.size, network.input.bits)
    down = 6 + result_payload_bytes(network.output_size, result_bits(network) // 8)
    return 10 * max(up, down) / baud


def frame_bound(network: Network, baud: int) -> float:
    """Images per second that the frame sizes allow at ``baud`` (:func:`link_seconds`)."""
    return 1.0 / link_seconds(network, baud)


def run_samples(network: Network, inputs: np.ndarray, link: BoardLink, *, window: int | None = None,
                progress: Callable[[int], None] | None = None) -> BoardRun:
    """Check the board's network, then stream every sample of ``inputs`` through it, with up to ``window``
    (default: the board's) unanswered. On a loadable board the committed identifier is checked, and samples
    of a network with fewer inputs than the design are padded with zero values."""
    info = link.info()
    if info.config_words:
        check_loaded(network, link)
        if (network.input.bits, network.output_size) != (info.input_bits, info.output_size) or \
                network.input.size > info.input_size:
            raise BoardError(f"the board's layout ({info.input_size} inputs of {info.input_bits} bits, "
                             f"{info.output_size} outputs) does not take {network.name!r}", key="--port",
                             value=link.port)
        padded = np.zeros((len(inputs), info.input_size), dtype=np.int64)
        padded[:, :network.input.size] = np.asarray(inputs).reshape(len(inputs), -1)
        inputs = padded
    else:
        check_info(info, network, link.port)
    n = len(inputs)
    preds = np.zeros(n, dtype=np.int64)
    scores = np.zeros((n, network.output_size), dtype=np.int64)
    cycles = np.zeros(n, dtype=np.int64)
    start = time.perf_counter()
    for k, res in enumerate(link.stream(np.asarray(inputs), info, window=window, progress=progress)):
        preds[k], scores[k], cycles[k] = res.prediction, res.scores, res.cycles
    return BoardRun(preds, scores, cycles, info, time.perf_counter() - start, link.resends, dict(link.naks))


def write_results(path: str | Path, run: BoardRun) -> None:
    """Write the result file (atomically)."""
    write_npz(path, {"predictions": run.predictions, "scores": run.scores, "cycles": run.cycles})
