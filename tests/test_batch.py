"""The batch engine (compiled C++ harness on Verilator) against the cocotb bench and the golden model.

Both engines drive the same streams with the same seeded gaps and back-pressure, so their traces
must be identical, cycle stamps and per-layer counters included; each is also bit-exact against
the golden model on networks that fire in every layer.
"""

from __future__ import annotations

import numpy as np
import pytest
from snnhw.sim.batch import batch_sim, pack_beats
from snnhw.sim.rng import SplitMix64
from snnhw.sim.runner import cosim

from snnhw.model import simulate
from snnhw.model.trace import compare_traces, first_divergence
from snnhw.netgen import activate, random_network
from snnhw.rtl.build import resolve_build
from snnhw.rtl.top import pack_beats as reference_beats

from .activity import assert_active, inputs_for, loaded_weights_case


def test_splitmix64_reference_values() -> None:
    # SplitMix64 from seed 0 (Vigna's reference implementation): the harness computes the same numbers
    rng = SplitMix64(0)
    assert [rng.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert SplitMix64(0).random() == (0xE220A8397B1DCDAF >> 11) / 2**53


def test_pack_beats_by_hand() -> None:
    x = np.array([[1, 2, 3], [15, 0, 7]])
    words, lasts = pack_beats(x, 4, 2, 1)  # two 4-bit values a beat, three values: two beats a sample
    assert words[:, 0].tolist() == [0x21, 0x03, 0x0F, 0x07] and lasts.tolist() == [0, 1, 0, 1]
    wide = pack_beats(np.full((1, 6), 255), 8, 6, 2)[0]  # 48 bits in two 32-bit words
    assert wide.tolist() == [[0xFFFFFFFF, 0xFFFF]]
    # the same beats as the project's reference packing (snnhw.rtl.top.pack_beats), widths that straddle words
    rng = np.random.default_rng(0)
    for bits, ppb in ((3, 1), (5, 7), (8, 16), (7, 9)):
        x = rng.integers(0, 1 << bits, size=(3, 23))
        per = -(-23 // ppb)
        words, lasts = pack_beats(x, bits, ppb, -(-bits * ppb // 32))
        expected = [w for sample in reference_beats(x, bits, ppb) for w in sample]
        got = [sum(int(v) << (32 * k) for k, v in enumerate(row)) for row in words]
        assert got == expected and lasts.tolist() == ([0] * (per - 1) + [1]) * 3


CASES = [
    # (network, build, gaps, back-pressure): plain; loadable weights written through the ports, several
    # values a beat; a pixel word wider than 64 bits; a potential readout with cores and one-deep FIFOs
    (random_network(31, input_size=10, input_bits=4, sizes=[8, 6, 4], time_steps=4, density=0.8), {}, 0.3, 0.4),
    (random_network(32, input_size=12, input_bits=3, sizes=[9, 5], time_steps=5, density=0.8),
     {"weights": "loadable", "pixels_per_beat": 4, "lanes": 3}, 0.2, 0.5),
    (random_network(33, input_size=20, input_bits=8, sizes=[7, 4], time_steps=3, density=0.8),
     {"pixels_per_beat": 16, "lanes": 2}, 0.5, 0.2),
    (random_network(34, input_size=9, input_bits=4, sizes=[6, 5, 3], time_steps=4, density=0.8, readout="potential"),
     {"lanes": 2, "cores": 2, "fifo_depth": 1}, 0.4, 0.3),
]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_batch_and_cocotb_give_identical_traces(index: int) -> None:
    network, config, gaps, bp = CASES[index]
    network = activate(network, inputs_for(network, 5, index))
    x = inputs_for(network, 5, index)
    golden = simulate(network, x)
    assert_active(network, golden, ())
    build = resolve_build(network, config)
    fast, fast_counters = batch_sim(network, build, x, gaps=gaps, backpressure=bp, seed=index)
    slow, slow_counters = cosim(network, build, x, simulator="verilator", gaps=gaps, backpressure=bp, seed=index)
    assert first_divergence(network, golden, fast) is None, first_divergence(network, golden, fast)
    assert compare_traces(slow, fast) == []
    for key in ("cycles", "cycles_total", "sample_end"):
        assert np.array_equal(fast.extras[key], slow.extras[key]), key
    for key, value in slow_counters.items():
        assert np.array_equal(fast_counters[key], value), key
    # the seed matters: another one moves the cycle stamps, never the results
    other, _ = batch_sim(network, build, x, gaps=gaps, backpressure=bp, seed=index + 1000)
    assert compare_traces(golden, other) == [] and not np.array_equal(other.extras["sample_end"],
                                                                      fast.extras["sample_end"])


def test_batch_weights_loaded_through_the_ports() -> None:
    """Hardware built for one network runs another's dense weights after loading them through wl_*."""
    x, built_for, trained = loaded_weights_case()
    build = resolve_build(built_for, {"weights": "loadable", "lanes": 3, "cores": 2})
    trace, counters = batch_sim(built_for, build, x, weights=trained, gaps=0.2, backpressure=0.3, seed=4)
    assert first_divergence(trained, simulate(trained, x), trace) is None
    assert first_divergence(built_for, simulate(built_for, x), trace) is not None  # the load took effect
    slow, slow_counters = cosim(built_for, build, x, simulator="verilator", weights=trained, gaps=0.2,
                                backpressure=0.3, seed=4)
    assert compare_traces(slow, trace) == [] and np.array_equal(slow.extras["sample_end"], trace.extras["sample_end"])
    assert all(np.array_equal(counters[k], v) for k, v in slow_counters.items())


def test_verify_cli_and_first_mismatch(tmp_path, monkeypatch, capsys) -> None:
    """`snnhw verify` on the digits test split (chunks in two processes), and a difference named by its
    sample number in the data set."""
    import json

    import snnhw.sim.verify as verify_module
    from snnhw.sim.verify import verify

    from snnhw.cli import main
    from snnhw.datasets import load_dataset
    from snnhw.netfile import resolve_network

    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "digits", "--dataset", "digits", "--lanes", "2", "--limit", "60", "--chunk", "25", "--jobs",
              "2", "--gaps", "0.2", "--backpressure", "0.2", "--json", str(tmp_path / "v.json")])
    assert exit_info.value.code == 0
    report = json.loads((tmp_path / "v.json").read_text())
    assert report["bit_exact"] and report["samples"] == 60 and report["first_mismatch"] is None
    assert report["cycles_per_sample"] > 0 and report["accuracy"] > 0.9
    assert "bit-exact against the golden model" in capsys.readouterr().out

    network = resolve_network("digits")
    x = np.asarray(load_dataset("digits").x[:30])
    real = verify_module.simulate

    def wrong(net, inputs):  # the golden model of the second chunk predicts class 9 for its fourth sample
        trace = real(net, inputs)
        if len(inputs) == 10 and np.array_equal(inputs, x[10:20]):
            trace.predictions[3] = 9 if trace.predictions[3] != 9 else 0
        return trace

    monkeypatch.setattr(verify_module, "simulate", wrong)
    build = resolve_build(network, lanes=2)
    result = verify(network, build, x, chunk=10, jobs=1)
    assert not result["bit_exact"] and result["first_mismatch"].startswith("sample 13"), result["first_mismatch"]
