"""Images per second of every engine on the bundled ``mnist`` network, at several lane counts.

Each engine runs the first N MNIST test images back to back, once to build (and warm) its simulator on
one image, then timed; every trace is compared with the golden model's (bit-exact or the script stops).
The build time (the first call, with the simulator's compile when it is not cached) is reported beside
the rate. Each timed call is a whole ``run_engine`` call, as ``snnhw run`` makes it: for the simulator engines
it includes generating the Verilog and hashing it for the build cache (seconds for ``mnist``), so a short
run understates the simulator's own rate; ``snnhw verify`` generates once and spreads the images over
processes.

    .venv/bin/python bench/engines.py [--lanes 1,16,64] [--images verilator=500,cocotb-verilator=20,icarus=5]
                                      [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from snnhw.datasets import load_dataset
from snnhw.engines import run_engine
from snnhw.model.golden import simulate
from snnhw.model.trace import first_divergence
from snnhw.netfile import resolve_network
from snnhw.rtl.build import resolve_build

DEFAULT_IMAGES = "golden=2000,verilator=500,cocotb-verilator=20,icarus=5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", default="1,16,64", help="lane counts, comma-separated")
    parser.add_argument("--images", default=DEFAULT_IMAGES, help="engine=images, comma-separated")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()
    network = resolve_network("mnist")
    x = load_dataset("mnist", "test").x
    counts = {k: int(v) for k, v in (item.split("=") for item in args.images.split(","))}
    rows: list[dict] = []
    for k, lanes in enumerate(int(v) for v in args.lanes.split(",")):
        build = resolve_build(network, lanes=lanes)
        for engine, n in counts.items():
            if engine == "golden" and k > 0:
                continue  # the golden model does not depend on the lanes: once
            start = time.perf_counter()
            run_engine(engine, network, x[:1], build=build)
            warm_s = time.perf_counter() - start
            start = time.perf_counter()
            trace = run_engine(engine, network, x[:n], build=build)
            seconds = time.perf_counter() - start
            if engine != "golden":
                where = first_divergence(network, simulate(network, x[:n]), trace)
                if where is not None:
                    raise SystemExit(f"{engine} at {lanes} lanes differs from the golden model: {where}")
            row = {"engine": engine, "lanes": None if engine == "golden" else lanes, "images": n,
                   "seconds": round(seconds, 2), "images_per_s": round(n / seconds, 1),
                   "first_call_s": round(warm_s, 1)}
            rows.append(row)
            print(f"{engine:17} lanes {row['lanes']!s:>4}  {n:5} images in {seconds:7.2f} s: "
                  f"{row['images_per_s']:8.1f} images/s (first call, build included: {warm_s:.1f} s)", flush=True)
    machine = {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
