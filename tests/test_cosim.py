"""Co-simulation of the generated Verilog against the golden model, bit for bit.

Every test here runs a real simulator: Icarus Verilog through cocotb for the
broad matrix (it compiles in about a second), Verilator for a subset (through
the batch engine's compiled harness for the deep networks, through cocotb for
the saturating one; a build takes tens of seconds; builds are cached by
content hash). Streams get random
idle gaps on the pixel input and random back-pressure on the result output.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from snnhw.sim.batch import batch_sim
from snnhw.sim.runner import cosim, simulator_available

from snnhw.ir import InputSpec, Layer, LayerKind, Leak, LeakKind, Network, Readout, Reset
from snnhw.model import simulate
from snnhw.model.trace import first_divergence
from snnhw.netgen import activate, random_network
from snnhw.rtl.build import core_slices, resolve_build
from snnhw.rtl.cycles import input_events_from_trace, predict_busy, predict_total
from snnhw.rtl.encoder import entry_bits, pixels_per_word, sparse_entries
from snnhw.rtl.memories import GROUP_BANKS, bank_count

from .activity import assert_active, inputs_for, loaded_weights_case
from .fuzz_rtl import check
from .test_golden import COMBINATION_NETWORKS

pytestmark = pytest.mark.slow


def _need(simulator: str) -> None:
    missing = simulator_available(simulator)
    if missing:  # CI installs both; this only triggers on a partial developer setup
        pytest.fail(missing)


_inputs = inputs_for


def assert_bit_exact(network: Network, config: dict, simulator: str, *, n: int = 4, seed: int = 0,
                     gaps: float = 0.3, backpressure: float = 0.4, silent: tuple[str, ...] = ()) -> None:
    """Co-simulate ``n`` samples of ``seed`` and compare with the golden model bit for bit; the case must
    be active (every firing layer spikes, the scores are not all zero) except the parts named ``silent``."""
    _need("verilator" if simulator == "batch" else simulator)
    x = _inputs(network, n, seed)
    golden = simulate(network, x)
    assert_active(network, golden, silent)
    build = resolve_build(network, config)
    if simulator == "batch":  # Verilator from the compiled harness (the cocotb bench's equal: tests/test_batch.py)
        trace, _ = batch_sim(network, build, x, gaps=gaps, backpressure=backpressure, seed=seed)
    else:
        trace, _ = cosim(network, build, x, simulator=simulator, gaps=gaps, backpressure=backpressure, seed=seed)
    assert first_divergence(network, golden, trace) is None, first_divergence(network, golden, trace)
    assert len(trace.extras["cycles"]) == n and (trace.extras["cycles"] > 0).all()


def _awkward_networks() -> list[Network]:
    """Awkward shapes and widths, each made active on the inputs of ``test_icarus_awkward_sizes``."""
    rng = np.random.default_rng(5)
    nets = []
    # one-neuron layers everywhere
    nets.append(random_network(21, input_size=1, input_bits=1, sizes=[1, 1, 1], time_steps=4, name="ones"))
    # sizes that no lane count divides, a single-step window
    nets.append(random_network(22, input_size=11, input_bits=4, sizes=[7, 5, 3], time_steps=1, name="t1-primes"))
    # heavy saturation: narrow potentials, wide weights, graded spikes
    layers = []
    n_in = 8
    for i, leak in enumerate([Leak(LeakKind.SHIFT, 1), Leak(LeakKind.POW2, 2), Leak(LeakKind.SHIFT, 3)]):
        layers.append(Layer(f"s{i}", LayerKind.ENCODER if i == 0 else LayerKind.DENSE, 6, 8, 5, 3, leak,
                            Reset.SUBTRACT, 2, weight=rng.integers(-128, 128, size=(6, n_in)),
                            bias=rng.integers(-16, 16, size=6)))
        n_in = 6
    nets.append(Network("saturating", 7, InputSpec(8, 6), Readout.POTENTIAL, layers))
    # extreme widths drawn at random: P up to 32, W up to 16, A up to 8
    nets.append(random_network(23, input_size=9, input_bits=8, sizes=[6, 5, 4], time_steps=5, vary=True,
                               name="varied"))
    # a single encoder layer is a whole network
    nets.append(random_network(24, input_size=5, input_bits=3, sizes=[4], time_steps=6, name="encoder-only",
                               readout="potential"))
    return [activate(net, inputs_for(net, 4, 3)) for net in nets]


AWKWARD = _awkward_networks()


@pytest.mark.parametrize("index", range(len(COMBINATION_NETWORKS)), ids=[n.name for n in COMBINATION_NETWORKS])
def test_icarus_every_combination(index: int) -> None:
    # two builds per network: one lane per core, and several lanes and cores with one-deep FIFOs
    assert_bit_exact(COMBINATION_NETWORKS[index], {}, "icarus", n=3, seed=index)
    assert_bit_exact(COMBINATION_NETWORKS[index], {"lanes": 3, "cores": 2, "fifo_depth": 1}, "icarus", n=3,
                     seed=index + 100)


def _long_combination_networks() -> list[Network]:
    """Four deep networks whose layers together cover every leak × reset × amplitude × bias, for both
    readouts: one Verilator build per network instead of one per combination network."""
    combos = list(itertools.product([Leak(LeakKind.NONE), Leak(LeakKind.SHIFT, 2), Leak(LeakKind.POW2, 1)],
                                    [Reset.SUBTRACT, Reset.ZERO], [1, 3], [False, True]))
    rng = np.random.default_rng(17)
    nets = []
    for readout in Readout:
        for half in (combos[:12], combos[12:]):
            layers = []
            n_in = 5
            for i, (leak, reset, amp, bias) in enumerate(half):
                size = int(rng.integers(2, 5))
                layers.append(Layer(f"l{i}", LayerKind.ENCODER if i == 0 else LayerKind.DENSE, size, 5, 10,
                                    int(rng.integers(3, 12)), leak, reset, amp,
                                    weight=rng.integers(-6, 16, size=(size, n_in)),
                                    bias=rng.integers(-2, 8, size=size) if bias else None))
                n_in = size
            net = Network(f"deep-{readout.value}-{len(nets) % 2}", 6, InputSpec(5, 3), readout, layers)
            nets.append(activate(net, inputs_for(net, 5, len(nets))))
    return nets


LONG_COMBINATIONS = _long_combination_networks()
VERILATOR_BUILDS = [{"lanes": 2, "cores": 2, "fifo_depth": 1}, {"lanes": 3}, {"cores": 3, "fifo_depth": 2},
                    {"lanes": 4, "cores": 2, "memory": "registers"}]


def test_long_combinations_cover_every_combination() -> None:
    seen = {(n.readout, layer.leak.kind, layer.reset, layer.amplitude_bits > 1, layer.has_bias)
            for n in LONG_COMBINATIONS for layer in n.layers}
    assert len(seen) == 2 * 3 * 2 * 2 * 2


@pytest.mark.parametrize("index", range(len(LONG_COMBINATIONS)), ids=[n.name for n in LONG_COMBINATIONS])
def test_verilator_every_combination(index: int) -> None:
    # the batch engine: a Verilator build of its own compiles in a third of the cocotb build's time
    network = LONG_COMBINATIONS[index]
    assert_bit_exact(network, VERILATOR_BUILDS[index], "batch", n=5, seed=index)


@pytest.mark.parametrize("network", AWKWARD, ids=[n.name for n in AWKWARD])
@pytest.mark.parametrize("config", [{"lanes": 2, "cores": 3, "fifo_depth": 1}, {"lanes": 64, "fifo_depth": 2}],
                         ids=["l2c3f1", "lanes-eq-size"])
def test_icarus_awkward_sizes(network: Network, config: dict) -> None:
    assert_bit_exact(network, config, "icarus", seed=3)


@pytest.mark.parametrize("ppb", [2, 4, 16])
def test_icarus_pixels_per_beat(ppb: int) -> None:
    """Several input values per beat, the last beat padded: 11 inputs are 6, 3 and 1 beats."""
    assert_bit_exact(AWKWARD[1], {"lanes": 3, "cores": 2, "pixels_per_beat": ppb}, "icarus", seed=3)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_icarus_random_cases(seed: int) -> None:
    assert check(seed) is None


def test_icarus_potential_readout_cores_stay_in_their_window() -> None:
    """Regression: a core of a potential readout that had closed a window was let into the next one
    before the other cores closed theirs, which mixed windows and then hung the readout."""
    network = random_network(104, input_size=3, input_bits=2, sizes=[7, 3, 6], time_steps=2, readout="potential",
                             vary=True)
    x = np.array([[1, 1, 3], [2, 0, 3], [1, 0, 1]])
    assert_active(network, simulate(network, x))
    trace, _ = cosim(network, resolve_build(network, {"lanes": 3, "cores": 3, "fifo_depth": 3}), x,
                     simulator="icarus", seed=104, gaps=0.4126625461341562, backpressure=0.1533790096497322)
    assert first_divergence(network, simulate(network, x), trace) is None


def test_icarus_traces_do_not_depend_on_hardware_parameters() -> None:
    x = np.random.default_rng(4).integers(0, 16, size=(5, 10))
    network = random_network(31, input_size=10, input_bits=4, sizes=[9, 7, 4], time_steps=6, vary=True, active_on=x)
    golden = simulate(network, x)
    assert_active(network, golden)
    configs = [{"lanes": 1, "fifo_depth": 1}, {"lanes": 2, "cores": 3}, {"lanes": 3, "cores": 2, "fifo_depth": 16},
               {"lanes": 9, "memory": "registers"}]
    for k, config in enumerate(configs):
        trace, _ = cosim(network, resolve_build(network, config), x, simulator="icarus", seed=k, gaps=0.2,
                         backpressure=0.6)
        assert first_divergence(network, golden, trace) is None, (config, first_divergence(network, golden, trace))


def test_icarus_weights_loaded_through_the_port() -> None:
    """Hardware built for one network runs another's dense weights after loading them through wl_*."""
    x, built_for, trained = loaded_weights_case()
    for config in ({"weights": "loadable", "lanes": 2}, {"weights": "loadable", "lanes": 3, "cores": 2}):
        trace, _ = cosim(built_for, resolve_build(built_for, config), x, simulator="icarus", weights=trained,
                         gaps=0.2, backpressure=0.3)
        assert first_divergence(trained, simulate(trained, x), trace) is None
        assert first_divergence(built_for, simulate(built_for, x), trace) is not None  # the load took effect


