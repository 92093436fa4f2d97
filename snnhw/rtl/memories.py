"""Row-packed memory images: how neuron parameters are laid out in a core's wide memories.

A core with ``lanes`` L and ``rows`` R holds neuron ``lo + r·L + l`` in lane
``l`` of row ``r``. Every memory is one word per row (all lanes side by side,
lane 0 in the low bits), so one access serves every lane at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from amaranth.hdl import Array, Cat, Module, Mux, Signal, Value, unsigned
from amaranth.lib.memory import Memory

__all__ = ["BANK_DEPTH", "GROUP_BANKS", "LANE_GROUP", "MEMORY_ATTRS", "NO_RW_CHECK", "NO_RW_CHECK_ROWS", "BankedRead", "LaneMemory", "bank_count", "bank_depth", "load_words", "pack_lanes", "potential_attrs", "row_values", "weight_rows"]

#: Synthesis attributes for each memory style of the build configuration.
MEMORY_ATTRS: dict[str, dict[str, str]] = {
    "auto": {},
    "block": {"ram_style": "block"},
    "distributed": {"ram_style": "distributed"},
    "registers": {"ram_style": "registers"},
}

#: The attribute of a memory whose read and write never meet at one address in one cycle, or whose
#: word at such a meeting is never used: synthesis leaves out the logic that would give the word
#: a meaning (Yosys's read-before-write emulation behind a block RAM).
NO_RW_CHECK: dict[str, str] = {"no_rw_check": "1"}
#: Rows from which a core's potential memory carries :data:`NO_RW_CHECK`. The forwarding makes it true
#: at any depth (a read that meets a write of its row is always overridden, ``RowCore._resolve``), but
#: with it Yosys maps a shallow potential memory into block RAM instead of LUT RAM on ECP5, and the
#: fire step's write then crosses the die; a deep one is a block RAM either way, and the attribute
#: lets its output register take the flip-flops that follow it.
NO_RW_CHECK_ROWS = 128


def potential_attrs(attrs: dict[str, str], rows: int) -> dict[str, str]:
    """A core's potential memory's synthesis attributes: ``attrs``, with :data:`NO_RW_CHECK` from
    :data:`NO_RW_CHECK_ROWS` rows."""
    return {**attrs, **(NO_RW_CHECK if rows >= NO_RW_CHECK_ROWS else {})}


def pack_lanes(values: Sequence[int], bits: int) -> int:
    """Pack per-lane signed values into one word (lane 0 in the low ``bits`` bits)."""
    mask = (1 << bits) - 1
    word = 0
    for lane, value in enumerate(values):
        word |= (int(value) & mask) << (lane * bits)
    return word


def row_values(values: np.ndarray, lo: int, hi: int, lanes: int) -> list[list[int]]:
    """Per-row lane values of neurons ``lo … hi−1`` (padding lanes get 0)."""
    rows = math.ceil((hi - lo) / lanes)
    out = []
    for r in range(rows):
        out.append([int(values[lo + r * lanes + k]) if lo + r * lanes + k < hi else 0 for k in range(lanes)])
    return out


def weight_rows(weight: np.ndarray, lo: int, hi: int, lanes: int, bits: int) -> list[int]:
    """Weight memory image: word ``j·R + r`` holds ``W[lo + r·L + l, j]`` for every lane ``l``."""
    rows = math.ceil((hi - lo) / lanes)
    n_in = weight.shape[1]
    padded = np.zeros((rows * lanes, n_in), dtype=np.int64)
    padded[: hi - lo] = weight[lo:hi]
    mask = (1 << bits) - 1
    # (n_in, rows, lanes) -> one integer per (j, r)
    cube = (padded.reshape(rows, lanes, n_in).transpose(2, 0, 1) & mask).astype(object)
    shifts = [1 << (lane * bits) for lane in range(lanes)]
    words = (cube * np.array(shifts, dtype=object)).sum(axis=2)
    return [int(w) for w in words.reshape(-1)]


def load_words(weight: np.ndarray, slices: Sequence[tuple[int, int]], lanes: int, bits: int) -> np.ndarray:
    """The writes that load a dense layer's weights through its ``wl_*`` port.

    Returns ``int64 (K, 4)`` rows ``(core, addr, lane, value)``: word ``addr = j·R + r`` of
    core ``core``'s weight memory, lane ``lane``, ``value`` the weight in ``bits``-bit two's
    complement; one row per neuron and input (padding lanes are left alone).
    """
    rows = []
    mask = (1 << bits) - 1
    n_in = weight.shape[1]
    for core, (lo, hi) in enumerate(slices):
        core_lanes = min(lanes, hi - lo)
        r_count = math.ceil((hi - lo) / core_lanes)
        n = np.arange(lo, hi)
        r, lane = (n - lo) // core_lanes, (n - lo) % core_lanes
        for j in range(n_in):
            addr = j * r_count + r
            rows.append(np.stack([np.full(len(n), core), addr, lane, weight[n, j] & mask], axis=1))
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 4), dtype=np.int64)


#: Words per memory bank of a word wider than 18 bits: the depth of one block RAM in its widest mode
#: (ECP5 PDPW16KD 512×36, UltraScale+ RAMB36 512×72). A deeper memory is split into banks in the RTL,
#: each bank's output is registered on its own, and the bank is chosen after those registers, so no
#: logic sits between a block RAM's (slow) output and the first register.
BANK_DEPTH = 512


def bank_depth(width: int) -> int:
    """Words per bank of a memory of ``width``-bit words: one block RAM's depth at that width.

    An ECP5 ``DP16KD`` holds 512×36, 1K×18 or 2K×9 (an UltraScale+ RAMB18 the same), so a narrow word
    gets a deeper bank: 2,048 words up to 9 bits, 1,024 up to 18, :data:`BANK_DEPTH` beyond. A 512-word
    bank of 8-bit weights would fill a quarter of its block RAM, and a one-lane design would spread four
    times the block RAMs it needs over the die. On ASAP7 a bank deeper than a macro is a stack whose
    address picks one macro (``snnhw.synth.macros``), so a read still touches one macro.
    """
    return 2048 if width <= 9 else 1024 if width <= 18 else BANK_DEPTH


def bank_count(depth: int, width: int, words: int | None = None) -> int:
    """Banks of a :class:`BankedRead` of ``depth`` words of ``width`` bits (a read addresses one of them),
    ``words`` per bank (default :func:`bank_depth`)."""
    size = words or bank_depth(width)
    return 1 if max(2, depth) <= size else math.ceil(depth / size)


class BankedRead:
    """A read-only (or lane-writable) memory built of banks, with a two-cycle registered read.

    ``addr`` is presented in cycle k; ``data`` holds the word in cycle k + 2 (block RAM out in
    k + 1, registered per bank, the bank picked from the registers in k + 2). ``write`` (with
    ``granularity``) adds a write port: ``waddr``, ``wdata`` and the per-lane enable ``wen``.

    With ``addr_next`` (a read-only memory's address one cycle ahead, driven by the caller),
    ``addr`` becomes a register loaded from it, and every bank is cut into column slices of at
    most ``SLICE_BITS`` bits, each a memory of its own whose address pins are driven by a kept
    register copy: no register then drives the address pins of every macro of a wide, deep memory.

    Read enables: only the addressed bank is read, and only when the caller asks. Without
    ``addr_next`` the caller drives ``en`` (default 1) in the cycle of ``addr``; with it, ``en_next``
    (default 1) one cycle ahead, into kept copies beside the address copies. A bank not read keeps
    its output, and so does its register, which loads only on the cycle after its bank was read (so
    synthesis gates its clock while the bank is idle).
    """

    def __init__(self, m: Module, name: str, *, width: int, depth: int, init: Sequence[int], attrs: dict[str, str],
                 granularity: int | None = None, bank_words: int | None = None, addr_next: Value | None = None,
                 shared: bool = False) -> None:
        """``shared``: writes take the read port's address pins (the address is ``waddr`` in a cycle that
        writes), so each bank is a single-port memory; for memories written only while nothing reads
        them (a loadable design's parameters, written while the core is held in reset). With
        ``addr_next`` too, a write given in cycle k (``waddr``, ``wdata``, ``wen``) is loaded into the
        address copies and lands in cycle k + 1, so every macro address pin is driven by a register."""
        depth = max(2, depth)
        banks = bank_count(depth, width, bank_words)
        size = depth if banks == 1 else bank_words or bank_depth(width)
        abits = max(1, (depth - 1).bit_length())
        low = max(1, (size - 1).bit_length())
        self.addr = Signal(abits, name=f"{name}_addr")
        self.en = Signal(init=1, name=f"{name}_en")
        self.en_next = Signal(init=1, name=f"{name}_en_next")
        self.banks = banks
        regs = []
        init = list(init)
        if granularity is not None:
            self.waddr = Signal(abits, name=f"{name}_waddr")
            self.wdata = Signal(width, name=f"{name}_wdata")
            self.wen = Signal(width // granularity, name=f"{name}_wen")
        if addr_next is not None:
            assert granularity in (None, width), "a memory with address copies is written whole words at a time"
            m.d.sync += self.addr.eq(addr_next)
            cuts = list(range(0, width, SLICE_BITS))
        else:
            cuts = [0]
        late = shared and addr_next is not None  # writes through the address copies, a cycle late
        if late:
            wdata_q = Signal(width, name=f"{name}_wdata_q", reset_less=True)
            with m.If(self.wen.any()):  # loaded only by a write (its clock gated the rest of the time)
                m.d.sync += wdata_q.eq(self.wdata)
        for b in range(banks):
            words = min(size, depth - b * size)
            parts = []
            read = Signal(name=f"{name}{b}_read")  # this bank was read last cycle: its output is new
            for k, lo in enumerate(cuts):
                hi = cuts[k + 1] if k + 1 < len(cuts) else width
                mask = (1 << (hi - lo)) - 1
                part_init = [(int(w) >> lo) & mask for w in init[b * size:(b + 1) * size]]
                mem = Memory(shape=unsigned(hi - lo), depth=max(2, words), init=part_init, attrs=attrs)
                label = (f"{name}{b}" if banks > 1 else name) + (f"s{k}" if len(cuts) > 1 else "")
                m.submodules[label] = mem
                rd = mem.read_port()
                if addr_next is not None:
                    copy = Signal(low, name=f"{label}_addr_copy", attrs={"keep": 1}, reset_less=late)
                    en_copy = Signal(name=f"{label}_en_copy", attrs={"keep": 1})
                    hit_next = (addr_next[low:] == b) if banks > 1 else 1
                    read_next = addr_next[:low] if banks > 1 else addr_next
                    if late:  # a write takes the copy (the macro's only address) in the next cycle
                        whit = (self.waddr[low:] == b) if banks > 1 else 1
                        wen_copy = Signal(name=f"{label}_wen_copy", attrs={"keep": 1}, reset_less=True)
                        m.d.sync += [copy.eq(Mux(self.wen.any(), self.waddr[:low], read_next)),
                                     wen_copy.eq(self.wen.any() & whit)]
                    else:
                        m.d.sync += copy.eq(read_next)
                    m.d.sync += en_copy.eq(self.en_next & hit_next)
                    # a single-port macro has one enable: a write enables the read port too, so that
                    # synthesis maps the port's enable to the macro's (not a macro read every cycle)
                    m.d.comb += [rd.addr.eq(copy), rd.en.eq(en_copy | wen_copy if late else en_copy)]
                    read_addr: Value = copy
                    if k == 0:
                        m.d.sync += read.eq(en_copy)
                else:
                    hit = (self.addr[low:] == b) if banks > 1 else 1
                    read_addr = self.addr[:low] if banks > 1 else self.addr
                    enable = (self.en | self.wen.any()) if shared else self.en  # one enable for a single-port macro
                    m.d.comb += [rd.addr.eq(read_addr), rd.en.eq(enable & hit)]
                    m.d.sync += read.eq(self.en & hit)
                parts.append(rd.data)
                if late:
                    wr = mem.write_port()
                    m.d.comb += [wr.addr.eq(copy), wr.data.eq(wdata_q[lo:hi]), wr.en.eq(wen_copy)]
                elif granularity is not None:
                    wr = mem.write_port(granularity=granularity if granularity < width else None)
                    hit = (self.waddr[low:] == b) if banks > 1 else 1
                    write_addr = self.waddr[:low] if banks > 1 else self.waddr
                    if shared:  # one address for both ports: a single-port memory
                        write_addr = Signal(low, name=f"{label}_addr")
                        m.d.comb += [write_addr.eq(Mux(self.wen.any(), self.waddr[:low], read_addr)),
                                     rd.addr.eq(write_addr)]
                    m.d.comb += [wr.addr.eq(write_addr), wr.data.eq(self.wdata[lo:hi]), wr.en.eq(Mux(hit, self.wen, 0))]
            # the bank's output register loads only after a read (a bank not read keeps its output, so
            # loading it again would change nothing): its clock is gated while the bank is idle
            reg = Signal(width, name=f"{name}{b}_q", reset_less=True)
            with m.If(read):
                m.d.sync += reg.eq(Cat(*parts))
            regs.append(reg)
        self._name, self._regs = name, regs
        if banks == 1:
            self.data = regs[0]
        else:
            bank1 = Signal(range(banks), name=f"{name}_bank1")
            bank2 = Signal(range(banks), name=f"{name}_bank2")
            m.d.sync += [bank1.eq(self.addr[low:]), bank2.eq(bank1)]
            self._bank2 = bank2
            self.data = Signal(width, name=f"{name}_data")
            m.d.comb += self.data.eq(Array(regs)[bank2])

    def registered(self, dp: Module) -> Value:
        """``data`` a cycle later, as a register of ``dp`` would hold it (loaded on the edges where
        ``dp``'s registers load).

        With more than :data:`GROUP_BANKS` banks the bank multiplexer is cut in two: the banks are
        grouped (a power of two ≥ √banks banks per group), each group's multiplexer is registered, and the group is
        picked after the registers. So neither cycle carries a multiplexer over every bank of a deep
        memory (whose block RAMs spread over the whole die), and the word still arrives in the cycle
        of a register of ``data``."""
        width = len(self.data)
        if self.banks <= GROUP_BANKS:
            reg = Signal(width, name=f"{self._name}_q2", reset_less=True)
            dp.d.sync += reg.eq(self.data)
            return reg
        low = max(1, math.ceil(math.log2(math.sqrt(self.banks))))  # banks per group: a power of two ≥ √banks
        per = 1 << low
        groups = [self._regs[k:k + per] for k in range(0, self.banks, per)]
        within, group_of = self._bank2[:low], self._bank2[low:]
        grp = Signal(range(len(groups)), name=f"{self._name}_group3", reset_less=True)
        dp.d.sync += grp.eq(group_of)
        outs = []
        for g, members in enumerate(groups):
            q = Signal(width, name=f"{self._name}_group{g}_q", reset_less=True)
            dp.d.sync += q.eq(Array(members)[within] if len(members) > 1 else members[0])
            outs.append(q)
        word = Signal(width, name=f"{self._name}_q2")
        dp.d.comb += word.eq(Array(outs)[grp])
        return word


#: Banks of a :class:`BankedRead` beyond which :meth:`BankedRead.registered` cuts the bank multiplexer in two.
GROUP_BANKS = 8

#: Widest column slice of a :class:`BankedRead` with address copies (at most 32 pins of 21-bit ASAP7
#: macros per copy within one bank, two 36-bit block RAM columns).
SLICE_BITS = 64


#: Lanes per slice of a :class:`LaneMemory`: each slice has its own address and enable registers.
LANE_GROUP = 8


class LaneMemory:
    """A row memory (one field of ``field`` bits per lane) split into slices of ``LANE_GROUP``
    lanes, each a memory of its own whose address and write-enable pins are driven by a register
    copy of its own (kept apart in synthesis), so that no register drives the pins of every macro
    or block RAM of a wide row.

    The copies are loaded from values one cycle ahead, which the caller drives: ``raddr_next``
    (the read address of the next cycle), ``ren_next`` (whether the next cycle reads; default 1: a
    slice not read keeps its output), ``waddr_next`` and ``wen_next``. ``waddr`` and ``wen``
    are copies as the memories see them this cycle (for forwarding); ``wdata`` (driven by the caller)
    is written this cycle; ``rdata`` is the word that ``raddr_next`` addressed two cycles earlier.
    """

    def __init__(self, m: Module, name: str, *, lanes: int, field: int, depth: int, init: Sequence[int] = (),
                 attrs: dict[str, str], write: bool = True, direct: bool = False) -> None:
        """``direct``: the caller drives ``waddr``, ``wen`` and ``wdata`` of a write in its own cycle (no
        register copies: a configuration write, which must land while the core is held in reset)."""
        depth = max(2, depth)
        abits = max(1, (depth - 1).bit_length())
        keep = {"keep": 1}
        self.raddr_next = Signal(abits, name=f"{name}_raddr_next")
        self.ren_next = Signal(init=1, name=f"{name}_ren_next")
        self.rdata = Signal(lanes * field, name=f"{name}_rdata")
        self.waddr_next = Signal(abits, name=f"{name}_waddr_next")
        self.wen_next = Signal(name=f"{name}_wen_next")
        self.waddr = Signal(abits, name=f"{name}_waddr")
        self.wen = Signal(name=f"{name}_wen")
        self.wdata = Signal(lanes * field, name=f"{name}_wdata")
        if not direct:
            m.d.sync += [self.waddr.eq(self.waddr_next), self.wen.eq(self.wen_next)]
        outs = []
        for k, lo in enumerate(range(0, lanes, LANE_GROUP)):
            hi = min(lanes, lo + LANE_GROUP)
            width = (hi - lo) * field
            mask = (1 << width) - 1
            words = [(int(w) >> (lo * field)) & mask for w in init]
            mem = Memory(shape=unsigned(width), depth=depth, init=words, attrs=attrs)
            m.submodules[f"{name}{k}"] = mem
            rd = mem.read_port()
            ra = Signal(abits, name=f"{name}{k}_raddr_copy", attrs=keep)
            re = Signal(name=f"{name}{k}_ren_copy", attrs=keep)
            m.d.sync += [ra.eq(self.raddr_next), re.eq(self.ren_next)]
            m.d.comb += [rd.addr.eq(ra), rd.en.eq(re)]
            outs.append(rd.data)
            if write and direct:  # written only while nothing reads: one address, a single-port memory
                wr = mem.write_port()
                one = Signal(abits, name=f"{name}{k}_addr")
                m.d.comb += [one.eq(Mux(self.wen, self.waddr, ra)), rd.addr.eq(one), wr.addr.eq(one), rd.en.eq(re | self.wen),
                             wr.en.eq(self.wen), wr.data.eq(self.wdata[lo * field:hi * field])]
            elif write:
                wr = mem.write_port()
                wa = Signal(abits, name=f"{name}{k}_waddr_copy", attrs=keep)
                we = Signal(name=f"{name}{k}_wen_copy", attrs=keep)
                m.d.sync += [wa.eq(self.waddr_next), we.eq(self.wen_next)]
                m.d.comb += [wr.addr.eq(wa), wr.en.eq(we), wr.data.eq(self.wdata[lo * field:hi * field])]
        m.d.comb += self.rdata.eq(Cat(*outs))

