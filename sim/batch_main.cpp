// snnhw: batch simulation harness for the generated accelerator (Verilator, C++; no Python per cycle).
//
// Usage: Vsim JOB OUT [SAIF]
//
// JOB (little-endian, written by snnhw.sim.batch): int64 header {n_beats, words_per_beat, beats_per_sample,
// n_results, timeout, n_loads, seed, n_taps}, float64 {gaps, backpressure}, int64 tap layer indices
// [n_taps], uint32 beat words [n_beats * words_per_beat], uint8 tlast [n_beats], int64 load rows
// [n_loads * 5] (layer, core, addr, lane, value).
//
// It drives the design exactly as the cocotb bench (sim/tb.py) does, cycle for cycle: reset for two
// rising edges, one weight-port write per cycle, one idle cycle, then each cycle it sets the pixel
// stream (idle with probability `gaps` while beats wait) and the result stream's tready (low with
// probability `backpressure`) from the same SplitMix64 sequence, settles, and records every handshake
// that the next rising edge acts on. OUT gets int64 {status, cycles, n_results, n_start, n_end,
// n_layers}, then results, start and end cycles, busy and stall per layer, the sequence number
// (m_axis_result_tuser) of each result, {samples_accepted, framing_errors}, and per tap its word count
// and words (uint64). Progress: one line per finished sample on stdout ("n").
// Exit status 0, or 3 when the run passes `timeout` cycles (OUT still written, status 3).
//
// Built with -DSNNHW_SAIF (and Verilator's --trace-saif), it writes the switching activity of the whole
// run to SAIF: the clock has a period of 2 * SNNHW_HALF_PERIOD time units (of the model's precision),
// high from time 0 as the cocotb bench's clock, and the trace is sampled after every clock edge.

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
#endif

// One clock cycle: rising edge, then falling edge (each sampled into the SAIF when one is written).
void tick(VerilatedContext* context, Vsnnhw_top* t) {
    t->clk = 1;
    t->eval();
#ifdef SNNHW_SAIF
    if (saif) saif->dump(context->time());
    context->timeInc(SNNHW_HALF_PERIOD);
#endif
    t->clk = 0;
    t->eval();
#ifdef SNNHW_SAIF
    if (saif) saif->dump(context->time());
    context->timeInc(SNNHW_HALF_PERIOD);
#else
    (void)context;
#endif
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
    std::vector<int64_t> head;
    std::vector<double> probs;
    std::vector<int64_t> taps, loads;
    std::vector<uint32_t> words;
    std::vector<uint8_t> lasts;
    bool ok = read_array(job, head, 8) && read_array(job, probs, 2);
    const int64_t n_beats = ok ? head[0] : 0, wpb = ok ? head[1] : 0, bps = ok ? head[2] : 1;
    const int64_t n_results = ok ? head[3] : 0, timeout = ok ? head[4] : 0, n_loads = ok ? head[5] : 0;
    const uint64_t seed = ok ? static_cast<uint64_t>(head[6]) : 0;
    const int64_t n_taps = ok ? head[7] : 0;
    ok = ok && read_array(job, taps, n_taps) && read_array(job, words, n_beats * wpb) &&
         read_array(job, lasts, n_beats) && read_array(job, loads, n_loads * 5);
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
        saif_file->open(argv[3]);
        saif = saif_file.get();
    }
#endif
    SplitMix64 rng{seed};

    // Reset: two rising edges with rst high, streams idle.
    t->clk = 0;
    t->rst = 1;
    t->s_axis_pixel_tvalid = 0;
    t->m_axis_result_tready = 0;
    t->eval();
    tick(c, t);
    tick(c, t);
    t->rst = 0;
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

    std::vector<int64_t> results, starts, ends, seqs;
    std::vector<std::vector<uint64_t>> tapped(n_taps);
    results.reserve(n_results);
    int64_t pos = 0, cycle = 0, status = 0;
    while (static_cast<int64_t>(results.size()) < n_results) {
        const bool offered = pos < n_beats && (gaps == 0.0 || rng.random() >= gaps);
        t->s_axis_pixel_tvalid = offered;
        if (offered) {
            snnhw_set_pixel(t, &words[pos * wpb]);
            t->s_axis_pixel_tlast = lasts[pos];
        }
        const bool ready = backpressure == 0.0 || rng.random() >= backpressure;
        t->m_axis_result_tready = ready;
        t->eval();
        if (offered && t->s_axis_pixel_tready) {
            if (pos % bps == 0) starts.push_back(cycle);
            ++pos;
        }
        if (ready && t->m_axis_result_tvalid) {
            results.push_back(static_cast<int64_t>(t->m_axis_result_tdata));
            if (t->m_axis_result_tlast) {
                ends.push_back(cycle);
                seqs.push_back(static_cast<int64_t>(t->m_axis_result_tuser));
                printf("%zu\n", ends.size());
                fflush(stdout);
            }
        }
        for (int64_t k = 0; k < n_taps; ++k) {
            if (snnhw_tap_valid(t, taps[k])) tapped[k].push_back(snnhw_tap_data(t, taps[k]));
        }
        ++cycle;
        if (cycle > timeout) {
            status = 3;
            break;
        }
        if (static_cast<int64_t>(results.size()) >= n_results) break;
        tick(c, t);
    }
    // The counters as the last sampled cycle left them (before its rising edge), as the cocotb bench reads them.
    std::vector<int64_t> busy(SNNHW_N_LAYERS), stall(SNNHW_N_LAYERS);
    for (int i = 0; i < SNNHW_N_LAYERS; ++i) {
        busy[i] = snnhw_busy(t, i);
        stall[i] = snnhw_stall(t, i);
    }
    std::vector<int64_t> framing = {static_cast<int64_t>(t->samples_accepted), static_cast<int64_t>(t->framing_errors)};
    t->final();
#ifdef SNNHW_SAIF
    if (saif) {
        saif->close();
        saif = nullptr;
    }
#endif

    FILE* out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "cannot write %s\n", argv[2]);
        return 2;
    }
    std::vector<int64_t> out_head = {status, cycle, static_cast<int64_t>(results.size()),
                                     static_cast<int64_t>(starts.size()), static_cast<int64_t>(ends.size()),
                                     SNNHW_N_LAYERS};
    write_array(out, out_head);
    write_array(out, results);
    write_array(out, starts);
    write_array(out, ends);
    write_array(out, busy);
    write_array(out, stall);
    write_array(out, seqs);
    write_array(out, framing);
    for (const auto& words_k : tapped) {
        std::vector<int64_t> count = {static_cast<int64_t>(words_k.size())};
        write_array(out, count);
        write_array(out, words_k);
    }
    fclose(out);
    return static_cast<int>(status);
}
