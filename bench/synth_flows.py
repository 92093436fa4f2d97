"""Synthesis of the reference MNIST-sized network on every target, timed.

The network is the one of ``bench/golden_model.py`` (784 → patch encoder 784 →
256 → 10, T 16, thresholds calibrated on MNIST); the cycle model runs on the
first ``--samples`` MNIST test images. For each target and lane count this
runs ``snnhw synth`` into ``--out/<target>_l<lanes>``, prints the headline
figures and the wall time, and finally writes the comparison
(``snnhw report``) into ``--out/compare``.

    python bench/synth_flows.py [--targets xcup,ecp5,asap7] [--lanes 16] [--out bench-synth] [--cosim 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_model import reference_network

from snnhw.datasets import load_mnist
from snnhw.rtl.build import resolve_build
from snnhw.synth import compare, synthesize


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="xcup,ecp5,asap7")
    parser.add_argument("--lanes", default="16", help="comma-separated lane counts")
    parser.add_argument("--samples", type=int, default=200, help="MNIST test images for the cycle model")
    parser.add_argument("--cosim", type=int, default=0, help="also co-simulate N images on Verilator")
    parser.add_argument("--data", default=None, help="MNIST directory")
    parser.add_argument("--out", default="bench-synth", help="directory for the runs")
    parser.add_argument("--corner", default="FF")
    parser.add_argument("--orfs", action="store_true", help="asap7: also write the ORFS design")
    args = parser.parse_args()
    x, _ = load_mnist("test", args.data)
    x = x.reshape(len(x), -1)[: args.samples].astype(np.int64)
    network = reference_network(x)
    out = Path(args.out)
    runs, summary = [], []
    for lanes in (int(v) for v in args.lanes.split(",")):
        build = resolve_build(network, lanes=lanes)
        for target in args.targets.split(","):
            run = out / f"{target}_l{lanes}"
            start = time.monotonic()
            report = synthesize(network, build, target, run, inputs=x, cosim=args.cosim, corner=args.corner,
                                orfs=args.orfs and target == "asap7", progress=sys.stderr.isatty())
            seconds = time.monotonic() - start
            runs.append(run)
            row = {"target": target, "lanes": lanes, "seconds": round(seconds, 1),
                   "fpga": {k: v for k, v in report["fpga"].items() if v is not None},
                   "asic": {k: v for k, v in report["asic"].items() if v is not None},
                   "performance": report["performance"]}
            summary.append(row)
            print(json.dumps(row))
    compare(runs, out / "compare")  # table and plot
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out / 'compare' / 'report.md'} and {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
