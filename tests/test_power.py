"""The power flow end to end on a small network without biases: gate-level simulation and energy cross-checks.

One ASAP7 synthesis, one power netlist and one Verilator build serve every test
(module fixture); each check simulates its own inputs on that netlist. Each
cross-check fails if the energy model is wrong in the way it names.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from snnhw.netgen import random_network
from snnhw.power.activity import read_saif
from snnhw.power.flow import CROSS_CHECK_TOLERANCE, count_sops, energy_of, measure, prepare_power, write_power
from snnhw.power.reads import memory_kind
from snnhw.rtl.build import resolve_build, silicon_config
from snnhw.synth.asap7 import find_liberty


def _net():
    # no biases: a layer with a bias fires with no input at all
    return random_network(21, input_size=12, input_bits=4, sizes=[16, 12, 4], time_steps=4, bias=False, density=0.7)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    try:
        find_liberty(None)
    except Exception as err:
        if os.environ.get("CI"):
            pytest.fail(f"the ASAP7 libraries are missing in CI: {err}")
        pytest.skip(f"ASAP7 libraries not found: {err}")
    net = _net()
    # every memory in SRAM macros (ASAP7 `memory: block`), so that the reads of each are counted; the
    # design is the ASIC default, empty at start-up: each simulation loads the network first
    build = resolve_build(net, silicon_config({"memory": "block"}), lanes=2)
    return prepare_power(net, build, tmp_path_factory.mktemp("power"), progress=False)


def _inputs(seed: int, n: int, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.integers(0, 16, size=(n, 12)) * scale), 0, 15).astype(np.int64)


@pytest.fixture(scope="module")
def runs(setup):
    """Each input set simulated once on the power netlist (every run is checked against the golden model)."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            x = {"real": _inputs(3, 2), "zero": np.zeros((2, 12), dtype=np.int64), "dim": _inputs(3, 2, scale=0.25),
                 "b1": _inputs(5, 1), "b2": np.repeat(_inputs(5, 1), 2, axis=0),
                 "b4": np.repeat(_inputs(5, 1), 4, axis=0)}[name]
            # OpenSTA's report_power on the same netlist and SAIF for one set: the energy model's cross-check
            cache[name] = measure(setup, x, inputs_label=name, saif_name=f"{name}.saif", opensta=name == "real")
        return cache[name]
    return get


def _dynamic(split: dict[str, float]) -> float:
    return split["sequential"] + split["combinational"] + split["clock"] + split["sram"]


def test_real_inputs_bit_exact_and_every_term(setup, runs) -> None:
    # the netlist has gated clocks (ICG cells, modelled behaviourally in the simulation)
    assert setup.report["asic"]["clock_gates"] > 0
    p = runs("real")  # measure raises unless the netlist matched the golden model bit for bit
    s = p["energy_split_nj"]
    assert all(s[k] > 0 for k in ("sequential", "combinational", "clock", "leakage"))
    assert p["sops_per_sample"] > 0 and p["pj_per_sop"] > 0 and p["power_mw"] > 0
    assert p["energy_per_sample_nj"] == pytest.approx(sum(s.values()))
    # the assumed slew moves the result, but not by much (the tables are flat in slew near 20 ps)
    for value in p["sensitivity"].values():
        assert value != p["energy_per_sample_nj"] and value == pytest.approx(p["energy_per_sample_nj"], rel=0.2)


def test_energy_model_agrees_with_opensta(runs) -> None:
    """The liberty-table energy model and OpenSTA's report_power, on the same synthesis netlist and SAIF."""
    p = runs("real")
    sta, cross = p["opensta"], p["cross_check"]
    assert cross is not None and cross["netlist"] == "synthesis"
    # every cell pin carries the simulated activity (none left to OpenSTA's propagated defaults)
    assert sta["pins_annotated"] > 1000 and sta["pins_unannotated"] == 0
    assert abs(cross["ratio"] - 1) <= CROSS_CHECK_TOLERANCE
    model = p["energy_model_split_nj"]
    # group by group: OpenSTA counts a flip-flop's clock pin in "sequential" when there is no clock tree
    assert model["combinational"] == pytest.approx(sta["energy_split_nj"]["combinational"], rel=CROSS_CHECK_TOLERANCE)
    assert model["sequential"] + model["clock"] == pytest.approx(sta["energy_split_nj"]["sequential"],
                                                                 rel=CROSS_CHECK_TOLERANCE)


