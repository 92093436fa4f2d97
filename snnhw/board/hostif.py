"""The board side of the host protocol (:mod:`snnhw.board.protocol`), in Amaranth.

:class:`HostInterface` sits between a UART's byte streams and the
accelerator's AXI4-Stream ports::

    rx bytes ─▶ frame parser ─▶ sample slots (a ring) ─▶ feeder ─▶ s_axis_pixel
                     │ (a slot is committed once its frame's CRC has matched)
    tx bytes ◀─ frame writer ◀─ result slots (a ring) ◀─ m_axis_result, cycle_count

The host may have several samples in flight (its window, ``slots``, is in
``INFO``). A sample frame's packed bits are written into
a free sample slot as they arrive, already cut into ``s_axis_pixel`` beats; the
slot is committed only once the frame's CRC has matched, so a corrupted or
truncated frame is never processed, not even in part: the interface answers it
with a ``NAK`` carrying its ``seq`` where it got that far, and waits for the
next ``SYNC``. While the UART brings in the next frames, the feeder streams the
committed slots to the accelerator in order, one sample at a time and one beat
per cycle (or as fast as ``tready`` allows), each once a result slot is free for
it; a result slot takes every result beat the cycle it is offered. The cycle
count of a sample is therefore the accelerator's alone: from the cycle its first
pixel beat is accepted to the cycle its prediction beat is (the definition of
the co-simulation's per-sample latency), read from the accelerator's
``cycle_count`` port. Result frames leave in the order the samples were
committed.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from snnhw.board.protocol import (
    LOADED_BYTES,
    NAK_BUSY,
    NAK_CRC,
    NAK_LENGTH,
    NAK_TRUNCATED,
    NAK_TYPE,
    SYNC,
    T_CONFIG,
    T_INFO,
    T_LOADED,
    T_NAK,
    T_RESULT,
    T_SAMPLE,
    T_STATUS,
    result_payload_bytes,
    sample_payload_bytes,
)
from snnhw.rtl.fifo import SkidBuffer
from snnhw.rtl.memories import NO_RW_CHECK

__all__ = ["STATUS_WAIT", "HostInterface", "crc16_step"]

#: Cycles between a CONFIG frame's last word entering the accelerator and its status being read (the
#: loader's input register and frame logic, and the status counters' pipeline).
STATUS_WAIT = 8


def _crc16_matrix() -> list[tuple[list[int], list[int]]]:
    """For each bit of the next CRC: the current-CRC bits and the data bits whose XOR it is (GF(2))."""
    # symbolic state: each CRC bit as a bit mask over 16 CRC inputs (bits 0-15) and 8 data inputs (bits 16-23)
    state = [1 << k for k in range(16)]
    for k in range(8):
        top = state[15] ^ (1 << (16 + 7 - k))
        shifted = [0, *state[:15]]
        state = [shifted[b] ^ (top if (0x1021 >> b) & 1 else 0) for b in range(16)]
    return [([k for k in range(16) if mask >> k & 1], [k - 16 for k in range(16, 24) if mask >> k & 1])
            for mask in state]


_CRC16 = _crc16_matrix()


def crc16_step(crc, byte):
    """CRC-16/CCITT-FALSE of ``crc`` after one more ``byte`` (Amaranth values; combinational XOR network)."""
    bits = []
    for crc_bits, data_bits in _CRC16:
        terms = [crc[k] for k in crc_bits] + [byte[k] for k in data_bits]
        value = terms[0]
        for term in terms[1:]:
            value = value ^ term
        bits.append(value)
    return Cat(*bits)


class HostInterface(wiring.Component):
    """Frames in, samples to the accelerator, results out.

    Parameters
    ----------
    input_size, input_bits, pixels_per_beat:
        The accelerator's input: values per sample, bits per value, values per ``s_axis_pixel`` beat
        (``pixels_per_beat · input_bits`` at least 8).
    output_size, result_bits:
        Score beats per result and the width of ``m_axis_result_tdata`` (whole bytes).
    info:
        The ``INFO`` payload (:class:`~snnhw.board.protocol.BoardInfo` packed).
    timeout_cycles:
        Idle cycles after which a frame still incomplete is dropped as truncated.
    config_words:
        For a loadable accelerator: the words a ``CONFIG`` frame may carry (its buffer's depth). The
        frame's words go to ``config_*`` (the accelerator's ``s_axis_config``) once its CRC has
        matched; then, after :data:`STATUS_WAIT` cycles, the ``cfg_*`` status inputs are answered in
        a ``LOADED`` frame. 0: no ``CONFIG`` frames (a fixed design).
    slots, result_slots:
        Samples the sample ring holds (the one being received included) and results the result ring
        holds. A sample frame that finds every sample slot taken is refused (``NAK`` busy, with its
        ``seq``); a host that keeps at most ``slots`` samples unanswered is never refused: a sample
        holds its slot until its last beat is fed, and is then one of at most ``result_slots``
        between the accelerator and the UART.
    """

    def __init__(self, *, input_size: int, input_bits: int, pixels_per_beat: int, output_size: int,
                 result_bits: int, info: bytes, timeout_cycles: int, counter_bits: int = 32,
                 config_words: int = 0, slots: int = 2, result_slots: int = 2) -> None:
        if result_bits % 8:
            raise ValueError(f"result_bits must be whole bytes, got {result_bits}")
        if input_bits * pixels_per_beat < 8:
            raise ValueError(f"a pixel beat of a board carries at least 8 bits, got {input_bits * pixels_per_beat}")
        if slots < 1 or result_slots < 1:
            raise ValueError(f"at least one sample slot and one result slot, got {slots} and {result_slots}")
        self.input_size, self.input_bits, self.ppb = input_size, input_bits, pixels_per_beat
        self.output_size, self.result_bits = output_size, result_bits
        self.info = bytes(info)
        self.timeout_cycles = timeout_cycles
        self.beats = -(-input_size // pixels_per_beat)
        self.config_words = config_words
        self.slots, self.result_slots = slots, result_slots
        config = {} if not config_words else {
            "config_tdata": Out(32), "config_tvalid": Out(1), "config_tready": In(1), "config_tlast": Out(1),
            "cfg_committed": In(1), "cfg_hash": In(64), "cfg_crc_errors": In(counter_bits),
            "cfg_errors": In(counter_bits), "cfg_refused": In(counter_bits)}
        super().__init__({
            **config,
            "rx": In(stream.Signature(unsigned(8))),
            "tx": Out(stream.Signature(unsigned(8))),
            "pixel_tdata": Out(input_bits * pixels_per_beat), "pixel_tvalid": Out(1), "pixel_tready": In(1),
            "pixel_tlast": Out(1),
            "result_tdata": In(result_bits), "result_tvalid": In(1), "result_tready": Out(1), "result_tlast": In(1),
            "cycle_count": In(counter_bits),
            "busy": Out(1),
            "naks": Out(8),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        B, ppb = self.input_bits, self.ppb
        WB = B * ppb  # bits per pixel beat
        S, R, NB, NW = self.slots, self.result_slots, self.beats, self.output_size + 1
        rb = self.result_bits // 8
        sample_len = sample_payload_bytes(self.input_size, B)
        result_len = result_payload_bytes(self.output_size, rb)
        last_bits = self.input_size * B - (NB - 1) * WB  # bits of the last beat that carry values

        # ---- buffers: S sample slots of NB beats, R result slots of NW words
        # a frame is written only into a free slot, and a slot is read only after it is committed, until
        # its last beat has left: a read and a write never meet at one address (`no_rw_check`)
        m.submodules.pixels = pixels = Memory(shape=unsigned(WB), depth=S * NB, init=[], attrs=NO_RW_CHECK)
        pw = pixels.write_port()
        pr = pixels.read_port()
        m.submodules.results = results = Memory(shape=unsigned(self.result_bits), depth=R * NW, init=[])
        resw = results.write_port()
        resr = results.read_port(domain="comb")
        m.submodules.info = info = Memory(shape=unsigned(8), depth=len(self.info), init=list(self.info))
        infor = info.read_port(domain="comb")

        # ---- the rings' state
        filled = Signal(range(S + 1))  # committed sample slots not yet fed whole
        wslot_base = Signal(range(S * NB))  # first beat of the slot being received
        rslot = Signal(range(S))  # the next slot to feed
        wslot = Signal(range(S))  # the slot being received
        slot_seq = Array(Signal(8, name=f"slot_seq{k}") for k in range(S))
        pending = Signal(range(R + 1))  # result slots captured or being captured, not yet sent
        res_seq = Array(Signal(8, name=f"res_seq{k}") for k in range(R))
        res_cycles = Array(Signal(32, name=f"res_cycles{k}") for k in range(R))
        cap_slot = Signal(range(R))  # the result slot being captured
        tx_slot = Signal(range(R))  # the result slot sent next
        cfg_busy = Signal()  # from a CONFIG frame's CRC match until its LOADED frame is sent
        feeding = Signal()
        capturing = Signal()
        in_flight = (filled != 0) | feeding | capturing | (pending != 0)
        m.d.comb += self.busy.eq(in_flight | cfg_busy)
        commit = Signal()  # a sample frame's CRC matched: its slot joins the ring
        fed = Signal()  # a slot's last beat was accepted: the slot is free
        sent_result = Signal()  # a RESULT frame has left
        captured = Signal()  # a result's prediction beat was taken
        start_feed = Signal()

        # ---- receive: frame parser and sample slot writer
        byte = self.rx.payload
        got = Signal()
        m.d.comb += [self.rx.ready.eq(1), got.eq(self.rx.valid)]
        crc = Signal(16)
        crc_next = crc16_step(crc, byte)
        kind = Signal(8)
        len_lo = Signal(8)
        crc_lo = Signal(8)
        seq = Signal(8)
        CW = self.config_words
        left = Signal(range(max(sample_len, 1 + 4 * CW, 2) + 1))  # payload bytes still to come
        idle = Signal(range(self.timeout_cycles + 1))
        nak_set = Signal()
        nak_code = Signal(8)
        nak_seq = Signal(8)
        m.d.comb += nak_seq.eq(seq)
        request_info = Signal()
        start_cfg = Signal()
        if CW:  # the CONFIG buffer: the frame's words, fed on once its CRC has matched
            m.submodules.cbuf = cbuf = Memory(shape=unsigned(32), depth=max(2, CW), init=[])
            cw_port = cbuf.write_port()
            cr_port = cbuf.read_port()
            cwaddr = Signal(range(CW + 1))
            cword = Signal(24)
            cbyte = Signal(2)
            m.d.comb += [cw_port.addr.eq(cwaddr), cw_port.data.eq(Cat(cword, byte))]

        # the packed bits of a sample (LSB first) gather in `acc` and leave it a beat at a time
        acc = Signal(WB + 8)
        nbits = Signal(range(WB + 9))
        flush = Signal()  # the frame's last payload byte is in: the last beat may be partial
        wcount = Signal(range(NB + 1))  # beats of the frame written
        waddr = Signal(range(S * NB))
        take = Signal()  # a payload byte joins `acc` this cycle
        drain = (wcount != NB) & ((nbits >= WB) | (flush & (nbits != 0)))
        kept = Mux(drain, acc >> WB, acc)
        kept_n = Signal.like(nbits)
        m.d.comb += kept_n.eq(Mux(drain, Mux(nbits >= WB, nbits - WB, 0), nbits))
        mask = Mux(wcount == NB - 1, (1 << last_bits) - 1, (1 << WB) - 1)
        m.d.comb += [pw.addr.eq(waddr), pw.data.eq(acc[:WB] & mask), pw.en.eq(drain)]
        with m.If(drain):
            m.d.sync += [waddr.eq(Mux(waddr == S * NB - 1, 0, waddr + 1)), wcount.eq(wcount + 1)]
        with m.If(take):
            m.d.sync += [acc.eq(kept | (byte << kept_n)), nbits.eq(kept_n + 8)]
        with m.Else():
            m.d.sync += [acc.eq(kept), nbits.eq(kept_n)]

        def truncated() -> None:
            m.d.comb += [nak_set.eq(1), nak_code.eq(NAK_TRUNCATED)]
            m.next = "HUNT"

        def refuse(code: int) -> None:
            """A frame refused on its header: NAK it, then drop its bytes."""
            m.d.comb += [nak_set.eq(1), nak_code.eq(code)]
            m.next = "DISCARD"

        with m.FSM(name="rx_fsm") as rx_fsm:
            with m.State("HUNT"), m.If(got & (byte == SYNC)):
                m.d.sync += [crc.eq(0xFFFF), seq.eq(0xFF)]
                m.next = "TYPE"
            with m.State("TYPE"):
                with m.If(got):
                    m.d.sync += [kind.eq(byte), crc.eq(crc_next)]
                    m.next = "LEN0"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("LEN0"):
                with m.If(got):
                    m.d.sync += [len_lo.eq(byte), crc.eq(crc_next)]
                    m.next = "LEN1"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("LEN1"):
                with m.If(got):
                    m.d.sync += crc.eq(crc_next)
                    length = byte << 8 | len_lo
                    with m.If(kind == T_STATUS):
                        with m.If(length == 0):
                            m.next = "CRC0"
                        with m.Else():
                            m.d.comb += [nak_set.eq(1), nak_code.eq(NAK_LENGTH)]
                            m.next = "DISCARD"
                    if CW:
                        with m.Elif(kind == T_CONFIG):
                            with m.If((length == 0) | (length > 1 + 4 * CW) | (length[:2] != 1)):
                                refuse(NAK_LENGTH)
                            with m.Elif(self.busy):
                                refuse(NAK_BUSY)
                            with m.Else():
                                m.d.sync += [left.eq(length - 1), cwaddr.eq(0), cbyte.eq(0)]
                                m.next = "SEQ"
                    with m.Elif(kind == T_SAMPLE):
                        with m.If(length != sample_len):
                            refuse(NAK_LENGTH)
                        with m.Else():
                            m.d.sync += left.eq(sample_len - 1)
                            m.next = "SEQ"
                    with m.Else():
                        m.d.comb += [nak_set.eq(1), nak_code.eq(NAK_TYPE)]
                        m.next = "DISCARD"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("SEQ"):
                with m.If(got):
                    m.d.sync += [seq.eq(byte), crc.eq(crc_next)]
                    if CW:
                        with m.If(kind == T_CONFIG):
                            m.next = "CPAYLOAD"
                            with m.If(left == 0):
                                m.next = "CRC0"
                    with m.If(kind == T_SAMPLE):
                        with m.If((filled == S) | cfg_busy):  # no free slot: refused, with its seq
                            m.d.comb += [nak_set.eq(1), nak_code.eq(NAK_BUSY), nak_seq.eq(byte)]
                            m.next = "DISCARD"
                        with m.Else():
                            m.d.sync += [acc.eq(0), nbits.eq(0), flush.eq(0), wcount.eq(0), waddr.eq(wslot_base)]
                            m.next = "PAYLOAD"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("PAYLOAD"):
                with m.If(got):
                    m.d.comb += take.eq(1)
                    m.d.sync += [crc.eq(crc_next), left.eq(left - 1)]
                    with m.If(left == 1):
                        m.d.sync += flush.eq(1)
                        m.next = "CRC0"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            if CW:
                with m.State("CPAYLOAD"):
                    with m.If(got):
                        m.d.sync += [crc.eq(crc_next), left.eq(left - 1), cbyte.eq(cbyte + 1)]
                        with m.If(left == 1):
                            m.next = "CRC0"
                        with m.If(cbyte == 3):
                            m.d.comb += cw_port.en.eq(1)
                            m.d.sync += cwaddr.eq(cwaddr + 1)
                        with m.Else():
                            m.d.sync += cword.word_select(cbyte, 8).eq(byte)
                    with m.Elif(idle == self.timeout_cycles):
                        truncated()
            with m.State("CRC0"):
                with m.If(got):
                    m.d.sync += crc_lo.eq(byte)
                    m.next = "CRC1"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("CRC1"):
                with m.If(got):
                    with m.If((byte << 8 | crc_lo) != crc):
                        m.d.comb += [nak_set.eq(1), nak_code.eq(NAK_CRC)]
                    with m.Elif(kind == T_STATUS):
                        m.d.comb += request_info.eq(1)
                    if CW:
                        with m.Elif(kind == T_CONFIG):
                            m.d.comb += start_cfg.eq(1)
                    with m.Else():
                        m.d.comb += commit.eq(1)
                    m.next = "HUNT"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("DISCARD"), m.If(idle == self.timeout_cycles):
                # a frame refused on its header: drop bytes until the line goes idle
                    m.next = "HUNT"
        with m.If(got | rx_fsm.ongoing("HUNT")):
            m.d.sync += idle.eq(0)
        with m.Elif(idle != self.timeout_cycles):
            m.d.sync += idle.eq(idle + 1)
        with m.If(commit):  # the frame's beats were all written (two CRC bytes after its last payload byte)
            m.d.sync += [slot_seq[wslot].eq(seq), wslot.eq(Mux(wslot == S - 1, 0, wslot + 1)),
                         wslot_base.eq(Mux(wslot == S - 1, 0, wslot_base + NB))]
        m.d.sync += filled.eq(filled + commit - fed)

        # ---- feed the committed slots to the accelerator, one sample at a time
        raddr = Signal(range(S * NB))
        rcount = Signal(range(NB + 1))
        first = Signal()
        t_start = Signal(len(self.cycle_count))
        cur_seq = Signal(8)
        fetch = feeding & (rcount != NB)
        # a two-stage pipeline that stalls as one: the block RAM's read, then a register that takes its
        # data (on an ECP5 the block RAM's own output register: snnhw.synth.ebr folds it), so that
        # s_axis_pixel comes from registers
        v1, last1, v2, last2 = Signal(), Signal(), Signal(), Signal()
        data2 = Signal(WB, reset_less=True)  # no reset: read only with v2, and so folded into the OUTREG
        # then a register slice, so that the block RAMs and the accelerator's load logic (wherever the
        # placer puts either) are a cycle apart; the port is the slice's output, so the first beat's
        # handshake below is still the accelerator's
        m.submodules.pixel_slice = ps = SkidBuffer(data.StructLayout({"data": WB, "last": 1}))
        adv = ~v2 | ps.i.ready
        m.d.comb += [pr.en.eq(adv), pr.addr.eq(raddr),
                     ps.i.payload.data.eq(data2), ps.i.payload.last.eq(last2), ps.i.valid.eq(v2),
                     self.pixel_tdata.eq(ps.o.payload.data), self.pixel_tlast.eq(ps.o.payload.last),
                     self.pixel_tvalid.eq(ps.o.valid), ps.o.ready.eq(self.pixel_tready)]
        with m.If(adv):
            m.d.sync += [v1.eq(fetch), last1.eq(rcount == NB - 1), v2.eq(v1), last2.eq(last1), data2.eq(pr.data)]
            with m.If(fetch):
                m.d.sync += [raddr.eq(Mux(raddr == S * NB - 1, 0, raddr + 1)), rcount.eq(rcount + 1)]
        with m.If(ps.o.valid & self.pixel_tready & first):  # the accelerator took the sample's first beat
            m.d.sync += [first.eq(0), t_start.eq(self.cycle_count)]
        with m.If(adv & v1 & last1):  # the slot's last beat has left the block RAM
            m.d.comb += fed.eq(1)
            m.d.sync += [feeding.eq(0), rslot.eq(Mux(rslot == S - 1, 0, rslot + 1))]
        # the next sample goes in once the last one's result is captured and a result slot is free
        m.d.comb += start_feed.eq((filled != 0) & ~feeding & ~capturing & (pending != R))
        with m.If(start_feed):
            m.d.sync += [feeding.eq(1), rcount.eq(0), first.eq(1), capturing.eq(1), cur_seq.eq(slot_seq[rslot])]

        # ---- collect the result beats into the result ring
        waddr_res = Signal(range(R * NW))
        m.d.comb += [self.result_tready.eq(capturing), resw.addr.eq(waddr_res), resw.data.eq(self.result_tdata)]
        with m.If(self.result_tvalid & capturing):
            m.d.comb += resw.en.eq(1)
            m.d.sync += waddr_res.eq(Mux(waddr_res == R * NW - 1, 0, waddr_res + 1))
            with m.If(self.result_tlast):
                m.d.comb += captured.eq(1)
                m.d.sync += [capturing.eq(0), res_seq[cap_slot].eq(cur_seq),
                             res_cycles[cap_slot].eq(self.cycle_count - t_start + 1),
                             cap_slot.eq(Mux(cap_slot == R - 1, 0, cap_slot + 1))]
        m.d.sync += pending.eq(pending + start_feed - sent_result)
        result_ready = (pending != 0) & ~(capturing & (pending == 1))  # the oldest result slot is complete

        # ---- feed a CONFIG frame's words to the accelerator, then read its configuration status
        loaded_ready = Signal()
        cfg_seq = Signal(8)
        status = Signal(8 * LOADED_BYTES)
        if CW:
            cfeeding = Signal()
            craddr = Signal(range(CW + 1))
            cn = Signal(range(CW + 1))
            c_valid = Signal()
            c_last = Signal()
            wait = Signal(range(STATUS_WAIT + 1))
            waiting = Signal()
            cfetch = cfeeding & (craddr != cn)
            m.d.comb += [cr_port.en.eq(~c_valid | self.config_tready), cr_port.addr.eq(craddr),
                         self.config_tdata.eq(cr_port.data), self.config_tvalid.eq(c_valid),
                         self.config_tlast.eq(c_last)]
            with m.If(cr_port.en):
                m.d.sync += [c_valid.eq(cfetch), c_last.eq(craddr == cn - 1)]
                with m.If(cfetch):
                    m.d.sync += craddr.eq(craddr + 1)
            with m.If(cfeeding & (craddr == cn) & (~c_valid | self.config_tready)):
                m.d.sync += [cfeeding.eq(0), waiting.eq(1), wait.eq(STATUS_WAIT)]
            with m.If(waiting):
                m.d.sync += wait.eq(wait - 1)
                with m.If(wait == 0):
                    m.d.sync += [waiting.eq(0), loaded_ready.eq(1),
                                 status.eq(Cat(cfg_seq, self.cfg_committed, Const(0, 7), self.cfg_hash,
                                               self.cfg_crc_errors[:32], self.cfg_errors[:32],
                                               self.cfg_refused[:32]))]
            with m.If(start_cfg):
                m.d.sync += [cfg_busy.eq(1), cfeeding.eq(1), craddr.eq(0), cn.eq(cwaddr), cfg_seq.eq(seq)]

        # ---- transmit: one frame at a time, NAK before INFO before RESULT before LOADED
        nak_pending = Signal()
        nak_out = Signal(16)  # seq, code
        info_pending = Signal()
        msg = Signal(2)  # 0 NAK, 1 INFO, 2 RESULT, 3 LOADED
        blen = Signal(16)
        bidx = Signal(range(max(len(self.info), result_len, LOADED_BYTES) + 1))
        word = Signal(range(R * NW))
        bsel = Signal(range(max(rb, 2)))
        cycles = Signal(32)
        m.d.comb += cycles.eq(res_cycles[tx_slot])
        with m.If(nak_set):
            m.d.sync += [nak_pending.eq(1), nak_out.eq(nak_seq | nak_code << 8),
                         self.naks.eq(self.naks + 1)]
        with m.If(request_info):
            m.d.sync += info_pending.eq(1)

        tx_byte = Signal(8)
        crc_tx = Signal(16)
        m.d.comb += [self.tx.payload.eq(tx_byte), resr.addr.eq(word), infor.addr.eq(bidx)]
        body = Signal(8)
        body_q = Signal(8)
        word_byte = Signal(8)
        with m.Switch(bsel):
            for k in range(rb):
                with m.Case(k):
                    m.d.comb += word_byte.eq(resr.data[8 * k:8 * (k + 1)])
        cyc_byte = Signal(8)
        cidx = Signal(2)
        m.d.comb += cidx.eq(bidx - (result_len - 4))
        with m.Switch(cidx):
            for k in range(4):
                with m.Case(k):
                    m.d.comb += cyc_byte.eq(cycles[8 * k:8 * (k + 1)])
        with m.Switch(msg):
            with m.Case(0):
                m.d.comb += body.eq(Mux(bidx == 0, nak_out[:8], nak_out[8:]))
            with m.Case(1):
                m.d.comb += body.eq(infor.data)
            with m.Case(3):
                m.d.comb += body.eq(status.word_select(bidx[:5], 8))
            with m.Default():
                m.d.comb += body.eq(Mux(bidx == 0, res_seq[tx_slot],
                                        Mux(bidx >= result_len - 4, cyc_byte, word_byte)))
        sent = self.tx.valid & self.tx.ready
        crc_tx_next = crc16_step(crc_tx, tx_byte)
        with m.FSM(name="tx_fsm") as tx_fsm:
            with m.State("IDLE"):
                with m.If(nak_pending & ~nak_set):
                    m.d.sync += [msg.eq(0), blen.eq(2), nak_pending.eq(0)]
                    m.next = "SYNC"
                with m.Elif(info_pending):
                    m.d.sync += [msg.eq(1), blen.eq(len(self.info)), info_pending.eq(0)]
                    m.next = "SYNC"
                with m.Elif(result_ready):
                    m.d.sync += [msg.eq(2), blen.eq(result_len)]
                    m.next = "SYNC"
                with m.Elif(loaded_ready):
                    m.d.sync += [msg.eq(3), blen.eq(LOADED_BYTES)]
                    m.next = "SYNC"
            with m.State("SYNC"):
                m.d.comb += tx_byte.eq(SYNC)
                with m.If(sent):
                    m.d.sync += crc_tx.eq(0xFFFF)
                    m.next = "TYPE"
            with m.State("TYPE"):
                m.d.comb += tx_byte.eq(Mux(msg == 0, T_NAK, Mux(msg == 1, T_INFO, Mux(msg == 2, T_RESULT, T_LOADED))))
                with m.If(sent):
                    m.d.sync += crc_tx.eq(crc_tx_next)
                    m.next = "LEN0"
            with m.State("LEN0"):
                m.d.comb += tx_byte.eq(blen[:8])
                with m.If(sent):
                    m.d.sync += crc_tx.eq(crc_tx_next)
                    m.next = "LEN1"
            with m.State("LEN1"):
                m.d.comb += tx_byte.eq(blen[8:])
                with m.If(sent):
                    m.d.sync += [crc_tx.eq(crc_tx_next), bidx.eq(0), bsel.eq(0)]
                    m.next = "PREP"
            with m.State("PREP"):  # the next body byte into its register (no multiplexer before the UART)
                m.d.sync += body_q.eq(body)
                m.next = "BODY"
            with m.State("BODY"):
                m.d.comb += tx_byte.eq(body_q)
                with m.If(sent):
                    m.d.sync += [crc_tx.eq(crc_tx_next), bidx.eq(bidx + 1)]
                    m.next = "PREP"
                    with m.If((msg == 2) & (bidx != 0) & (bidx <= NW * rb)):  # a result word's byte
                        with m.If(bsel == rb - 1):
                            m.d.sync += [bsel.eq(0), word.eq(Mux(word == R * NW - 1, 0, word + 1))]
                        with m.Else():
                            m.d.sync += bsel.eq(bsel + 1)
                    with m.If(bidx == blen - 1):
                        m.next = "CRC0"
            with m.State("CRC0"):
                m.d.comb += tx_byte.eq(crc_tx[:8])
                with m.If(sent):
                    m.next = "CRC1"
            with m.State("CRC1"):
                m.d.comb += tx_byte.eq(crc_tx[8:])
                with m.If(sent):
                    with m.If(msg == 2):
                        m.d.comb += sent_result.eq(1)
                        m.d.sync += tx_slot.eq(Mux(tx_slot == R - 1, 0, tx_slot + 1))
                    with m.If(msg == 3):
                        m.d.sync += [loaded_ready.eq(0), cfg_busy.eq(0)]
                    m.next = "IDLE"
            m.d.comb += self.tx.valid.eq(~tx_fsm.ongoing("IDLE") & ~tx_fsm.ongoing("PREP"))
        return m
