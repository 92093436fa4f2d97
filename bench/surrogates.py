"""Test accuracy on digits for every surrogate and scale (the bundled digits configuration otherwise).

Trains the ``digits`` configuration of ``snnhw/networks/README.md`` once per
surrogate × scale with the same seed, evaluates each export through the golden
model on the 360 test images, and writes ``--out/surrogates.json`` and a plot.

    python bench/surrogates.py [--scales 1,2,4,8] [--epochs 100] [--seeds 0] [--out bench-surrogates]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from snnhw.datasets import load_dataset
from snnhw.evaluate import evaluate
from snnhw.train import SURROGATES, TrainConfig, train


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,2,4,8")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds; accuracies are averaged")
    parser.add_argument("--out", default="bench-surrogates")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    test = load_dataset("digits", "test")
    scales = [float(s) for s in args.scales.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for surrogate in SURROGATES:
        for scale in scales:
            accs, seconds = [], 0.0
            for seed in seeds:
                config = TrainConfig(dataset="digits", hidden=[32], patch=4, stride=2, channels=8, time_steps=4,
                                     epochs=args.epochs, lr=1e-2, shift=1, threads=1, seed=seed,
                                     surrogate=surrogate, surrogate_scale=scale)
                start = time.monotonic()
                result = train(config, progress=False, check_samples=len(test.x))
                seconds += time.monotonic() - start
                accs.append(evaluate(result.network, test)[0]["accuracy"])
            row = {"surrogate": surrogate, "scale": scale, "accuracy": float(np.mean(accs)), "accuracies": accs,
                   "seconds": round(seconds, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    (out / "surrogates.json").write_text(json.dumps(rows, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6), constrained_layout=True)
    for surrogate in SURROGATES:
        pts = [(r["scale"], 100 * r["accuracy"]) for r in rows if r["surrogate"] == surrogate]
        ax.plot(*zip(*pts), marker="o", label=surrogate)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("surrogate scale")
    ax.set_ylabel("digits test accuracy (%)")
    ax.set_title(f"surrogate and scale ({args.epochs} epochs, seeds {args.seeds})")
    ax.legend()
    fig.savefig(out / "surrogates.png", dpi=110, metadata={"Software": None})
    print(f"wrote {out / 'surrogates.json'} and {out / 'surrogates.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
