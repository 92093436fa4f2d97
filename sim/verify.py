"""Verify the RTL on a whole data set: every sample through the batch engine and the golden model, bit for bit.

:func:`verify` splits the inputs into chunks, streams each chunk back to back through the
generated accelerator (:func:`snnhw.sim.batch.batch_sim`, one harness process per chunk, ``jobs``
at a time) and compares every layer's events, the scores and the predictions with the golden
model. It stops at the first chunk that differs and names the first difference.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from snnhw.sim.batch import batch_sim, build_harness

from snnhw.ir import Network
from snnhw.model.golden import simulate
from snnhw.model.trace import compare_traces, first_divergence
from snnhw.rtl.build import Build

__all__ = ["verify"]

log = logging.getLogger(__name__)


def verify(network: Network, build: Build, inputs: np.ndarray, *, chunk: int | None = None, jobs: int = 1,
           gaps: float = 0.0, backpressure: float = 0.0, seed: int = 0,
           progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run ``inputs`` through the RTL and the golden model and compare them bit for bit.

    ``chunk``: samples per simulator process (default: the inputs split evenly over ``jobs``; each
    process pays a start-up of a few seconds for a large design). Returns a report: samples, ``bit_exact``, the first mismatch (``None`` if none), cycles per
    sample (back to back within a chunk), the RTL's wall time and samples per second (build
    excluded), the golden model's wall time, the build time and the predictions.
    """
    inputs = np.asarray(inputs, dtype=np.int64)
    start = time.monotonic()
    harness = build_harness(network, build)
    build_s = time.monotonic() - start
    chunk = chunk or max(1, -(-len(inputs) // max(1, jobs)))
    chunks = [(lo, inputs[lo:lo + chunk]) for lo in range(0, len(inputs), chunk)]

    def run(item: tuple[int, np.ndarray]) -> tuple[int, Any, Any]:
        lo, x = item
        trace, counters = batch_sim(network, build, x, gaps=gaps, backpressure=backpressure, seed=seed + lo,
                                    progress=progress, harness=harness)
        return lo, trace, counters

    rtl_start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(run, chunks))
    rtl_s = time.monotonic() - rtl_start
    golden_start = time.monotonic()
    mismatch = None
    predictions = []
    cycles_total = 0
    latency = []
    for lo, trace, counters in results:
        x = inputs[lo:lo + len(trace.predictions)]
        golden = simulate(network, x)
        if compare_traces(golden, trace):
            where = first_divergence(network, golden, trace) or "the traces differ"
            # sample numbers within the chunk -> in the data set
            match = re.match(r"sample (\d+)(.*)", where, re.S)
            mismatch = f"sample {lo + int(match.group(1))}{match.group(2)}" if match else where
            break
        predictions.append(trace.predictions)
        cycles_total += int(counters["total"])
        latency.append(trace.extras["cycles"])
    golden_s = time.monotonic() - golden_start
    n = len(inputs)
    lat = np.concatenate(latency) if latency else np.zeros(0, dtype=np.int64)
    return {
        "samples": n,
        "bit_exact": mismatch is None,
        "first_mismatch": mismatch,
        "chunk": chunk,
        "jobs": jobs,
        "gaps": gaps,
        "backpressure": backpressure,
        "seed": seed,
        "cycles_per_sample": cycles_total / n if n and mismatch is None else None,
        "latency_cycles": {"min": int(lat.min()), "mean": float(lat.mean()), "max": int(lat.max())} if len(lat) else None,
        "rtl_s": rtl_s,
        "samples_per_s": n / rtl_s if rtl_s > 0 else None,
        "golden_s": golden_s,
        "build_s": build_s,
        "predictions": np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64),
    }
