"""How a finished sweep's wall time would divide over N workers, from its measured per-point times.

Reads ``DIR/results.jsonl`` (each point's ``wall_s``, training included for the point that trained its network) and
the spec (the order the points are submitted in, which is the order Dask starts them in). For each N it prints:

- the lower bound max(total / N, longest point);
- a list schedule: each point, in submission order, starts on the first worker to become free (close to what a Dask
  cluster of N single-thread workers does with equal priorities, though Dask does not promise that order), ignoring
  cluster start-up and transfer times;
- the same with the points sorted longest first (what a spec ordered by the measured times would give).

    .venv/bin/python bench/sweep_schedule.py bench/sweeps/mnist.toml bench-sweep-mnist [--workers 1,2,4,8,16]
"""

from __future__ import annotations

import argparse
import heapq
import json
from pathlib import Path

from snnhw.sweep import expand, load_spec


def _canonical(point: dict) -> str:
    return json.dumps(point, sort_keys=True)


def schedule(times: list[float], workers: int) -> float:
    """Makespan of list scheduling ``times`` (in order) on ``workers`` identical workers."""
    free = [0.0] * workers
    heapq.heapify(free)
    end = 0.0
    for t in times:
        start = heapq.heappop(free)
        heapq.heappush(free, start + t)
        end = max(end, start + t)
    return end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("out", type=Path, help="the sweep directory (holds results.jsonl)")
    parser.add_argument("--workers", default="1,2,4,8,16", help="comma-separated worker counts")
    args = parser.parse_args()
    spec = load_spec(args.spec)
    order = [_canonical(p.axes()) for p in expand(spec)]
    walls: dict[str, float] = {}
    for line in (args.out / "results.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("wall_s") is not None:
            walls[_canonical(rec["point"])] = float(rec["wall_s"])
    missing = [p for p in order if p not in walls]
    if missing:
        raise SystemExit(f"{args.out / 'results.jsonl'}: no wall time for {len(missing)} points, e.g. {missing[0]}")
    times = [walls[p] for p in order]
    total, longest = sum(times), max(times)
    print(f"{len(times)} points, {total:.0f} s of work, longest point {longest:.0f} s")
    print("| workers | lower bound max(total/N, longest) | submission order | longest first |")
    print("|---|---|---|---|")
    for n in (int(w) for w in args.workers.split(",")):
        print(f"| {n} | {max(total / n, longest):.0f} s | {schedule(times, n):.0f} s | "
              f"{schedule(sorted(times, reverse=True), n):.0f} s |")


if __name__ == "__main__":
    main()
