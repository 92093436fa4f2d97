"""The configuration loader of a loadable design: frames on ``s_axis_config`` write every parameter memory.

A loadable design (build key ``loadable``) is generated once for a *capacity* and takes any network
that fits at run time. Its parameters live in memories and registers that the loader writes from
frames of 32-bit words on the AXI4-Stream port ``s_axis_config`` (``tlast`` on a frame's last word):

==========  ==============================================================================
word        content
==========  ==============================================================================
0           header: ``0xC5`` (bits 31–24), frame type (23–16), target (15–0)
…           BEGIN: nothing; WRITE: first address, word count N ≥ 1, then N memory words of
            ``ceil(width / 32)`` payload words each, least significant first;
            COMMIT: the network's identifier, 2 words (the first 16 hex digits of its
            content hash, as a 64-bit number, least significant word first)
last        CRC-32 (IEEE 802.3, as ``zlib.crc32``) of the frame's words before it, each as
            4 bytes, little-endian; ``tlast`` set on this word and on no other
==========  ==============================================================================

Targets (:func:`config_targets`) are numbered: 0 is the parameter registers (θ and the leak shift
of every layer, then ``T − 1``), then each core's memories in layer and core order.

A load image is BEGIN, the WRITEs, COMMIT. BEGIN is refused (dropped and counted in
``config_refused``) while a sample is in flight; accepted, it clears ``config_committed`` and holds
the accelerator's datapath in reset, so no sample is taken until a good COMMIT. A frame with a bad
CRC (``config_crc_errors``) or a malformed one (``config_errors``: bad header, target, address
range, length, or ``tlast`` in the wrong place, or a WRITE or COMMIT outside a load) poisons the
load: its writes may have landed, and the COMMIT that ends the load is refused, so the image must
be sent again from its BEGIN. A good COMMIT stores the identifier (``config_hash``), sets
``config_committed`` and releases the datapath, whose cores then start from reset state.
"""

from __future__ import annotations

import enum
import math
import zlib
from dataclasses import dataclass
from typing import Any

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.ir import LayerKind, LeakKind, Network
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.counter import Counter

__all__ = [
    "HASH_WORDS",
    "MAGIC",
    "ConfigBus",
    "ConfigLoader",
    "FrameType",
    "LocalBus",
    "Target",
    "config_targets",
    "crc32_words",
    "network_id",
    "param_words",
]

#: The first byte of every frame header.
MAGIC = 0xC5
#: Words of a COMMIT's network identifier.
HASH_WORDS = 2


class FrameType(enum.IntEnum):
    """Frame types of the configuration stream."""

    BEGIN = 1
    WRITE = 2
    COMMIT = 3


@dataclass(frozen=True)
class Target:
    """One writable parameter store of a loadable design."""

    index: int
    name: str  # "params" or "l<layer>c<core>.<memory>"
    layer: int  # -1 for the parameter registers
    core: int
    memory: str  # params, wmem, bmem, emem, starts, rmask
    width: int
    depth: int

    @property
    def words_per_entry(self) -> int:
        """Payload words per memory word."""
        return max(1, math.ceil(self.width / 32))


def network_id(network: Network) -> int:
    """The identifier a COMMIT stores: the first 16 hex digits of the network's content hash."""
    return int(network.content_hash()[:16], 16)


def crc32_words(words: list[int]) -> int:
    """CRC-32 of 32-bit words, each as 4 little-endian bytes (``zlib.crc32``)."""
    return zlib.crc32(b"".join(int(w & 0xFFFFFFFF).to_bytes(4, "little") for w in words)) & 0xFFFFFFFF


def _crc_step(crc: int, word: int) -> int:
    """One word into a CRC-32 register (no initial value, no final inversion): a linear map."""
    for byte in int(word).to_bytes(4, "little"):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


def param_words(network: Network, time_steps: int | None = None) -> list[int]:
    """The parameter registers' words (target 0): θ and the leak shift (0 for none) of every layer,
    then ``T − 1``."""
    out = []
    for layer in network.layers:
        out += [layer.threshold, layer.leak.shift or 0]
    out.append((network.time_steps if time_steps is None else time_steps) - 1)
    return out