def test_half_the_clock_period(setup, runs) -> None:
    runs("real")
    saif = read_saif(setup.run_dir / "real.saif")
    slow = energy_of(setup, saif, period_ps=1000.0)["energy_fj"]
    fast = energy_of(setup, saif, period_ps=500.0)["energy_fj"]
    assert _dynamic(fast) - fast["sram"] == pytest.approx(_dynamic(slow) - slow["sram"])
    assert fast["leakage"] == pytest.approx(slow["leakage"] / 2)
    assert fast["sram"] < slow["sram"]  # the SRAM's leakage part halves too


def test_zero_inputs_cost_little(runs) -> None:
    """An all-zero input: no synaptic operation, the encoder's front engine skips every row and loads
    the pixels four to a beat, and idle datapaths are gated, so every dynamic term is lower than for a
    real input, the clock included, and the whole costs well under half."""
    zero, real = runs("zero"), runs("real")
    assert zero["sops_per_sample"] == 0 and zero["pj_per_sop"] is None
    z, r = zero["energy_split_nj"], real["energy_split_nj"]
    for term in ("combinational", "sequential", "clock", "sram"):
        assert z[term] < r[term], term
    assert zero["cycles_per_sample"] < real["cycles_per_sample"]
    assert zero["energy_per_sample_nj"] < 0.5 * real["energy_per_sample_nj"]


