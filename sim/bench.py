"""The cocotb test run by ``snnhw run --engine verilator|icarus`` (and by the test suite).

It reads a job from ``$SNNHW_COSIM_DIR/job.npz`` (inputs, the layers with taps,
stream options), streams every sample through ``snnhw_top`` back to back,
and writes what the hardware's streams carried to ``records.npz`` in the same
directory. Decoding and comparing happen outside the simulator.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotb
import numpy as np
from snnhw.sim.tb import TB


@cocotb.test()
async def run_job(dut) -> None:
    """Stream the job's samples through the accelerator and record its streams."""
    work = Path(os.environ["SNNHW_COSIM_DIR"])
    with np.load(work / "job.npz") as job:
        inputs = job["inputs"]
        layers = [int(i) for i in job["taps"]]
        n_out = int(job["n_out"])
        gaps, bp = float(job["gaps"]), float(job["backpressure"])
        seed = int(job["seed"])
        timeout = int(job["timeout"])
        n_layers = int(job["n_layers"])
        loads = job["loads"].tolist()
        bits, ppb = int(job["bits"]), int(job["pixels_per_beat"])
        malformed = [(int(a), int(b)) for a, b in job["malformed"].reshape(-1, 2)] if "malformed" in job else []
        config = list(zip(job["config"].tolist(), job["config_last"].tolist())) if "config" in job else []
    tb = TB(dut, layers=layers, n_x=inputs.shape[1], gaps=gaps, backpressure=bp, seed=seed, bits=bits,
            pixels_per_beat=ppb)
    await tb.reset()
    await tb.load_weights(loads)
    await tb.configure(config)
    tb.load(inputs.tolist(), malformed)
    rec = await tb.run(len(inputs) * (n_out + 1), timeout, progress=work / "progress")
    start = np.array(rec.sample_start, dtype=np.int64)
    end = np.array(rec.sample_end, dtype=np.int64)
    arrays: dict[str, np.ndarray] = {f"tap_{i}": np.array(words, dtype=np.uint64) for i, words in rec.taps.items()}
    arrays.update({
        "results": np.array(rec.results, dtype=np.int64),
        "start": start,
        "end": end,
        "total": np.array(rec.cycles),
        "busy": np.array([int(getattr(dut, f"busy_{i}").value) for i in range(n_layers)]),
        "stall": np.array([int(getattr(dut, f"stall_{i}").value) for i in range(n_layers)]),
        "seq": np.array(rec.seq, dtype=np.int64),
        "samples_accepted": np.array(int(dut.samples_accepted.value)),
        "framing_errors": np.array(int(dut.framing_errors.value)),
    })
    if hasattr(dut, "config_committed"):
        arrays["config"] = np.array([int(dut.config_committed.value), int(dut.config_hash.value),
                                     int(dut.config_crc_errors.value), int(dut.config_errors.value),
                                     int(dut.config_refused.value)], dtype=np.uint64)
    tmp = work / "records.tmp.npz"
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(work / "records.npz")

