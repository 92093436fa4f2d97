"""The board side of the host protocol (:mod:`snnhw.board.protocol`), in Amaranth.

:class:`HostInterface` sits between a UART's byte streams and the
accelerator's AXI4-Stream ports::

    rx bytes ─▶ frame parser ─▶ sample buffer ─▶ feeder ─▶ s_axis_pixel
                     │ (CRC checked before the buffer is fed)
    tx bytes ◀─ frame writer ◀─ result buffer ◀─ m_axis_result, cycle_count

A sample frame is written into the sample buffer as it arrives, already packed
into ``s_axis_pixel`` beats, and fed to the accelerator only once its CRC has
matched, so a corrupted or truncated frame is never processed, not even in
part: the interface answers it with a ``NAK`` and waits for the next ``SYNC``.
The feeder then streams one beat per cycle (or as fast as ``tready`` allows),
and the result buffer takes every result beat the cycle it is offered, so the
cycle count of a sample is the accelerator's alone: from the cycle its first
pixel beat is accepted to the cycle its prediction beat is (the definition of
the co-simulation's per-sample latency), read from the accelerator's
``cycle_count`` port.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
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
    value_bytes,
)

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
        The accelerator's input: values per sample, bits per value, values per ``s_axis_pixel`` beat.
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
    """

    def __init__(self, *, input_size: int, input_bits: int, pixels_per_beat: int, output_size: int,
                 result_bits: int, info: bytes, timeout_cycles: int, counter_bits: int = 32,
                 config_words: int = 0) -> None:
        if result_bits % 8:
            raise ValueError(f"result_bits must be whole bytes, got {result_bits}")
        self.input_size, self.input_bits, self.ppb = input_size, input_bits, pixels_per_beat
        self.output_size, self.result_bits = output_size, result_bits
        self.info = bytes(info)
        self.timeout_cycles = timeout_cycles
        self.beats = -(-input_size // pixels_per_beat)
        self.config_words = config_words
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
        B, ppb, vb = self.input_bits, self.ppb, value_bytes(self.input_bits)
        rb = self.result_bits // 8
        sample_len = sample_payload_bytes(self.input_size, B)
        result_len = result_payload_bytes(self.output_size, rb)

        # ---- buffers
        m.submodules.pixels = pixels = Memory(shape=unsigned(B * ppb), depth=self.beats, init=[])
        pw = pixels.write_port()
        pr = pixels.read_port()
        m.submodules.results = results = Memory(shape=unsigned(self.result_bits), depth=self.output_size + 1, init=[])
        resw = results.write_port()
        resr = results.read_port(domain="comb")
        m.submodules.info = info = Memory(shape=unsigned(8), depth=len(self.info), init=list(self.info))
        infor = info.read_port(domain="comb")

        busy = Signal()  # from a sample's CRC match until its result frame is sent
        m.d.comb += self.busy.eq(busy)

        # ---- receive: frame parser and sample buffer writer
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
        start = Signal()
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
        # packing of input values into beats
        lo_byte = Signal(8)
        byte_k = Signal(range(max(vb, 2)))
        slot = Signal(range(max(ppb, 2)))
        beat = Signal(B * ppb)
        beat_new = Signal(B * ppb)
        waddr = Signal(range(self.beats + 1))
        value = Signal(B)
        m.d.comb += value.eq((byte << 8 | lo_byte) if vb == 2 else byte)
        m.d.comb += beat_new.eq(beat)
        with m.Switch(slot):
            for j in range(ppb):
                with m.Case(j):
                    m.d.comb += beat_new[B * j:B * (j + 1)].eq(value)
        m.d.comb += [pw.addr.eq(waddr), pw.data.eq(beat_new)]

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
                    m.d.sync += [byte_k.eq(0), slot.eq(0), beat.eq(0), waddr.eq(0)]
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
                            with m.Elif(busy):
                                refuse(NAK_BUSY)
                            with m.Else():
                                m.d.sync += [left.eq(length - 1), cwaddr.eq(0), cbyte.eq(0)]
                                m.next = "SEQ"
                    with m.Elif(kind == T_SAMPLE):
                        with m.If(length != sample_len):
                            refuse(NAK_LENGTH)
                        with m.Elif(busy):
                            refuse(NAK_BUSY)
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
                    m.next = "PAYLOAD"
                    if CW:
                        with m.If(kind == T_CONFIG):
                            m.next = "CPAYLOAD"
                            with m.If(left == 0):
                                m.next = "CRC0"
                with m.Elif(idle == self.timeout_cycles):
                    truncated()
            with m.State("PAYLOAD"):
                with m.If(got):
                    m.d.sync += [crc.eq(crc_next), left.eq(left - 1)]
                    with m.If(left == 1):
                        m.next = "CRC0"
                    if vb == 2:
                        m.d.sync += byte_k.eq(~byte_k)
                    with m.If(byte_k == vb - 1):
                        full = (slot == ppb - 1) | (left == 1)
                        with m.If(full):
                            m.d.comb += pw.en.eq(1)
                            m.d.sync += [waddr.eq(waddr + 1), slot.eq(0), beat.eq(0)]
                        with m.Else():
                            m.d.sync += [slot.eq(slot + 1), beat.eq(beat_new)]
                    with m.Else():
                        m.d.sync += lo_byte.eq(byte)
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
                        m.d.comb += start.eq(1)
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

        # ---- feed the sample buffer to the accelerator
        feeding = Signal()
        raddr = Signal(range(self.beats + 1))
        out_valid = Signal()
        out_last = Signal()
        first = Signal()
        t_start = Signal(len(self.cycle_count))
        t_end = Signal(len(self.cycle_count))
        fetch = feeding & (raddr != self.beats)
        m.d.comb += [pr.en.eq(~out_valid | self.pixel_tready), pr.addr.eq(raddr),
                     self.pixel_tdata.eq(pr.data), self.pixel_tvalid.eq(out_valid), self.pixel_tlast.eq(out_last)]
        with m.If(pr.en):
            m.d.sync += [out_valid.eq(fetch), out_last.eq(raddr == self.beats - 1)]
            with m.If(fetch):
                m.d.sync += raddr.eq(raddr + 1)
        pixel_go = out_valid & self.pixel_tready
        with m.If(pixel_go & first):
            m.d.sync += [first.eq(0), t_start.eq(self.cycle_count)]
        with m.If(pixel_go & out_last):
            m.d.sync += feeding.eq(0)

        # ---- collect the result beats
        capturing = Signal()
        widx = Signal(range(self.output_size + 2))
        result_ready = Signal()
        m.d.comb += [self.result_tready.eq(capturing), resw.addr.eq(widx), resw.data.eq(self.result_tdata)]
        with m.If(self.result_tvalid & capturing):
            m.d.comb += resw.en.eq(1)
            m.d.sync += widx.eq(widx + 1)
            with m.If(self.result_tlast):
                m.d.sync += [capturing.eq(0), t_end.eq(self.cycle_count), result_ready.eq(1)]
        result_seq = Signal(8)
        with m.If(start):
            m.d.sync += [busy.eq(1), feeding.eq(1), raddr.eq(0), first.eq(1), capturing.eq(1), widx.eq(0),
                         result_seq.eq(seq)]

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
                m.d.sync += [busy.eq(1), cfeeding.eq(1), craddr.eq(0), cn.eq(cwaddr), cfg_seq.eq(seq)]

        # ---- transmit: one frame at a time, NAK before INFO before RESULT before LOADED
        nak_pending = Signal()
        nak_out = Signal(16)  # seq, code
        info_pending = Signal()
        msg = Signal(2)  # 0 NAK, 1 INFO, 2 RESULT, 3 LOADED
        blen = Signal(16)
        bidx = Signal(range(max(len(self.info), result_len, LOADED_BYTES) + 1))
        word = Signal(range(self.output_size + 2))
        bsel = Signal(range(max(rb, 2)))
        cycles = Signal(32)
        m.d.comb += cycles.eq(t_end - t_start + 1)
        with m.If(nak_set):
            m.d.sync += [nak_pending.eq(1), nak_out.eq(seq | nak_code << 8),
                         self.naks.eq(self.naks + 1)]
        with m.If(request_info):
            m.d.sync += info_pending.eq(1)

        tx_byte = Signal(8)
        crc_tx = Signal(16)
        m.d.comb += [self.tx.payload.eq(tx_byte), resr.addr.eq(word), infor.addr.eq(bidx)]
        body = Signal(8)
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
                m.d.comb += body.eq(Mux(bidx == 0, result_seq, Mux(bidx >= result_len - 4, cyc_byte, word_byte)))
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
                    m.d.sync += [crc_tx.eq(crc_tx_next), bidx.eq(0), word.eq(0), bsel.eq(0)]
                    m.next = "BODY"
            with m.State("BODY"):
                m.d.comb += tx_byte.eq(body)
                with m.If(sent):
                    m.d.sync += [crc_tx.eq(crc_tx_next), bidx.eq(bidx + 1)]
                    with m.If((msg == 2) & (bidx != 0)):
                        with m.If(bsel == rb - 1):
                            m.d.sync += [bsel.eq(0), word.eq(word + 1)]
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
                        m.d.sync += [result_ready.eq(0), busy.eq(0)]
                    with m.If(msg == 3):
                        m.d.sync += [loaded_ready.eq(0), busy.eq(0)]
                    m.next = "IDLE"
            m.d.comb += self.tx.valid.eq(~tx_fsm.ongoing("IDLE"))
        return m