def config_targets(network: Network, build: Build) -> list[Target]:
    """The targets of the loadable design of ``network`` (its capacity) under ``build``."""
    from snnhw.rtl.encoder import column_bits, pixels_per_word  # the cores import this module's bus

    assert build.load is not None, "a fixed design has no configuration targets"
    targets = [Target(0, "params", -1, 0, "params", 32, 2 * len(network.layers) + 1)]

    def add(layer: int, core: int, memory: str, width: int, depth: int) -> None:
        targets.append(Target(len(targets), f"l{layer}c{core}.{memory}", layer, core, memory, width, max(2, depth)))

    for i, layer in enumerate(network.layers):
        lb = build.layers[i]
        for c, (lo, hi) in enumerate(core_slices(layer.size, lb.cores)):
            lanes = min(lb.lanes, hi - lo)
            rows = math.ceil((hi - lo) / lanes)
            P, W = layer.potential_bits, layer.weight_bits
            if layer.kind is LayerKind.ENCODER:
                ppw = pixels_per_word(network.input.bits, build.pixels_per_beat)
                entries = build.load.entries[c]
                add(i, c, "emem", lanes * (column_bits(layer.n_in, ppw) + W + 1) + 1, entries)
                if layer.has_bias:
                    add(i, c, "bmem", lanes * P, rows)
                add(i, c, "starts", max(1, entries.bit_length()), rows + 3)
                add(i, c, "rmask", -(-layer.n_in // ppw), rows)
            else:
                add(i, c, "wmem", lanes * W, layer.n_in * rows)
                if layer.has_bias:
                    add(i, c, "bmem", lanes * P, rows)
    return targets


class ConfigBus:
    """The loader's write bus to the parameter stores: ``sel``, ``addr``, ``data`` and ``we`` hold a
    write in the cycle it happens (at the loader: the parameter registers); ``data_late`` is ``data``
    one cycle later, for the cores' copies (:meth:`local`)."""

    def __init__(self, addr_bits: int, data_bits: int, sel_bits: int) -> None:
        self.sel = Signal(sel_bits, name="cfg_sel")
        self.addr = Signal(addr_bits, name="cfg_addr")
        self.data = Signal(data_bits, name="cfg_data", reset_less=True)
        self.data_late = Signal(data_bits, name="cfg_data_late", reset_less=True)
        self.we = Signal(name="cfg_we")

    def hit(self, target: int) -> Any:
        """A write to ``target`` this cycle."""
        return self.we & (self.sel == target)

    def local(self, m: Module, targets: dict[str, int], name: str = "cfg") -> LocalBus:
        """A core's own copy of the bus, a cycle later: its address register and one write enable per
        target it owns (registers without reset, so that they work while the core is held in reset),
        and the data. The copies keep the bus's address off the pins of every memory of the design."""
        local = LocalBus(self, targets, name)
        m.d.sync += [local.addr.eq(self.addr), *[local.we[k].eq(self.hit(t)) for k, t in targets.items()]]
        return local


class LocalBus:
    """A core's copy of the :class:`ConfigBus` (see :meth:`ConfigBus.local`)."""

    def __init__(self, bus: ConfigBus, targets: dict[str, int], name: str) -> None:
        self.addr = Signal(len(bus.addr), name=f"{name}_addr_local", reset_less=True)
        self.we = {k: Signal(name=f"{name}_we_{k}", reset_less=True) for k in targets}
        self.data = bus.data_late


class _State(enum.IntEnum):
    HEAD = 0
    ADDR = 1
    COUNT = 2
    PAYLOAD = 3
    HASH = 4
    CRC = 5
    DROP = 6


class ConfigLoader(wiring.Component):
    """Parses configuration frames (see the module docstring) and drives the :class:`ConfigBus`.

    ``busy`` (in): a sample is in flight, so BEGIN is refused. ``hold`` (out): a load is in
    progress (the datapath is held in reset). ``committed``, ``ident`` and the counters are the
    status ports. ``params``: the run-time values, one signal per parameter word (:func:`param_words`).
    """

    def __init__(self, network: Network, build: Build, *, counter_bits: int, preloaded: Network | None) -> None:
        self.network, self.build = network, build
        self.targets = config_targets(network, build)
        self.counter_bits = counter_bits
        self.preloaded = preloaded
        depth_bits = max(t.depth - 1 for t in self.targets).bit_length()
        self.bus = ConfigBus(max(1, depth_bits), max(t.width for t in self.targets),
                             max(1, (len(self.targets) - 1).bit_length()))
        init = param_words(preloaded) if preloaded is not None else [0] * (2 * len(network.layers) + 1)
        self.params = []
        for k, value in enumerate(init):
            if k == len(init) - 1:
                shape: Any = range(network.time_steps)
            elif k % 2 == 0:
                shape = network.layers[k // 2].potential_bits
            else:
                shape = max(1, (network.layers[k // 2].potential_bits - 1).bit_length())
            self.params.append(Signal(shape, init=value, name=f"param{k}", reset_less=True))
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"data": 32, "last": 1}))),
            "busy": In(1),
            "hold": Out(1),
            "committed": Out(1),
            "ident": Out(64),
            "crc_errors": Out(counter_bits),
            "errors": Out(counter_bits),
            "refused": Out(counter_bits),
        })

    def layer_params(self, i: int) -> tuple[Any, Any, Any]:
        """θ, the leak shift (``None`` for leak ``none``) and ``T − 1`` of layer ``i``."""
        layer = self.network.layers[i]
        shift = None if layer.leak.kind is LeakKind.NONE else self.params[2 * i + 1]
        return self.params[2 * i], shift, self.params[-1]

    def elaborate(self, platform) -> Module:
        m = Module()
        bus, targets = self.bus, self.targets
        # every word is registered before it is looked at (the stream is always ready), so no check
        # starts at the port
        m.d.comb += self.i.ready.eq(1)
        word = Signal(32, name="cfg_in", reset_less=True)
        last = Signal(name="cfg_in_last", reset_less=True)
        take = Signal(name="cfg_in_valid")
        m.d.sync += [word.eq(self.i.payload.data), last.eq(self.i.payload.last), take.eq(self.i.valid)]

        state = Signal(_State, name="cfg_state")
        # the CRC of the frame's words so far: a header starts from all ones, every other word from
        # the register (a linear map of the register and the word, one XOR tree per bit)
        crc = Signal(32, name="crc")
        from_reg, from_init = [], []
        for bit in range(32):
            w_terms = [word[j] for j in range(32) if (_crc_step(0, 1 << j) >> bit) & 1]
            r_terms = [crc[j] for j in range(32) if (_crc_step(1 << j, 0) >> bit) & 1]
            from_reg.append(Cat(*w_terms, *r_terms).xor())
            from_init.append(Cat(*w_terms).xor() ^ ((_crc_step(0xFFFFFFFF, 0) >> bit) & 1))
        with m.If(take):
            m.d.sync += crc.eq(Mux(state == _State.HEAD, Cat(*from_init), Cat(*from_reg)))

        ftype = Signal(2, name="cfg_type")
        sel = Signal.like(bus.sel, name="cfg_target")
        dbits = max(t.depth for t in targets).bit_length()  # holds every target's depth
        addr = Signal(dbits, name="cfg_addr_cur")
        count = Signal(dbits, name="cfg_count")
        limit = Signal(dbits, name="cfg_limit")  # the target's depth, then the words left after the address
        wmax = max(t.words_per_entry for t in targets)
        k = Signal(range(wmax + 1), name="cfg_k")
        hk = Signal(range(HASH_WORDS + 1), name="cfg_hk")
        asm = Signal(32 * wmax, name="cfg_word", reset_less=True)
        ident_in = Signal(64, name="cfg_ident_in", reset_less=True)
        session = Signal(name="cfg_session")
        poisoned = Signal(name="cfg_poisoned")
        # a design with the preloaded network in its memories starts committed; without one (an ASIC,
        # whose SRAMs have no initial values) it waits for a load after every reset
        committed = Signal(init=int(self.preloaded is not None), name="cfg_committed",
                           reset_less=self.preloaded is not None)
        ident = Signal(64, init=0 if self.preloaded is None else network_id(self.preloaded), name="cfg_ident",
                       reset_less=self.preloaded is not None)
        refusing = Signal(name="cfg_refusing")  # the frame being dropped is a refused BEGIN
        m.d.comb += [self.hold.eq(session), self.committed.eq(committed), self.ident.eq(ident)]

        m.submodules.crc_errors = c_crc = Counter(self.counter_bits)
        m.submodules.errors = c_err = Counter(self.counter_bits)
        m.submodules.refused = c_ref = Counter(self.counter_bits)
        m.d.comb += [self.crc_errors.eq(c_crc.value), self.errors.eq(c_err.value), self.refused.eq(c_ref.value)]

        wpe = Array(Const(t.words_per_entry, len(k)) for t in targets)
        depth = Array(Const(t.depth, dbits) for t in targets)
        high = word[dbits:].any()  # a value no target can take

        def fail() -> None:
            """A malformed frame: counted now if this is its last word, else when its tlast comes."""
            m.d.sync += poisoned.eq(session)
            with m.If(last):
                m.d.comb += c_err.en.eq(1)
                m.d.sync += state.eq(_State.HEAD)
            with m.Else():
                m.d.sync += [state.eq(_State.DROP), refusing.eq(0)]

        # a memory word is written on the bus the cycle after its last payload word
        word_done = Signal(name="cfg_word_done")
        m.d.comb += bus.data.eq(asm[:len(bus.data)])
        m.d.sync += [bus.we.eq(word_done), bus.sel.eq(sel), bus.addr.eq(addr), bus.data_late.eq(bus.data)]
        with m.If(take), m.Switch(state):
            with m.Case(_State.HEAD):
                m.d.sync += [ftype.eq(word[16:18]), sel.eq(word[:len(sel)]), k.eq(0), hk.eq(0),
                             limit.eq(depth[word[:len(sel)]])]
                typ = word[16:24]
                good_head = (word[24:] == MAGIC) & (word[:16] < len(targets))
                with m.If(~good_head | last | (typ == 0) | (typ > FrameType.COMMIT)):
                    fail()
                with m.Elif(typ == FrameType.BEGIN):
                    with m.If(self.busy & ~session):  # a sample in flight: refused
                        m.d.sync += [state.eq(_State.DROP), refusing.eq(1)]
                    with m.Else():
                        m.d.sync += state.eq(_State.CRC)
                with m.Elif(~session):  # a WRITE or COMMIT outside a load
                    fail()
                with m.Elif(typ == FrameType.WRITE):
                    m.d.sync += state.eq(_State.ADDR)
                with m.Else():
                    m.d.sync += state.eq(_State.HASH)
            with m.Case(_State.ADDR):
                with m.If(last | high | (word[:dbits] >= limit)):
                    fail()
                with m.Else():
                    m.d.sync += [addr.eq(word), limit.eq(limit - word[:dbits]), state.eq(_State.COUNT)]
            with m.Case(_State.COUNT):
                with m.If(last | high | (word == 0) | (word[:dbits] > limit)):
                    fail()
                with m.Else():
                    m.d.sync += [count.eq(word), state.eq(_State.PAYLOAD)]
            with m.Case(_State.PAYLOAD):
                with m.If(last):
                    fail()
                with m.Else():
                    m.d.sync += [asm.word_select(k, 32).eq(word), k.eq(k + 1)]
                    with m.If(k == wpe[sel] - 1):
                        m.d.comb += word_done.eq(1)
                        m.d.sync += [k.eq(0), addr.eq(addr + 1), count.eq(count - 1)]
                        with m.If(count == 1):
                            m.d.sync += state.eq(_State.CRC)
            with m.Case(_State.HASH):
                with m.If(last):
                    fail()
                with m.Else():
                    m.d.sync += [ident_in.eq(Cat(ident_in[32:], word)), hk.eq(hk + 1)]
                    with m.If(hk == HASH_WORDS - 1):
                        m.d.sync += state.eq(_State.CRC)
            with m.Case(_State.CRC):
                with m.If(~last):
                    fail()
                with m.Elif(word != ~crc):
                    m.d.comb += c_crc.en.eq(1)
                    m.d.sync += [state.eq(_State.HEAD), poisoned.eq(session)]
                with m.Else():
                    m.d.sync += state.eq(_State.HEAD)
                    with m.If(ftype == FrameType.BEGIN):
                        m.d.sync += [session.eq(1), poisoned.eq(0), committed.eq(0)]
                    with m.Elif(ftype == FrameType.COMMIT):
                        with m.If(poisoned):
                            m.d.comb += c_err.en.eq(1)  # the load had a bad frame: send it again
                        with m.Else():
                            m.d.sync += [session.eq(0), committed.eq(1), ident.eq(ident_in)]
            with m.Case(_State.DROP), m.If(last):
                m.d.sync += state.eq(_State.HEAD)
                with m.If(refusing):
                    m.d.comb += c_ref.en.eq(1)
                with m.Else():
                    m.d.comb += c_err.en.eq(1)
        # the parameter registers (target 0), one word per address
        for idx, reg in enumerate(self.params):
            with m.If(bus.hit(0) & (bus.addr == idx)):
                m.d.sync += reg.eq(bus.data[:len(reg)])
        return m
