"""The host protocol of a board: framed messages over a byte link (a UART).

Every message, in both directions, is one frame::

    0x5A | type | len (u16 LE) | payload (len bytes) | crc (u16 LE)

The CRC is CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no
reflection, no final XOR) over ``type``, ``len`` and ``payload``. All
integers are little-endian. ``docs/boards.md`` is the reference; this module
is the host's implementation and :mod:`snnhw.board.hostif` the board's.

Host to board:

* ``STATUS`` (0x01), no payload: asks for the board's :class:`BoardInfo`.
* ``SAMPLE`` (0x02): ``seq`` (u8), then the sample's ``size`` input values packed: value ``k``'s
  ``bits`` bits, least significant first, are bits ``k · bits`` … of the payload's bit stream, bit
  ``j`` of which is bit ``j % 8`` of byte ``j // 8``; ``ceil(size · bits / 8)`` bytes, the last
  one's unused bits 0. The host may send up to ``window`` (``INFO``) samples before their results.
* ``CONFIG`` (0x03), loadable boards: ``seq`` (u8), then the words of one frame of the
  accelerator's configuration stream (u32 each; at most ``config_words`` of them, see ``INFO``),
  which the board feeds to ``s_axis_config`` once the frame's CRC has matched; no words: a
  status request. Answered by ``LOADED``.

Board to host:

* ``INFO`` (0x81): :class:`BoardInfo` (:data:`INFO_BYTES` bytes).
* ``RESULT`` (0x82): ``seq`` (u8), the scores (``output_size`` signed values of
  ``result_bytes`` bytes), the prediction (``result_bytes`` bytes) and the
  cycles the accelerator took for the sample (u32).
* ``NAK`` (0x83): ``seq`` (u8; 0xFF where it was not received) and a reason
  code (u8, :data:`NAK_REASONS`). A frame that is refused is never processed,
  not even in part.
* ``LOADED`` (0x84): ``seq`` (u8), then the accelerator's configuration status after the
  ``CONFIG`` frame's words went in (:class:`LoadStatus`): committed (u8), the committed
  network's identifier (u64), CRC errors, errors and refused loads (u32 each).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

__all__ = [
    "INFO_BYTES", "LOADED_BYTES", "NAK_REASONS", "PROTOCOL_VERSION", "SYNC", "BoardInfo", "Frame", "FrameDecoder",
    "LoadStatus", "Result", "crc16", "decode_result", "encode_config", "encode_frame", "encode_sample",
    "pack_values", "result_payload_bytes", "sample_payload_bytes", "unpack_values",
]

#: First byte of every frame.
SYNC = 0x5A
#: Version of this protocol, the first byte of ``INFO`` (2: ``CONFIG``/``LOADED`` and ``INFO.config_words``;
#: 3: packed samples, several in flight, ``INFO.window``).
PROTOCOL_VERSION = 3

T_STATUS = 0x01
T_SAMPLE = 0x02
T_CONFIG = 0x03
T_INFO = 0x81
T_RESULT = 0x82
T_NAK = 0x83
T_LOADED = 0x84

#: NAK reason codes.
NAK_REASONS = {
    1: "CRC mismatch",
    2: "length does not match the frame type",
    3: "unknown frame type",
    4: "frame truncated (the line went idle mid-frame)",
    5: "busy: no free sample slot, or a load in progress",
}
NAK_CRC, NAK_LENGTH, NAK_TYPE, NAK_TRUNCATED, NAK_BUSY = 1, 2, 3, 4, 5

_INFO = struct.Struct("<B32s32sHBBHBIIH")
#: Payload bytes of an ``INFO`` frame.
INFO_BYTES = _INFO.size
_LOADED = struct.Struct("<BBQIII")
#: Payload bytes of a ``LOADED`` frame.
LOADED_BYTES = _LOADED.size


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (check value of ``b"123456789"``: 0x29B1)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    """One frame of type ``kind`` carrying ``payload``."""
    if len(payload) > 0xFFFF:
        raise ValueError(f"a frame carries at most 65535 payload bytes, got {len(payload)}")
    body = bytes([kind]) + struct.pack("<H", len(payload)) + payload
    return bytes([SYNC]) + body + struct.pack("<H", crc16(body))


@dataclass(frozen=True)
class Frame:
    """A frame received intact."""

    kind: int
    payload: bytes


class FrameDecoder:
    """Incremental frame parser: feed bytes, collect :class:`Frame` objects.

    Bytes before a ``SYNC`` are skipped and counted in ``skipped``; a frame whose
    CRC fails is counted in ``bad_crc`` and the search restarts one byte after its
    ``SYNC``, so a damaged frame never hides the next one.
    """

    def __init__(self, max_payload: int = 0xFFFF) -> None:
        self.buffer = bytearray()
        self.max_payload = max_payload
        self.skipped = 0
        self.bad_crc = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:
                self.skipped += len(self.buffer)
                self.buffer.clear()
                return frames
            if start:
                self.skipped += start
                del self.buffer[:start]
            if len(self.buffer) < 4:
                return frames
            length = int.from_bytes(self.buffer[2:4], "little")
            if length > self.max_payload:
                self.skipped += 1
                del self.buffer[:1]
                continue
            if len(self.buffer) < 6 + length:
                return frames
            body = bytes(self.buffer[1:4 + length])
            crc = int.from_bytes(self.buffer[4 + length:6 + length], "little")
            if crc16(body) != crc:
                self.bad_crc += 1
                del self.buffer[:1]
                continue
            frames.append(Frame(body[0], body[3:]))
            del self.buffer[:6 + length]


@dataclass(frozen=True)
class BoardInfo:
    """What a board says about itself in an ``INFO`` frame."""

    version: int
    network_sha256: str
    build_sha256: str
    input_size: int
    input_bits: int
    window: int  # samples the host may have unanswered without being refused busy
    output_size: int
    result_bytes: int
    clock_hz: int
    baud: int
    config_words: int = 0  # words a CONFIG frame may carry: 0 for a fixed design

    def pack(self) -> bytes:
        return _INFO.pack(self.version, bytes.fromhex(self.network_sha256), bytes.fromhex(self.build_sha256),
                          self.input_size, self.input_bits, self.window, self.output_size, self.result_bytes,
                          self.clock_hz, self.baud, self.config_words)

    @classmethod
    def unpack(cls, payload: bytes) -> BoardInfo:
        if len(payload) != INFO_BYTES:
            raise ValueError(f"an INFO payload has {INFO_BYTES} bytes, got {len(payload)}")
        v, net, bld, size, bits, window, out, rb, clk, baud, words = _INFO.unpack(payload)
        return cls(v, net.hex(), bld.hex(), size, bits, window, out, rb, clk, baud, words)


@dataclass(frozen=True)
class LoadStatus:
    """A decoded ``LOADED`` frame: the accelerator's configuration status."""

    seq: int
    committed: bool
    ident: int
    crc_errors: int
    errors: int
    refused: int

    def pack(self) -> bytes:
        return _LOADED.pack(self.seq, int(self.committed), self.ident, self.crc_errors, self.errors, self.refused)

    @classmethod
    def unpack(cls, payload: bytes) -> LoadStatus:
        if len(payload) != LOADED_BYTES:
            raise ValueError(f"a LOADED payload has {LOADED_BYTES} bytes, got {len(payload)}")
        seq, committed, ident, crc, err, ref = _LOADED.unpack(payload)
        return cls(seq, bool(committed), ident, crc, err, ref)


