"""Load images: the configuration frames that load a network into a loadable design.

An image is BEGIN, one or more WRITE frames per target (at most :data:`WRITE_WORDS` memory words
each), and COMMIT with the network's identifier (:mod:`snnhw.rtl.loader` has the frame format).

An image file (``snnhw pack``) is little-endian: the 8 bytes ``SNNHWIMG``, a ``uint32`` format
version (1), a ``uint32`` frame count, then each frame as a ``uint32`` word count and its 32-bit
words (the last is the frame's CRC, sent with ``tlast``).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from snnhw._io import atomic_write_bytes
from snnhw.errors import CapacityError, InputError
from snnhw.ir import LayerKind, Network
from snnhw.program.capacity import check_fits, embed
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.encoder import column_bits, entry_words, pixels_per_word, row_mask_words, row_starts, sparse_entries
from snnhw.rtl.loader import HASH_WORDS, MAGIC, FrameType, config_targets, crc32_words, network_id, param_words
from snnhw.rtl.memories import pack_lanes, row_values, weight_rows

__all__ = ["IMAGE_MAGIC", "WRITE_WORDS", "boot_frames", "frame", "load_frames", "memory_images", "read_image", "write_image"]

#: The first bytes of an image file.
IMAGE_MAGIC = b"SNNHWIMG"
#: Memory words per WRITE frame at most.
WRITE_WORDS = 256


def frame(kind: FrameType, target: int, body: list[int]) -> list[int]:
    """One frame: header, ``body`` and its CRC."""
    words = [(MAGIC << 24) | (int(kind) << 16) | target, *[int(w) & 0xFFFFFFFF for w in body]]
    return [*words, crc32_words(words)]


def memory_images(padded: Network, build: Build) -> dict[int, list[int]]:
    """The words of every target (by index) that hold ``padded``, a network of the design's shape."""
    out: dict[int, list[int]] = {}
    targets = {(t.layer, t.core, t.memory): t.index for t in config_targets(padded, build)}
    out[0] = param_words(padded)
    ppw = pixels_per_word(padded.input.bits, build.pixels_per_beat)
    for i, layer in enumerate(padded.layers):
        lb = build.layers[i]
        for c, (lo, hi) in enumerate(core_slices(layer.size, lb.cores)):
            lanes = min(lb.lanes, hi - lo)
            P, W = layer.potential_bits, layer.weight_bits
            if layer.has_bias:
                assert layer.bias is not None
                out[targets[(i, c, "bmem")]] = [pack_lanes(row, P) for row in row_values(layer.bias, lo, hi, lanes)]
            if layer.kind is LayerKind.ENCODER:
                entries = sparse_entries(layer.weight, lo, hi, lanes)
                out[targets[(i, c, "emem")]] = entry_words(entries, lanes, column_bits(layer.n_in, ppw), W, ppw)
                out[targets[(i, c, "starts")]] = row_starts(entries) + [len(entries)] * 2
                out[targets[(i, c, "rmask")]] = row_mask_words(layer.weight, lo, hi, lanes, ppw)
            else:
                out[targets[(i, c, "wmem")]] = weight_rows(layer.weight, lo, hi, lanes, W)
    return out


def boot_frames(network: Network, build: Build) -> list[list[int]]:
    """The configuration the design of ``network`` under ``build`` needs before its first sample: none
    for a fixed or preloaded design; for an empty loadable design (an ASIC's), ``network``'s load image."""
    if build.load is None or build.load.preloaded:
        return []
    return load_frames(network, network, build)


def load_frames(network: Network, design: Network, build: Build, *, source: str | None = None,
                max_frame_words: int | None = None) -> list[list[int]]:
    """The frames that load ``network`` into the loadable design of ``design`` under ``build``
    (``max_frame_words``: no frame longer, as a board's configuration buffer asks).

    Raises
    ------
    CapacityError
        When ``network`` does not fit (the message names the first limit it exceeds).
    """
    check_fits(network, design, build, source=source)
    padded = embed(network, design)
    widths = {t.index: t for t in config_targets(design, build)}
    frames = [frame(FrameType.BEGIN, 0, [])]
    for index, words in memory_images(padded, build).items():
        wpe = widths[index].words_per_entry
        per = WRITE_WORDS if max_frame_words is None else min(WRITE_WORDS, (max_frame_words - 4) // wpe)
        if per < 1:
            raise CapacityError(f"a frame of {max_frame_words} words cannot carry one word of target "
                                f"{widths[index].name} ({wpe} words)", key="config_words", value=max_frame_words)
        for start in range(0, len(words), per):
            chunk = words[start:start + per]
            body = [start, len(chunk)]
            for value in chunk:
                body += [(int(value) >> (32 * k)) & 0xFFFFFFFF for k in range(wpe)]
            frames.append(frame(FrameType.WRITE, index, body))
    ident = network_id(network)
    frames.append(frame(FrameType.COMMIT, 0, [(ident >> (32 * k)) & 0xFFFFFFFF for k in range(HASH_WORDS)]))
    return frames


def write_image(path: str | os.PathLike[str], frames: list[list[int]]) -> None:
    """Write ``frames`` as an image file (atomically)."""
    parts = [IMAGE_MAGIC, struct.pack("<II", 1, len(frames))]
    for words in frames:
        parts.append(struct.pack(f"<I{len(words)}I", len(words), *words))
    atomic_write_bytes(Path(path), b"".join(parts))


def read_image(path: str | os.PathLike[str]) -> list[list[int]]:
    """Read an image file's frames (each checked against its CRC)."""
    source = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"cannot read the image ({err.strerror})", source=source) from None
    if raw[:8] != IMAGE_MAGIC or len(raw) < 16:
        raise InputError("is not an snnhw load image (no SNNHWIMG header)", source=source)
    version, count = struct.unpack_from("<II", raw, 8)
    if version != 1:
        raise InputError("unknown image format version", source=source, value=version)
    pos, frames = 16, []
    for k in range(count):
        if pos + 4 > len(raw):
            raise InputError(f"ends inside frame {k}", source=source)
        (n,) = struct.unpack_from("<I", raw, pos)
        if n < 2 or pos + 4 + 4 * n > len(raw):
            raise InputError(f"frame {k} is truncated", source=source, value=n)
        words = list(struct.unpack_from(f"<{n}I", raw, pos + 4))
        if crc32_words(words[:-1]) != words[-1]:
            raise InputError(f"frame {k} fails its CRC", source=source)
        frames.append(words)
        pos += 4 + 4 * n
    if pos != len(raw):
        raise InputError("has bytes after its last frame", source=source, value=len(raw) - pos)
    return frames
