"""The ULX3S default build and its host link: ``board.json`` figures and the link's rate in simulated time.

1. ``snnhw board build NET --board ulx3s-85f --out OUT/board`` (the board's default build unless
   ``--lanes``/``--clock-mhz`` say otherwise): nextpnr's Fmax after place and route, timing, resources
   and the build's wall time;
2. ``snnhw board run NET X.npy --port sim --check`` on the same build options with the first ``--samples``
   test images: bit-exact or not, and images/s in simulated time against the frames' bound.

    python bench/board_link.py [--net mnist] [--dataset mnist] [--samples 20] [--lanes N] [--clock-mhz F]
                               [--out bench-board]

Writes ``OUT/board_link.json``. A board build whose ``board.json`` is already there is reused.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--net", default="mnist")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--lanes", type=int, default=None)
    parser.add_argument("--clock-mhz", type=float, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench-board"))
    args = parser.parse_args()
    from snnhw.datasets import load_dataset

    args.out.mkdir(parents=True, exist_ok=True)
    options = (["--lanes", str(args.lanes)] if args.lanes else []) + \
        (["--clock-mhz", f"{args.clock_mhz:g}"] if args.clock_mhz else [])
    board = args.out / "board"
    if not (board / "board.json").is_file():
        cmd = [sys.executable, "-m", "snnhw", "board", "build", args.net, "--board", "ulx3s-85f", "--out", str(board),
               "--allow-timing-failure", *options]
        print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)
    info = json.loads((board / "board.json").read_text())
    x = args.out / "x.npy"
    np.save(x, load_dataset(args.dataset, "test").x[:args.samples])
    cmd = [sys.executable, "-m", "snnhw", "board", "run", args.net, str(x), "--port", "sim", "--check",
           "--out", str(args.out / "results.npz"), *options]
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(done.stdout, done.stderr, sep="", file=sys.stderr)
    rate = re.search(r"simulated link: ([0-9.]+) images/s .*; ([0-9.]+) % of the frames' bound", done.stdout)
    bound = re.search(r"the frames allow at most ([0-9.]+) images/s", done.stdout)
    figures = {
        "board": {k: info.get(k) for k in ("clock_mhz", "baud", "clocks_per_bit", "fmax_mhz", "timing_met",
                                          "seconds", "resources", "board_defaults", "build")},
        "link": {"samples": args.samples, "bit_exact": done.returncode == 0 and "equal the golden model" in done.stdout,
                 "images_per_s_simulated": float(rate.group(1)) if rate else None,
                 "share_of_bound_percent": float(rate.group(2)) if rate else None,
                 "frame_bound_images_per_s": float(bound.group(1)) if bound else None,
                 "wall_seconds": round(time.monotonic() - start, 1)},
    }
    (args.out / "board_link.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if figures["link"]["bit_exact"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
