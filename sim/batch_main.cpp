// snnhw: batch simulation harness for the generated accelerator (Verilator, C++; no Python per cycle).
//
// Usage: Vsim JOB OUT [SAIF]
//
// JOB (little-endian, written by snnhw.sim.batch): int64 header {n_phases, words_per_beat, beats_per_sample,
// n_taps, n_loads, seed}, float64 {gaps, backpressure}, int64 tap layer indices [n_taps], int64 load rows
// [n_loads * 5] (layer, core, addr, lane, value), then per phase int64 {n_cfg, n_beats, n_results, timeout,
// config_at, reset_at}, uint32 configuration words [n_cfg], uint8 their tlast [n_cfg], uint32 beat words
// [n_beats * words_per_beat], uint8 tlast [n_beats].
//
// It drives the design exactly as the cocotb bench (sim/tb.py) does, cycle for cycle: reset for two
// rising edges, one weight-port write per cycle, one idle cycle. Each phase then sends its configuration
// words on s_axis_config, one per cycle, before its samples (config_at < 0) or from its cycle config_at on,
// beside them; then each cycle it sets the pixel stream (idle with probability `gaps` while beats wait) and
// the result stream's tready (low with probability `backpressure`) from the same SplitMix64 sequence,
// settles, and records every handshake that the next rising edge acts on. A phase ends with its last result
// beat, or, with reset_at >= 0, after a reset of two rising edges at its cycle reset_at.
// OUT gets int64 {n_phases, n_layers}, then per phase {status, cycles, n_results, n_start, n_end}, results,
// start and end cycles, busy and stall per layer, the sequence number (m_axis_result_tuser) of each result,
// {samples_accepted, framing_errors}, the configuration status {committed, hash, crc_errors, errors,
// refused} (zeros for a fixed design), and per tap its word count and words (uint64).
// Progress: one line per finished sample on stdout (counting over the phases).
// Exit status 0, or 3 when a phase passes its `timeout` cycles (OUT still written, that phase's status 3).
//
// Built with -DSNNHW_SAIF (and Verilator's --trace-saif), it writes the switching activity of the run to
// SAIF, from the first phase's samples on (the reset, the weight-port writes and a configuration sent
// before the samples are left out): the clock has a period of 2 * SNNHW_HALF_PERIOD time units (of the
// model's precision), high from time 0 as the cocotb bench's clock, and the trace is sampled after every
// clock edge.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "Vsnnhw_top.h"
#include "verilated.h"
#include "snnhw_ports.h"  // generated per design: port access by index
#ifdef SNNHW_SAIF
#include "verilated_saif_c.h"
#endif

namespace {

struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double random() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

template <typename T>
bool read_array(FILE* f, std::vector<T>& out, size_t n) {
    out.resize(n);
    return n == 0 || fread(out.data(), sizeof(T), n, f) == n;
}

template <typename T>
void write_array(FILE* f, const std::vector<T>& v) {
    if (!v.empty()) fwrite(v.data(), sizeof(T), v.size(), f);
}

#ifdef SNNHW_SAIF
VerilatedSaifC* saif = nullptr;
uint64_t saif_origin = 0;  // the model time at which the SAIF was opened: its time 0
#endif

// One clock cycle: rising edge, then falling edge (each sampled into the SAIF when one is written).
void tick(VerilatedContext* context, Vsnnhw_top* t) {
    t->clk = 1;
    t->eval();
#ifdef SNNHW_SAIF
    if (saif) saif->dump(context->time() - saif_origin);
    context->timeInc(SNNHW_HALF_PERIOD);
#endif
    t->clk = 0;
    t->eval();
#ifdef SNNHW_SAIF
    if (saif) saif->dump(context->time() - saif_origin);
    context->timeInc(SNNHW_HALF_PERIOD);
#else
    (void)context;
#endif
}

// Reset: two rising edges with rst high, the streams idle.
void reset(VerilatedContext* context, Vsnnhw_top* t) {
    t->rst = 1;
    t->s_axis_pixel_tvalid = 0;
    t->m_axis_result_tready = 0;
    snnhw_set_config(t, false, 0, false);
    t->eval();
    tick(context, t);
    tick(context, t);
    t->rst = 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s JOB OUT\n", argv[0]);
        return 2;
    }
    FILE* job = fopen(argv[1], "rb");
    if (!job) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 2;
    }
    std::vector<int64_t> head, taps, loads;
    std::vector<double> probs;
    bool ok = read_array(job, head, 6) && read_array(job, probs, 2);
    const int64_t n_phases = ok ? head[0] : 0, wpb = ok ? head[1] : 0, bps = ok ? head[2] : 1;
    const int64_t n_taps = ok ? head[3] : 0, n_loads = ok ? head[4] : 0;
    const uint64_t seed = ok ? static_cast<uint64_t>(head[5]) : 0;
    ok = ok && read_array(job, taps, n_taps) && read_array(job, loads, n_loads * 5);
    struct Phase {
        std::vector<int64_t> info;
        std::vector<uint32_t> cfg, words;
        std::vector<uint8_t> cfg_last, lasts;
    };
    std::vector<Phase> phases(ok ? n_phases : 0);
    for (auto& ph : phases) {
        ok = ok && read_array(job, ph.info, 6) && read_array(job, ph.cfg, ph.info[0]) &&
             read_array(job, ph.cfg_last, ph.info[0]) && read_array(job, ph.words, ph.info[1] * wpb) &&
             read_array(job, ph.lasts, ph.info[1]);
    }
    fclose(job);
    if (!ok || wpb != SNNHW_PIXEL_WORDS) {
        fprintf(stderr, "malformed job %s\n", argv[1]);
        return 2;
    }
    const double gaps = probs[0], backpressure = probs[1];

    auto context = std::make_unique<VerilatedContext>();
    context->commandArgs(argc, argv);
    auto top = std::make_unique<Vsnnhw_top>(context.get());
    Vsnnhw_top* t = top.get();
    VerilatedContext* c = context.get();