def test_sram_reads_follow_the_work(setup, runs) -> None:
    """Every memory is read only on a cycle with work, and a stacked macro only where the address is: the
    reads counted in the gate-level run equal the reads the work needs (snnhw.power.reads), memory by
    memory. All-zero inputs read no weight at all."""
    # the entry memory (75 words) is a stack of two 64-word macros, each read only for its own words
    assert "l0_core0.emem.0.0.bank1 " in (setup.run_dir / "snnhw_top_asap7.v").read_text()
    for name in ("real", "zero"):
        p = runs(name)
        needed = p["sram_reads_needed_per_sample"]
        counted = {k: v["reads"] / p["samples"] for k, v in p["sram_accesses"]["by_memory"].items()}
        assert p["sram_macros"] >= 10 and set(counted) == {
            "l0_core0.emem", "l0_core0.imem0", "l0_core0.vmem0", "l0_core0.xmem0", "l0_core0.xmem1",
            "l1_core0.vmem0", "l1_core0.wmem", "l2_core0.vmem0", "l2_core0.wmem"}
        by_kind: dict[str, float] = {}  # the two lanes' pixel buffers together
        for memory, reads in counted.items():
            key = memory_kind(memory)
            assert key is not None, memory
            by_kind[f"l{key[0]}.{key[2]}"] = by_kind.get(f"l{key[0]}.{key[2]}", 0.0) + reads
        for kind, reads in by_kind.items():
            assert reads == pytest.approx(needed[kind]), (name, kind, reads, needed[kind])
        assert p["sram_reads_per_sample"] == pytest.approx(needed["total"])
    # all-zero inputs: no weight read, no pixel read, and one entry per row of the encoder (its rows'
    # sums are skipped): only the fixed per-step work (potentials, currents, biases) is left
    zero = runs("zero")["sram_accesses"]["by_memory"]
    assert zero["l1_core0.wmem"]["reads"] == 0
    assert zero["l0_core0.xmem0"]["reads"] == zero["l0_core0.xmem1"]["reads"] == 0
    rows = -(-setup.network.layers[0].size // setup.build.layers[0].lanes)
    assert zero["l0_core0.emem"]["reads"] == rows * runs("zero")["samples"]
    assert runs("real")["sram_accesses"]["by_memory"]["l1_core0.wmem"]["reads"] > 0


def test_more_input_spikes_more_synaptic_energy(runs) -> None:
    low, high = runs("dim"), runs("real")
    assert high["sops_per_sample"] > low["sops_per_sample"]
    assert high["energy_split_nj"]["combinational"] > low["energy_split_nj"]["combinational"]


def test_per_sample_energy_does_not_depend_on_the_batch(runs) -> None:
    """The same sample 1, 2 and 4 times back to back: each further copy costs the same energy, and the
    run's energy is one fixed part (reset, fill, drain) plus that per copy."""
    e1, e2, e4 = (runs(k)["energy_per_sample_nj"] * n for k, n in (("b1", 1), ("b2", 2), ("b4", 4)))
    assert (e4 - e2) / 2 == pytest.approx(e2 - e1, rel=0.05)
    assert runs("b4")["sops_per_sample"] == runs("b1")["sops_per_sample"]


def test_sop_count_by_hand() -> None:
    from snnhw.model.golden import simulate

    net = _net()
    x = _inputs(6, 2)
    trace = simulate(net, x)
    sops = count_sops(net, x, trace)
    w0 = net.layers[0].weight
    for k in range(2):
        expect = sum(1 for n in range(w0.shape[0]) for i in range(w0.shape[1]) if w0[n, i] and x[k, i])
        for i in range(1, len(net.layers)):
            w = net.layers[i].weight
            for s, _t, j, _amp in trace.events[i - 1]:
                if s == k:
                    expect += int((w[:, j] != 0).sum())
        assert sops[k] == expect


def test_report_and_comparison_carry_the_power_section(setup, runs, tmp_path) -> None:
    """The power section lands in the run's report.json and report.md, and `snnhw report` tabulates it."""
    from snnhw.synth.report import compare, load_report, power_markdown

    p = runs("real")
    write_power(setup, p)
    report = load_report(setup.run_dir)
    assert report["power"]["energy_per_sample_nj"] == p["energy_per_sample_nj"]
    assert "## power (gate-level activity, synthesis netlist)" in (setup.run_dir / "report.md").read_text()
    assert (setup.run_dir / "power.json").is_file()
    text, _ = compare([setup.run_dir], tmp_path / "cmp")
    head, _, row = text.splitlines()[:3]
    cells = dict(zip([c.strip() for c in head.split("|")], [c.strip() for c in row.split("|")]))
    assert float(cells["nJ/sample"]) == pytest.approx(p["energy_per_sample_nj"], rel=0.01)
    assert float(cells["pJ/SOP"]) == pytest.approx(p["pj_per_sop"], rel=0.01)
    # the demo's report renders the same section
    from snnhw.demo import _markdown

    demo = {"network": {"name": "n", "shape": [12, 16, 12, 4], "time_steps": 4, "sha256": "0" * 64}, "dataset": "x",
            "lanes": 2, "snnhw": "v", "golden": {"samples": 2, "accuracy": 1.0, "layers": []},
            "cosim": {"samples": 2, "accuracy": 1.0, "cycles_per_sample_back_to_back": 1.0, "latency_cycles_min": 1,
                      "latency_cycles_max": 1, "latency_cycles_mean": 1.0},
            "flows": {}, "skipped": {}, "power": p, "runtime_s": 1.0}
    assert "\n".join(power_markdown(p)) in _markdown(demo)
    demo["power"], demo["skipped"] = None, {"power": "--power-samples 0"}
    assert "Energy per sample: not measured (--power-samples 0)" in _markdown(demo)


def test_biased_loadable_design_reads_only_with_work(tmp_path) -> None:
    """A network with biases in every layer, as the ASIC default builds it (loadable, empty until
    loaded): the bias memories written over the configuration stream are single-port macros read only
    for the rows that take their bias, so the reads counted in the gate-level run equal the reads the
    work needs (one enable per macro: a write enables the port, not a read every cycle)."""
    net = random_network(22, input_size=8, input_bits=3, sizes=[8, 6, 3], time_steps=2, bias=True, density=0.7)
    assert all(layer.bias is not None for layer in net.layers)
    build = resolve_build(net, silicon_config({"memory": "block"}), lanes=2)
    setup = prepare_power(net, build, tmp_path / "biased", progress=False)
    x = np.random.default_rng(4).integers(0, 8, size=(2, 8))
    p = measure(setup, x, inputs_label="biased", opensta=False)
    counted = {k: v["reads"] / p["samples"] for k, v in p["sram_accesses"]["by_memory"].items()}
    assert {"l0_core0.bmem", "l1_core0.bmem0"} <= set(counted)
    needed, by_kind = p["sram_reads_needed_per_sample"], {}
    for memory, reads in counted.items():
        key = memory_kind(memory)
        assert key is not None, memory
        by_kind[f"l{key[0]}.{key[2]}"] = by_kind.get(f"l{key[0]}.{key[2]}", 0.0) + reads
    assert by_kind == pytest.approx({k: v for k, v in needed.items() if k != "total"})