def encode_config(seq: int, words: list[int]) -> bytes:
    """The ``CONFIG`` frame carrying one configuration frame's ``words`` (none: a status request)."""
    return encode_frame(T_CONFIG, bytes([seq & 0xFF]) + struct.pack(f"<{len(words)}I", *words))


def sample_payload_bytes(input_size: int, bits: int) -> int:
    """Payload bytes of a ``SAMPLE`` frame: ``seq`` and the packed values."""
    return 1 + (input_size * bits + 7) // 8


def pack_values(sample: np.ndarray, bits: int) -> bytes:
    """The packed values of one sample (see ``SAMPLE``)."""
    values = np.asarray(sample, dtype=np.int64).reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= 1 << bits):
        raise ValueError(f"input values must lie in [0, {1 << bits}), got {values.min()}..{values.max()}")
    stream = ((values[:, None] >> np.arange(bits)) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(stream, bitorder="little").tobytes()


def unpack_values(data: bytes, size: int, bits: int) -> np.ndarray:
    """The ``size`` values packed in ``data`` (the inverse of :func:`pack_values`)."""
    stream = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")[:size * bits]
    return (stream.reshape(size, bits).astype(np.int64) << np.arange(bits)).sum(axis=1)


def result_payload_bytes(output_size: int, result_bytes: int) -> int:
    """Payload bytes of a ``RESULT`` frame."""
    return 1 + (output_size + 1) * result_bytes + 4


def encode_sample(seq: int, sample: np.ndarray, bits: int) -> bytes:
    """The ``SAMPLE`` frame of one input sample."""
    return encode_frame(T_SAMPLE, bytes([seq & 0xFF]) + pack_values(sample, bits))


@dataclass(frozen=True)
class Result:
    """A decoded ``RESULT`` frame."""

    seq: int
    scores: np.ndarray
    prediction: int
    cycles: int


def decode_result(payload: bytes, output_size: int, result_bytes: int) -> Result:
    """Decode a ``RESULT`` payload (scores are sign-extended from ``result_bytes`` bytes)."""
    if len(payload) != result_payload_bytes(output_size, result_bytes):
        raise ValueError(f"a RESULT payload has {result_payload_bytes(output_size, result_bytes)} bytes, "
                         f"got {len(payload)}")
    rb = result_bytes
    words = [int.from_bytes(payload[1 + k * rb:1 + (k + 1) * rb], "little", signed=True)
             for k in range(output_size + 1)]
    cycles = int.from_bytes(payload[-4:], "little")
    return Result(payload[0], np.array(words[:-1], dtype=np.int64), int(words[-1]) & ((1 << (8 * rb)) - 1), cycles)
