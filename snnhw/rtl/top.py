"""The accelerator top: layers chained by spike streams, AXI4-Stream ports.

::

    s_axis_pixel ─▶ [broadcast] ─▶ encoder cores ─▶ [merge] ─▶ tap_0 ─▶ FIFO ─┐
        ┌─────────────────────────────────────────────────────────────────────┘
        └▶ [broadcast] ─▶ dense cores ─▶ [merge] ─▶ tap_1 ─▶ FIFO ─▶ … ─▶ readout ─▶ m_axis_result

Every arrow after the pixel stream is a differential-time spike stream. A
layer split into several cores gets a broadcast in front and a spike-merge
tree behind (plus a tick filter); a single-core layer gets neither. See
``docs/architecture.md`` for every port.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from amaranth.hdl import ClockDomain, ClockSignal, DomainRenamer, Module, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.ir import Network, Readout
from snnhw.rtl.build import Build, core_slices
from snnhw.rtl.core import RunParams
from snnhw.rtl.counter import Counter, counter_latency
from snnhw.rtl.dense import DenseCore
from snnhw.rtl.encoder import EncoderCore
from snnhw.rtl.fifo import StreamFIFO
from snnhw.rtl.fork import Broadcast
from snnhw.rtl.framing import SampleFramer, beat_layout
from snnhw.rtl.loader import ConfigLoader
from snnhw.rtl.merge import SpikeMerge, TickFilter
from snnhw.rtl.readout import Readout as ReadoutUnit
from snnhw.rtl.stream import token_layout

__all__ = ["COUNTER_BITS", "COUNTER_LAG", "SEQUENCE_BITS", "Accelerator", "beats_per_sample", "pack_beats", "port_table", "result_bits", "score_bits"]

#: Width of the cycle counters (they wrap).
COUNTER_BITS = 32
#: Width of a result's sequence number (``m_axis_result_tuser``; it wraps).
SEQUENCE_BITS = 16
#: Cycles by which the counter ports trail the events they count (their carry is pipelined).
COUNTER_LAG = counter_latency(COUNTER_BITS)


def _bytes(bits: int) -> int:
    return 8 * ((bits + 7) // 8)


def score_bits(network: Network) -> int:
    """Signed width of a score: ``P`` for ``potential``, enough for ``T·(2^A − 1)`` for ``spike_count``."""
    last = network.layers[-1]
    if network.readout is Readout.POTENTIAL:
        return last.potential_bits
    return (network.time_steps * last.max_amplitude).bit_length() + 1


def result_bits(network: Network) -> int:
    """Width of ``m_axis_result_tdata``: a score or the prediction, rounded up to whole bytes."""
    pred = max(1, (network.output_size - 1).bit_length())
    return _bytes(max(score_bits(network), pred))


def beats_per_sample(network: Network, build: Build) -> int:
    """Beats of ``s_axis_pixel`` per sample: ``ceil(input.size / pixels_per_beat)``."""
    return -(-network.input.size // build.pixels_per_beat)


def pack_beats(inputs: np.ndarray, bits: int, pixels_per_beat: int) -> list[list[int]]:
    """Each sample's ``s_axis_pixel`` beat words: ``pixels_per_beat`` values per beat, value k in bits
    ``[bits·k + bits − 1 : bits·k]``, the last beat padded with zeros."""
    out = []
    for sample in np.asarray(inputs, dtype=np.int64):
        words = []
        for start in range(0, len(sample), pixels_per_beat):
            word = 0
            for k, value in enumerate(sample[start:start + pixels_per_beat]):
                word |= int(value) << (bits * k)
            words.append(word)
        out.append(words)
    return out


def port_table(network: Network, build: Build) -> list[dict[str, object]]:
    """Every top-level port: name, direction, width and meaning (for ``metadata.json`` and the docs)."""
    B = network.input.bits
    ports: list[dict[str, object]] = [
        {"name": "clk", "dir": "in", "width": 1, "meaning": "clock (rising edge)"},
        {"name": "rst", "dir": "in", "width": 1, "meaning": "synchronous reset, active high"},
        {"name": "s_axis_pixel_tdata", "dir": "in", "width": _bytes(B * build.pixels_per_beat),
         "meaning": (f"one input value per beat in bits [{B - 1}:0]; {network.input.size} beats per sample"
                     if build.pixels_per_beat == 1 else
                     f"{build.pixels_per_beat} input values per beat, value k in bits [{B}k+{B - 1}:{B}k]; "
                     f"{beats_per_sample(network, build)} beats per sample, the last one padded with zeros")},
        {"name": "s_axis_pixel_tvalid", "dir": "in", "width": 1, "meaning": "AXI4-Stream valid"},
        {"name": "s_axis_pixel_tready", "dir": "out", "width": 1, "meaning": "AXI4-Stream ready"},
        {"name": "s_axis_pixel_tlast", "dir": "in", "width": 1,
         "meaning": (f"last beat of a sample, checked: a sample whose tlast is not on its beat "
                     f"{beats_per_sample(network, build)} is dropped whole and counted in framing_errors")},
        {"name": "m_axis_result_tdata", "dir": "out", "width": result_bits(network),
         "meaning": f"{network.output_size} score beats (signed, {score_bits(network)} bits, sign-extended) "
                    "then the prediction"},
        {"name": "m_axis_result_tvalid", "dir": "out", "width": 1, "meaning": "AXI4-Stream valid"},
        {"name": "m_axis_result_tready", "dir": "in", "width": 1, "meaning": "AXI4-Stream ready"},
        {"name": "m_axis_result_tlast", "dir": "out", "width": 1, "meaning": "set on the prediction beat"},
        {"name": "m_axis_result_tuser", "dir": "out", "width": SEQUENCE_BITS,
         "meaning": "sequence number of the accepted sample the beat belongs to: 0 for the first after reset "
                    f"(wraps at 2^{SEQUENCE_BITS})"},
        {"name": "samples_accepted", "dir": "out", "width": COUNTER_BITS,
         "meaning": f"samples accepted since reset (tlast on their last beat), as of {COUNTER_LAG} cycles earlier "
                    "(wraps)"},
        {"name": "framing_errors", "dir": "out", "width": COUNTER_BITS,
         "meaning": f"samples dropped since reset because their tlast came early or late, as of {COUNTER_LAG} "
                    "cycles earlier (wraps)"},
        {"name": "cycle_count", "dir": "out", "width": COUNTER_BITS,
         "meaning": f"cycles since reset, as of {COUNTER_LAG} cycles earlier (wraps)"},
    ]
    if build.load is not None:
        ports += [
            {"name": "s_axis_config_tdata", "dir": "in", "width": 32,
             "meaning": "configuration frames, one 32-bit word per beat (docs/architecture.md, snnhw.rtl.loader)"},
            {"name": "s_axis_config_tvalid", "dir": "in", "width": 1, "meaning": "AXI4-Stream valid"},
            {"name": "s_axis_config_tready", "dir": "out", "width": 1, "meaning": "AXI4-Stream ready (always 1)"},
            {"name": "s_axis_config_tlast", "dir": "in", "width": 1, "meaning": "last word (the CRC) of a frame"},
            {"name": "config_committed", "dir": "out", "width": 1,
             "meaning": "a network is loaded and committed: samples are taken"},
            {"name": "config_hash", "dir": "out", "width": 64,
             "meaning": "identifier of the committed network (first 16 hex digits of its content hash)"},
            {"name": "config_crc_errors", "dir": "out", "width": COUNTER_BITS,
             "meaning": f"configuration frames with a bad CRC, as of {COUNTER_LAG} cycles earlier (wraps)"},
            {"name": "config_errors", "dir": "out", "width": COUNTER_BITS,
             "meaning": "malformed configuration frames and refused commits (wraps)"},
            {"name": "config_refused", "dir": "out", "width": COUNTER_BITS,
             "meaning": "loads refused because a sample was in flight (wraps)"},
        ]
    for i, layer in enumerate(network.layers):
        w = network.stream_widths(i)
        if network.fires(i):
            ports += [
                {"name": f"tap_{i}_tdata", "dir": "out", "width": _bytes(w.total),
                 "meaning": f"layer {i} ({layer.name}) token: dt [{w.dt - 1}:0], idx [{w.dt + w.idx - 1}:{w.dt}], "
                            f"amp [{w.total - 1}:{w.dt + w.idx}]; amp 0 = end of window"},
                {"name": f"tap_{i}_tvalid", "dir": "out", "width": 1,
                 "meaning": f"a layer-{i} token is transferred this cycle (monitor only, no back-pressure)"},
                {"name": f"tap_{i}_tlast", "dir": "out", "width": 1, "meaning": "the token is the end of window"},
            ]
        ports += [
            {"name": f"busy_{i}", "dir": "out", "width": COUNTER_BITS,
             "meaning": f"cycles in which a core of layer {i} issued a row, as of {COUNTER_LAG} cycles earlier "
                        "(wraps)"},
            {"name": f"stall_{i}", "dir": "out", "width": COUNTER_BITS,
             "meaning": f"cycles in which layer {i}'s output stream was valid and not ready, as of "
                        f"{COUNTER_LAG} cycles earlier (wraps)"},
        ]
        if build.layers[i].weights == "loadable" and i > 0:
            core = Accelerator.load_port_widths(network, build, i)
            ports += [
                {"name": f"wl_{i}_core", "dir": "in", "width": core["core"], "meaning": "weight load: core"},
                {"name": f"wl_{i}_addr", "dir": "in", "width": core["addr"],
                 "meaning": "weight load: word j·rows + r of the core's weight memory"},
                {"name": f"wl_{i}_lane", "dir": "in", "width": core["lane"], "meaning": "weight load: lane"},
                {"name": f"wl_{i}_data", "dir": "in", "width": layer.weight_bits,
                 "meaning": "weight load: the weight (two's complement)"},
                {"name": f"wl_{i}_en", "dir": "in", "width": 1, "meaning": "weight load: write enable"},
            ]
    return ports


class Accelerator(wiring.Component):
    """The generated accelerator for ``network`` under ``build`` (ports: :func:`port_table`)."""

    def __init__(self, network: Network, build: Build) -> None:
        self.network, self.build = network, build
        members: dict[str, object] = {}
        for p in port_table(network, build):
            if p["name"] in ("clk", "rst"):
                continue
            members[str(p["name"])] = (In if p["dir"] == "in" else Out)(int(p["width"]))  # type: ignore[call-overload]
        super().__init__(members)

    @staticmethod
    def load_port_widths(network: Network, build: Build, i: int) -> dict[str, int]:
        """Widths of layer ``i``'s weight-load fields."""
        lb = build.layers[i]
        layer = network.layers[i]
        rows = max(-(-(hi - lo) // lb.lanes) for lo, hi in core_slices(layer.size, lb.cores))
        return {"core": max(1, (lb.cores - 1).bit_length()),
                "addr": max(1, (layer.n_in * rows - 1).bit_length()),
                "lane": max(1, (lb.lanes - 1).bit_length())}

    def elaborate(self, platform) -> Module:
        top = Module()
        net, T = self.network, self.network.time_steps
        B = net.input.bits
        top.submodules.cycles = cycles = Counter(COUNTER_BITS)
        top.d.comb += [cycles.en.eq(1), self.cycle_count.eq(cycles.value)]
        load = self.build.load
        loader = None
        if load is None:
            m = top
        else:
            # a loadable design: the configuration loader in the `sync` domain, everything else in
            # `core`, the same clock with a reset that the loader also asserts during a load
            preloaded = replace(net, time_steps=load.time_steps) if load.preloaded else None
            top.submodules.loader = loader = ConfigLoader(net, self.build, counter_bits=COUNTER_BITS,
                                                          preloaded=preloaded)
            top.d.comb += [loader.i.payload.data.eq(self.s_axis_config_tdata),
                           loader.i.payload.last.eq(self.s_axis_config_tlast),
                           loader.i.valid.eq(self.s_axis_config_tvalid),
                           self.s_axis_config_tready.eq(loader.i.ready),
                           self.config_committed.eq(loader.committed), self.config_hash.eq(loader.ident),
                           self.config_crc_errors.eq(loader.crc_errors), self.config_errors.eq(loader.errors),
                           self.config_refused.eq(loader.refused)]
            top.domains.core = core_domain = ClockDomain("core")
            top.d.comb += [core_domain.clk.eq(ClockSignal("sync")),
                           core_domain.rst.eq(ResetSignal("sync") | loader.hold)]
            m = Module()
            top.submodules.datapath = DomainRenamer({"sync": "core"})(m)
            targets: dict[tuple[int, int], dict[str, int]] = {}
            for tg in loader.targets:
                targets.setdefault((tg.layer, tg.core), {})[tg.memory] = tg.index

        ppb = self.build.pixels_per_beat
        m.submodules.framer = framer = SampleFramer(B * ppb, beats_per_sample(net, self.build), COUNTER_BITS,
                                                    status=loader is not None)
        valid, ready = self.s_axis_pixel_tvalid, framer.i.ready
        if loader is not None:  # no sample before a committed load
            valid, ready = valid & loader.committed, ready & loader.committed
        m.d.comb += [framer.i.payload.data.eq(self.s_axis_pixel_tdata[:B * ppb]),
                     framer.i.payload.last.eq(self.s_axis_pixel_tlast), framer.i.valid.eq(valid),
                     self.s_axis_pixel_tready.eq(ready), self.samples_accepted.eq(framer.accepted),
                     self.framing_errors.eq(framer.errors)]
        src = framer.o  # the stream feeding the next layer

        value_streams = []
        for i, layer in enumerate(net.layers):
            lb = self.build.layers[i]
            widths = net.stream_widths(i)
            fires = net.fires(i)
            slices = core_slices(layer.size, lb.cores)
            ticks = fires and lb.cores > 1
            cores = []
            for c, (lo, hi) in enumerate(slices):
                lanes = min(lb.lanes, hi - lo)
                run: dict[str, object] = {}
                if loader is not None:
                    run = {"params": RunParams(*loader.layer_params(i)), "bus": loader.bus, "targets": targets[(i, c)]}
                if i == 0:
                    if load is not None:
                        run.update(entry_capacity=load.entries[c], fan_in=load.fan_in)
                    core = EncoderCore(layer, time_steps=T, input_bits=B, out_widths=widths, lo=lo, hi=hi,
                                       lanes=lanes, fires=fires, ticks=ticks, memory=lb.memory,
                                       depth=lb.pipeline_depth, pixels_per_beat=ppb, **run)  # type: ignore[arg-type]
                else:
                    core = DenseCore(layer, time_steps=T, in_widths=net.stream_widths(i - 1), out_widths=widths,
                                     lo=lo, hi=hi, lanes=lanes, fires=fires, ticks=ticks, memory=lb.memory,
                                     loadable=lb.weights == "loadable", depth=lb.pipeline_depth,
                                     **run)  # type: ignore[arg-type]
                    if lb.weights == "loadable":
                        m.d.comb += [core.wl_addr.eq(getattr(self, f"wl_{i}_addr")),
                                     core.wl_lane.eq(getattr(self, f"wl_{i}_lane")),
                                     core.wl_data.eq(getattr(self, f"wl_{i}_data")),
                                     core.wl_en.eq(getattr(self, f"wl_{i}_en") & (getattr(self, f"wl_{i}_core") == c))]
                m.submodules[f"l{i}_core{c}"] = core
                cores.append(core)
            # input side
            if len(cores) == 1:
                wiring.connect(m, src, cores[0].i)
            else:
                shape = beat_layout(B * ppb) if i == 0 else token_layout(net.stream_widths(i - 1))
                m.submodules[f"l{i}_fork"] = fork = Broadcast(shape, len(cores))
                wiring.connect(m, src, fork.i)
                for c, core in enumerate(cores):
                    wiring.connect(m, getattr(fork, f"o{c}"), core.i)
            m.submodules[f"busy{i}"] = busy = Counter(COUNTER_BITS)
            m.submodules[f"stall{i}"] = stall = Counter(COUNTER_BITS)
            m.d.comb += [getattr(self, f"busy_{i}").eq(busy.value), getattr(self, f"stall_{i}").eq(stall.value)]
            any_busy = 0
            for core in cores:
                any_busy = any_busy | core.busy
            m.d.comb += busy.en.eq(any_busy)
            if not fires:
                value_streams = [core.o for core in cores]
                continue
            # output side: one token stream per layer
            out = stream.Signature(token_layout(widths)).create(path=(f"l{i}_out",))
            if len(cores) == 1:
                co = cores[0].o
                m.d.comb += [out.payload.dt.eq(co.payload.dt), out.payload.idx.eq(co.payload.idx),
                             out.payload.amp.eq(co.payload.amp), out.valid.eq(co.valid), co.ready.eq(out.ready)]
            else:
                m.submodules[f"l{i}_merge"] = merge = SpikeMerge(widths, len(cores), ticks=True)
                for c, core in enumerate(cores):
                    wiring.connect(m, core.o, getattr(merge, f"i{c}"))
                m.submodules[f"l{i}_ticks"] = tf = TickFilter(widths)
                wiring.connect(m, merge.o, tf.i)
                m.d.comb += [out.payload.eq(tf.o.payload), out.valid.eq(tf.o.valid), tf.o.ready.eq(out.ready)]
            m.d.comb += [
                getattr(self, f"tap_{i}_tdata").eq(out.payload.as_value()),
                getattr(self, f"tap_{i}_tvalid").eq(out.valid & out.ready),
                getattr(self, f"tap_{i}_tlast").eq(out.payload.amp == 0),
            ]
            m.d.comb += stall.en.eq(out.valid & ~out.ready)
            m.submodules[f"l{i}_fifo"] = q = StreamFIFO(token_layout(widths), lb.fifo_depth)
            m.d.comb += [q.i.payload.eq(out.payload), q.i.valid.eq(out.valid), out.ready.eq(q.i.ready)]
            src = q.o


        lastl = net.layers[-1]
        rbits = result_bits(net)
        if net.readout is Readout.SPIKE_COUNT:
            ro = ReadoutUnit(size=lastl.size, widths=net.stream_widths(len(net.layers) - 1),
                             score_bits=score_bits(net), data_bits=rbits, mode="spike")
            m.submodules.readout = ro
            wiring.connect(m, src, ro.i)
        else:
            ro = ReadoutUnit(size=lastl.size, widths=net.stream_widths(len(net.layers) - 1),
                             score_bits=score_bits(net), data_bits=rbits, mode="value",
                             value_bits=lastl.potential_bits, inputs=len(value_streams))
            m.submodules.readout = ro
            for c, vs in enumerate(value_streams):
                wiring.connect(m, vs, getattr(ro, f"i{c}"))
        m.d.comb += [
            self.m_axis_result_tdata.eq(ro.o.payload.data),
            self.m_axis_result_tlast.eq(ro.o.payload.last),
            self.m_axis_result_tvalid.eq(ro.o.valid),
            ro.o.ready.eq(self.m_axis_result_tready),
        ]
        # results leave in the order of the accepted samples: their sequence number counts the results
        seq = Signal(SEQUENCE_BITS, name="result_seq")
        with m.If(ro.o.valid & self.m_axis_result_tready & ro.o.payload.last):
            m.d.sync += seq.eq(seq + 1)
        m.d.comb += self.m_axis_result_tuser.eq(seq)
        if loader is not None:
            # a sample is in flight from its first beat to its result's last beat: a load waits
            pending = Signal(SEQUENCE_BITS + 1, name="samples_pending")
            done = ro.o.valid & self.m_axis_result_tready & ro.o.payload.last
            m.d.sync += pending.eq(pending + framer.good - done)
            m.d.comb += loader.busy.eq((pending != 0) | ~framer.idle)
        return top
