"""Loadable designs: one generated design, networks loaded at run time over its configuration stream.

Each case runs the generated Verilog on Verilator (the batch harness), with gaps and back-pressure,
and compares every layer's events, the scores and the predictions with the golden model of the
network that was loaded, on networks active in every layer.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from snnhw.sim.batch import Phase, PhaseRecord, batch_phases, build_harness, config_words
from snnhw.sim.records import hardware_trace

from snnhw.cli import cli
from snnhw.errors import CapacityError, InputError
from snnhw.ir import Network
from snnhw.model import simulate
from snnhw.model.trace import first_divergence
from snnhw.netgen import random_network
from snnhw.program import check_fits, embed, load_frames, pad_inputs, read_image, write_image
from snnhw.rtl.build import resolve_build
from snnhw.rtl.loader import network_id

from .activity import assert_active


def _x(n: int, seed: int, size: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, size))


X = _x(7, 1)
# the design's network (A) and three others for it: of A's shape with other parameters (full capacity),
# smaller in every layer but the output, with fewer inputs and fewer time steps, and with other time steps
A = random_network(41, sizes=(12, 8, 4), time_steps=6, density=0.6, active_on=X)
FULL = random_network(42, sizes=(12, 8, 4), time_steps=6, density=0.5, leak="shift:1", active_on=X)
SMALL = random_network(43, input_size=12, sizes=(9, 5, 4), time_steps=4, density=0.5, leak="shift:3",
                       active_on=X[:, :12])
STEPS = random_network(44, sizes=(12, 8, 4), time_steps=3, density=0.7, active_on=X)
BUILD = resolve_build(A, {"loadable": True, "encoder_fan_in": 16, "fifo_depth": 2}, lanes=3)


@pytest.fixture(scope="module")
def harness():
    return build_harness(A, BUILD)


def _check(net: Network, x: np.ndarray, rec: PhaseRecord) -> None:
    """The phase's trace is ``net``'s, bit for bit, and ``net`` is the committed network."""
    assert rec.status == 0
    golden = simulate(net, x)
    assert_active(net, golden)
    trace = hardware_trace(A, embed(net, A), len(x), rec.taps, rec.results, rec.counters)
    assert first_divergence(net, golden, trace) is None
    assert rec.config["committed"] == 1 and rec.config["hash"] == network_id(net)
    assert rec.counters["seq"].tolist() == list(range(len(x)))  # results numbered from the commit on


def test_padding_keeps_every_event() -> None:
    # the padded network is the same network: same events, scores and predictions
    for net in (FULL, SMALL, STEPS):
        x = X[:, :net.input.size]
        a, b = simulate(net, x), simulate(embed(net, A), pad_inputs(x, A))
        assert first_divergence(net, a, b) is None


def test_three_networks_loaded_into_one_design(harness) -> None:
    phases = [Phase(pad_inputs(X[:, :net.input.size], A), config=config_words(load_frames(net, A, BUILD)))
              for net in (FULL, SMALL, STEPS)]
    records = batch_phases(A, BUILD, phases, gaps=0.3, backpressure=0.4, seed=3, harness=harness)
    for net, rec in zip((FULL, SMALL, STEPS), records):
        _check(net, X[:, :net.input.size], rec)
        assert rec.config == {"committed": 1, "hash": network_id(net), "crc_errors": 0, "errors": 0, "refused": 0}


def test_bad_crc_is_counted_and_the_load_must_be_sent_again(harness) -> None:
    frames = load_frames(FULL, A, BUILD)
    bad = [list(f) for f in frames]
    bad[3][4] ^= 1 << 7  # one payload bit of a WRITE frame: its CRC no longer holds
    records = batch_phases(A, BUILD, [
        Phase(np.zeros((0, 16), dtype=np.int64), config=config_words(bad)),
        Phase(X, config=config_words(frames)),
    ], backpressure=0.2, seed=4, harness=harness)
    # the bad frame is counted; the load's COMMIT is refused (an error), nothing is committed
    assert records[0].config["committed"] == 0 and records[0].config["crc_errors"] == 1
    # the whole image again: committed, bit-exact (the counters trail by a few cycles, so they are read here)
    assert records[1].config == {"committed": 1, "hash": network_id(FULL), "crc_errors": 1, "errors": 1,
                                 "refused": 0}
    _check(FULL, X, records[1])


def test_load_while_samples_are_in_flight_is_refused(harness) -> None:
    # the image of FULL arrives while samples of the preloaded network A are in flight: BEGIN is refused,
    # the WRITE and COMMIT frames after it come outside a load and are dropped; A keeps running exactly
    frames = load_frames(FULL, A, BUILD)
    (rec,) = batch_phases(A, BUILD, [Phase(X, config=config_words(frames), config_at=40)], gaps=0.2, seed=5,
                          harness=harness)
    assert rec.config["refused"] == 1 and rec.config["errors"] == len(frames) - 1
    _check(A, X, rec)


def test_reset_during_a_stream_then_reload() -> None:
    # an empty design (as an ASIC's): no sample is taken before a load; a reset in the middle of a stream
    # clears the commit, and the network loaded after it is exact
    build = resolve_build(A, {"loadable": True, "encoder_fan_in": 16, "preloaded": False}, lanes=4)
    exe = build_harness(A, build)
    (empty,) = batch_phases(A, build, [Phase(X[:1])], harness=exe)
    assert empty.status == 3 and len(empty.results) == 0 and int(empty.counters["samples_accepted"]) == 0
    assert empty.config["committed"] == 0
    records = batch_phases(A, build, [
        Phase(X, config=config_words(load_frames(FULL, A, build)), reset_at=150),
        Phase(X, config=config_words(load_frames(STEPS, A, build))),
    ], backpressure=0.3, seed=6, harness=exe)
    assert len(records[0].counters["end"]) < len(X) and records[0].config["committed"] == 0
    _check(STEPS, X, records[1])


def test_networks_that_do_not_fit_are_refused(tmp_path) -> None:
    cases = [
        (random_network(45, sizes=(13, 8, 4), time_steps=6), "layers.0.size: must be at most the design's 12"),
        (random_network(46, sizes=(12, 8, 5), time_steps=6), "layers.2.size: must be the design's output size 4"),
        (random_network(47, sizes=(12, 8, 4), time_steps=7), "time_steps: must be at most the design's 6"),
        (random_network(48, sizes=(12, 8, 4), time_steps=6, potential_bits=12),
         "layers.0.potential_bits: must be the design's 16"),
        (random_network(49, input_size=17, sizes=(12, 8, 4), time_steps=6), "input.size: must be at most"),
    ]
    for net, message in cases:
        with pytest.raises(CapacityError, match=message):
            check_fits(net, A, BUILD)
    narrow = resolve_build(A, {"loadable": True}, lanes=3)  # the fan-in of A only
    dense = random_network(50, sizes=(12, 8, 4), time_steps=6, density=1.0)
    with pytest.raises(CapacityError, match="encoder weight lists of core 0 need"):
        check_fits(dense, A, narrow)
    # the command line: one line, exit 2, nothing written
    hw = tmp_path / "H"
    A.save(tmp_path / "A.npz")
    cases[0][0].save(tmp_path / "big.npz")
    runner = CliRunner()
    assert runner.invoke(cli, ["generate", str(tmp_path / "A.npz"), "--loadable", "--encoder-fan-in", "16",
                               "--lanes", "3", "--out", str(hw)]).exit_code == 0
    result = runner.invoke(cli, ["pack", str(tmp_path / "big.npz"), "--hardware", str(hw), "--out",
                                 str(tmp_path / "big.bin")])
    assert result.exit_code == 2 and not (tmp_path / "big.bin").exists()
    assert result.output.strip().splitlines() == [
        f"snnhw: error: {tmp_path / 'big.npz'}: layers.0.size: must be at most the design's 12, got 13"]
    # a design directory whose metadata no longer matches its network: one line, not a traceback
    meta = json.loads((hw / "metadata.json").read_text())
    meta["build"]["layers"] = meta["build"]["layers"][:1]
    (hw / "metadata.json").write_text(json.dumps(meta))
    result = runner.invoke(cli, ["pack", str(tmp_path / "A.npz"), "--hardware", str(hw), "--out",
                                 str(tmp_path / "a.bin")])
    assert result.exit_code == 2 and "build: does not describe the design's network" in result.output
    assert not (tmp_path / "a.bin").exists()


def test_image_file_round_trip_and_corruption(tmp_path) -> None:
    frames = load_frames(SMALL, A, BUILD)
    path = tmp_path / "small.bin"
    write_image(path, frames)
    assert read_image(path) == frames
    raw = bytearray(path.read_bytes())
    raw[40] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="fails its CRC"):
        read_image(path)


def test_cocotb_bench_and_batch_harness_agree_on_a_loaded_design() -> None:
    # the Icarus bench streams the same load image and samples as the batch harness, cycle for cycle
    from snnhw.sim.batch import batch_sim
    from snnhw.sim.runner import cosim

    frames = load_frames(SMALL, A, BUILD)
    x = pad_inputs(X[:3, :12], A)
    padded = embed(SMALL, A)
    kwargs = {"gaps": 0.3, "backpressure": 0.3, "seed": 8, "config": frames, "target": padded}
    fast, fast_counters = batch_sim(A, BUILD, x, **kwargs)
    slow, slow_counters = cosim(A, BUILD, x, simulator="icarus", **kwargs)
    assert first_divergence(SMALL, simulate(SMALL, X[:3, :12]), slow) is None
    assert np.array_equal(fast.extras["cycles"], slow.extras["cycles"])
    assert fast.extras["cycles_total"].tolist() == slow.extras["cycles_total"].tolist()
    assert fast_counters["config"] == slow_counters["config"]
    assert fast_counters["config"]["hash"] == network_id(SMALL)


def test_malformed_frames_are_counted_and_poison_the_load(harness) -> None:
    from snnhw.program.image import frame
    from snnhw.rtl.loader import FrameType, config_targets

    wmem = next(t for t in config_targets(A, BUILD) if t.memory == "wmem")
    words = [0] * wmem.words_per_entry
    good = load_frames(FULL, A, BUILD)
    bad = [
        frame(FrameType.WRITE, wmem.index, [wmem.depth, 1, *words]),  # address beyond the memory
        frame(FrameType.WRITE, wmem.index, [wmem.depth - 1, 2, *words, *words]),  # runs past its end
        frame(FrameType.WRITE, wmem.index, [0, 0]),  # no words
        frame(FrameType.WRITE, wmem.index, [0, 1 << 20, *words]),  # a count no target can take
        frame(FrameType.WRITE, 200, [0, 1, *words]),  # no such target
        [0x12345678, 0],  # not a header
    ]
    short = frame(FrameType.WRITE, wmem.index, [0, 2, *words, *words])
    cut = config_words([short])[:-3]  # tlast moved onto a payload word
    cut[-1] = (cut[-1][0], True)
    image = config_words(good[:1]) + config_words(bad) + cut + config_words(good[1:])
    records = batch_phases(A, BUILD, [Phase(np.zeros((0, 16), dtype=np.int64), config=image),
                                      Phase(X, config=config_words(good))], seed=9, harness=harness)
    assert records[0].config["committed"] == 0
    # seven malformed frames and the refused commit of the load they belong to
    assert records[1].config == {"committed": 1, "hash": network_id(FULL), "crc_errors": 0, "errors": 8,
                                 "refused": 0}
    _check(FULL, X, records[1])


def test_a_loaded_design_takes_the_cycles_of_the_fixed_one(harness) -> None:
    # the same network, fixed or loaded: the same latency of every sample, and the same total
    from snnhw.sim.batch import batch_sim

    fixed, _ = batch_sim(A, resolve_build(A, {"fifo_depth": 2}, lanes=3), X, gaps=0.2, backpressure=0.3, seed=2)
    loaded, _ = batch_sim(A, BUILD, X, gaps=0.2, backpressure=0.3, seed=2, config=load_frames(A, A, BUILD), target=A,
                          harness=harness)
    assert first_divergence(A, fixed, loaded) is None
    assert fixed.extras["cycles"].tolist() == loaded.extras["cycles"].tolist()
    assert fixed.extras["cycles_total"].tolist() == loaded.extras["cycles_total"].tolist()