def test_verilator_saturating_network() -> None:
    assert_bit_exact(AWKWARD[2], {"lanes": 4}, "verilator", n=6, seed=6)


def test_cycle_model_matches_cosimulation() -> None:
    """Back to back, no gaps or back-pressure: measured cycles per sample within 10 % of the model."""
    x = np.random.default_rng(7).integers(0, 16, size=(6, 48))
    network = random_network(41, input_size=48, input_bits=4, sizes=[40, 24, 10], time_steps=12, density=0.5,
                             active_on=x)
    assert_active(network, simulate(network, x))
    for config in ({"lanes": 1}, {"lanes": 2, "cores": 2}):
        build = resolve_build(network, config)
        golden = simulate(network, x)
        trace, counters = cosim(network, build, x, simulator="icarus")
        assert first_divergence(network, golden, trace) is None
        events = input_events_from_trace(network, golden.events, len(x))
        measured = float(counters["total"]) / len(x)
        predicted = predict_total(network, build, events, x) / len(x)
        assert measured >= 1000, measured
        assert abs(measured - predicted) <= 0.10 * predicted, (config, measured, predicted)
        if config.get("cores", 1) > 1:
            continue  # busy counts cycles in which any core issued: the union of concurrent cores
        # the busy counters count exactly the rows the model says, plus each core's init pass after reset
        init = [max(-(-(hi - lo) // min(b.lanes, hi - lo)) for lo, hi in core_slices(layer.size, b.cores))
                for layer, b in zip(network.layers, build.layers)]
        rows = predict_busy(network, build, events).sum(axis=1) + np.array(init)
        assert counters["busy"].tolist() == rows.tolist()


def test_icarus_banked_memories() -> None:
    """Memories deeper than a bank (one block RAM at the word's width) are split into banks with
    registered outputs: the encoder's sparse entries (1,406 words of 18 bits, 1,024 per bank) and a dense
    weight memory (2,400 words of 6 bits, 2,048 per bank), also written through the weight port across banks."""
    x = np.random.default_rng(3).integers(0, 16, size=(3, 600))
    network = random_network(7, input_size=600, input_bits=4, sizes=[48, 50, 5], time_steps=3, density=0.05,
                             active_on=x)
    assert bank_count(network.layers[1].weight.size, network.layers[1].weight_bits) == 2
    golden = simulate(network, x)
    assert_active(network, golden)
    trace, _ = cosim(network, resolve_build(network, {"lanes": 1}), x, simulator="icarus", gaps=0.2,
                     backpressure=0.3, seed=1)
    assert first_divergence(network, golden, trace) is None
    rng = np.random.default_rng(4)
    layers = [network.layers[0], dataclasses.replace(
        network.layers[1], weight=rng.integers(-31, 32, size=network.layers[1].weight.shape)), network.layers[2]]
    trained = activate(dataclasses.replace(network, layers=layers), x)
    assert trained.layers[1].weight.shape == (50, 48) and trained.layers[0] is network.layers[0]
    trace, _ = cosim(network, resolve_build(network, {"lanes": 1, "weights": "loadable"}), x, simulator="icarus",
                     weights=trained, gaps=0.2, backpressure=0.3)
    assert first_divergence(trained, simulate(trained, x), trace) is None


def test_icarus_deep_memories_split_bank_multiplexers() -> None:
    """Memories of more than GROUP_BANKS banks have their bank multiplexer cut in two around a register
    (BankedRead.registered): the encoder's entries (15-bit words, 1,024 per bank: 9 banks, groups of 4, 4
    and 1) and a dense weight memory (6-bit words, 2,048 per bank: 9 banks)."""
    x = np.random.default_rng(5).integers(0, 4, size=(2, 96))
    network = random_network(8, input_size=96, input_bits=2, sizes=[180, 100, 4], time_steps=2, density=0.5,
                             active_on=x)
    encoder, hidden = network.layers[0], network.layers[1]
    build = resolve_build(network, {"lanes": 1})
    width = entry_bits(encoder.n_in, encoder.weight_bits, 1, pixels_per_word(2, build.pixels_per_beat))
    assert bank_count(len(sparse_entries(encoder.weight, 0, encoder.size, 1)), width) == 9 > GROUP_BANKS
    assert bank_count(hidden.weight.size, hidden.weight_bits) == 9
    golden = simulate(network, x)
    assert_active(network, golden)
    trace, _ = cosim(network, build, x, simulator="icarus", gaps=0.2, backpressure=0.3, seed=2)
    assert first_divergence(network, golden, trace) is None


@pytest.mark.parametrize("config", [{"lanes": 2, "pixels_per_beat": 1}, {"lanes": 3, "cores": 2, "pixels_per_beat": 4}])
def test_icarus_malformed_samples_dropped_and_counted(config: dict) -> None:
    """Short and long samples (tlast early, late, on the first beat) among good ones, with gaps and
    back-pressure: each is dropped whole and counted in ``framing_errors``, every good sample is
    bit-exact (the one right after a dropped one too), and the results carry their samples' sequence
    numbers."""
    x = np.random.default_rng(3).integers(0, 16, size=(4, 20))
    network = random_network(5, input_size=20, input_bits=4, sizes=[12, 8, 4], time_steps=3, density=0.5,
                             active_on=x)
    build = resolve_build(network, config)
    beats = -(-20 // build.pixels_per_beat)
    malformed = [(0, beats - 1), (1, beats + 3), (2, 1), (4, beats + 1)]
    trace, counters = cosim(network, build, x, simulator="icarus", gaps=0.2, backpressure=0.3, malformed=malformed)
    assert first_divergence(network, simulate(network, x), trace) is None
    assert counters["seq"].tolist() == list(range(len(x)))
    assert int(counters["samples_accepted"]) == len(x)
    assert int(counters["framing_errors"]) == len(malformed)