#ifdef SNNHW_SAIF
    std::unique_ptr<VerilatedSaifC> saif_file;
    if (argc > 3) {
        context->traceEverOn(true);
        saif_file = std::make_unique<VerilatedSaifC>();
        t->trace(saif_file.get(), 99);
    }
#endif
    SplitMix64 rng{seed};

    t->clk = 0;
    reset(c, t);
    // Weight-port writes, one per cycle, then a cycle with the write enable low.
    int64_t last_layer = -1;
    for (int64_t r = 0; r < n_loads; ++r) {
        const int64_t* row = &loads[r * 5];
        if (last_layer >= 0 && last_layer != row[0]) snnhw_load_off(t, last_layer);
        snnhw_load(t, row[0], row[1], row[2], row[3], row[4]);
        last_layer = row[0];
        t->eval();
        tick(c, t);
    }
    if (last_layer >= 0) snnhw_load_off(t, last_layer);
    t->eval();
    tick(c, t);

    FILE* out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "cannot write %s\n", argv[2]);
        return 2;
    }
    std::vector<int64_t> out_head = {n_phases, SNNHW_N_LAYERS};
    write_array(out, out_head);
    int64_t cycle = 0, finished = 0, worst = 0;
    for (auto& ph : phases) {
        const int64_t n_cfg = ph.info[0], n_beats = ph.info[1], n_results = ph.info[2], timeout = ph.info[3];
        const int64_t config_at = ph.info[4], reset_at = ph.info[5];
        int64_t cpos = 0;
        if (config_at < 0 && n_cfg > 0) {  // the configuration first, one word per cycle, then one idle cycle
            for (; cpos < n_cfg; ++cpos) {
                snnhw_set_config(t, true, ph.cfg[cpos], ph.cfg_last[cpos] != 0);
                t->eval();
                tick(c, t);
            }
            snnhw_set_config(t, false, 0, false);
            t->eval();
            tick(c, t);
        }
#ifdef SNNHW_SAIF
        if (saif_file && !saif) {  // the activity of the samples: from here on (after reset and configuration)
            saif_origin = c->time();  // the SAIF's own time starts here (its DURATION, T0 and T1 with it)
            saif_file->open(argv[3]);
            saif = saif_file.get();
        }
#endif
        std::vector<int64_t> results, starts, ends, seqs;
        std::vector<std::vector<uint64_t>> tapped(n_taps);
        results.reserve(n_results);
        int64_t pos = 0, status = 0;
        const int64_t begin = cycle;
        while (static_cast<int64_t>(results.size()) < n_results) {
            const int64_t local = cycle - begin;
            if (reset_at >= 0 && local == reset_at) {  // a reset in the middle of the stream ends the phase
                reset(c, t);
                t->eval();
                tick(c, t);
                cycle += 3;
                break;
            }
            const bool cfg = config_at >= 0 && local >= config_at && cpos < n_cfg;
            snnhw_set_config(t, cfg, cfg ? ph.cfg[cpos] : 0, cfg && ph.cfg_last[cpos] != 0);
            const bool offered = pos < n_beats && (gaps == 0.0 || rng.random() >= gaps);
            t->s_axis_pixel_tvalid = offered;
            if (offered) {
                snnhw_set_pixel(t, &ph.words[pos * wpb]);
                t->s_axis_pixel_tlast = ph.lasts[pos];
            }
            const bool ready = backpressure == 0.0 || rng.random() >= backpressure;
            t->m_axis_result_tready = ready;
            t->eval();
            if (cfg && snnhw_config_ready(t)) ++cpos;
            if (offered && t->s_axis_pixel_tready) {
                if (pos % bps == 0) starts.push_back(cycle);
                ++pos;
            }
            if (ready && t->m_axis_result_tvalid) {
                results.push_back(static_cast<int64_t>(t->m_axis_result_tdata));
                if (t->m_axis_result_tlast) {
                    ends.push_back(cycle);
                    seqs.push_back(static_cast<int64_t>(t->m_axis_result_tuser));
                    printf("%lld\n", static_cast<long long>(++finished));
                    fflush(stdout);
                }
            }
            for (int64_t k = 0; k < n_taps; ++k) {
                if (snnhw_tap_valid(t, taps[k])) tapped[k].push_back(snnhw_tap_data(t, taps[k]));
            }
            ++cycle;
            if (cycle - begin > timeout) {
                status = 3;
                break;
            }
            if (static_cast<int64_t>(results.size()) >= n_results && cpos >= n_cfg) break;
            tick(c, t);
        }
        // the rest of a configuration sent beside the samples (the last cycle above was clocked)
        bool rest = false;
        while (config_at >= 0 && cpos < n_cfg && status == 0) {
            rest = true;
            snnhw_set_config(t, true, ph.cfg[cpos], ph.cfg_last[cpos] != 0);
            t->s_axis_pixel_tvalid = 0;
            t->eval();
            if (snnhw_config_ready(t)) ++cpos;
            tick(c, t);
            ++cycle;
        }
        if (rest) {
            snnhw_set_config(t, false, 0, false);
            t->eval();
        }
        // The counters as the last sampled cycle left them (before its rising edge), as the cocotb bench reads them.
        std::vector<int64_t> busy(SNNHW_N_LAYERS), stall(SNNHW_N_LAYERS);
        for (int i = 0; i < SNNHW_N_LAYERS; ++i) {
            busy[i] = snnhw_busy(t, i);
            stall[i] = snnhw_stall(t, i);
        }
        std::vector<int64_t> framing = {static_cast<int64_t>(t->samples_accepted),
                                        static_cast<int64_t>(t->framing_errors)};
        std::vector<int64_t> config(5);
        snnhw_config_status(t, config.data());
        std::vector<int64_t> ph_head = {status, cycle, static_cast<int64_t>(results.size()),
                                        static_cast<int64_t>(starts.size()), static_cast<int64_t>(ends.size())};
        write_array(out, ph_head);
        write_array(out, results);
        write_array(out, starts);
        write_array(out, ends);
        write_array(out, busy);
        write_array(out, stall);
        write_array(out, seqs);
        write_array(out, framing);
        write_array(out, config);
        for (const auto& words_k : tapped) {
            std::vector<int64_t> count = {static_cast<int64_t>(words_k.size())};
            write_array(out, count);
            write_array(out, words_k);
        }
        if (status != 0) worst = status;
        if (status != 0) break;
        if (&ph != &phases.back()) {  // the next phase starts on the next cycle, with the streams idle
            tick(c, t);
            ++cycle;
            snnhw_set_config(t, false, 0, false);
            t->s_axis_pixel_tvalid = 0;
            t->m_axis_result_tready = 0;
            t->eval();
        }
    }
    t->final();
#ifdef SNNHW_SAIF
    if (saif) {
        saif->close();
        saif = nullptr;
    }
#endif
    fclose(out);
    return static_cast<int>(worst);
}
