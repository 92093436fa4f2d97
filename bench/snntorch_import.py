"""snnTorch → NIR → snnhw on the digits data set: agreement, accuracy, fine-tuning.

Trains a small snnTorch model (64 → Linear → Leaky 32 → Linear → Leaky 10,
direct encoding of the pixels scaled to [0, 1]) on the digits training split,
writes it with snnTorch's own ``export_to_nir``, imports it with the snnTorch
preset, and prints: snnTorch's test accuracy, the golden model's accuracy on the
imported network, their top-1 agreement, the float NIR reference's agreement
(per layer and top-1), and the accuracy after ``snnhw train --init`` for a few
epochs. Assertion-free: figures only.

Usage::

    .venv/bin/python bench/snntorch_import.py [--beta 0.875] [--time-steps 8] [--epochs 15] [--tune-epochs 3]
                                              [--out bench-snntorch] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def train_snntorch(*, beta: float, time_steps: int, epochs: int, seed: int = 0) -> tuple[Any, np.ndarray, Any]:
    """Train the snnTorch model on digits (one CPU thread, seeded): (model, its test predictions, the test split)."""
    import snntorch as snn
    import torch

    from snnhw.datasets import load_dataset

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(64, 32)
            self.lif1 = snn.Leaky(beta=torch.full((32,), beta), threshold=torch.ones(32))
            self.fc2 = torch.nn.Linear(32, 10)
            self.lif2 = snn.Leaky(beta=torch.full((10,), beta), threshold=torch.ones(10))

        def forward(self, x):
            m1, m2, out = self.lif1.init_leaky(), self.lif2.init_leaky(), []
            for _ in range(time_steps):
                s1, m1 = self.lif1(self.fc1(x), m1)
                s2, m2 = self.lif2(self.fc2(s1), m2)
                out.append(s2)
            return torch.stack(out)

    try:
        model = Model()
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        x = torch.tensor(tr.x / 16.0, dtype=torch.float32)
        y = torch.tensor(tr.y)
        for _ in range(epochs):
            perm = torch.randperm(len(x))
            for i in range(0, len(x), 64):
                idx = perm[i:i + 64]
                loss = torch.nn.functional.cross_entropy(model(x[idx]).sum(0), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            theirs = model(torch.tensor(te.x / 16.0, dtype=torch.float32)).sum(0).numpy().argmax(1)
    finally:
        torch.set_num_threads(threads)
    return model, theirs, te


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beta", type=float, default=0.875)
    parser.add_argument("--time-steps", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--tune-epochs", type=int, default=3)
    parser.add_argument("--weight-bits", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench-snntorch"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import nir
    import snntorch as snn
    import torch
    from snntorch.export_nir import export_to_nir

    from snnhw.importers.nir import ImportOptions, agreement, import_nir
    from snnhw.model import simulate
    from snnhw.train import TrainConfig, train

    start = time.perf_counter()
    model, theirs, te = train_snntorch(beta=args.beta, time_steps=args.time_steps, epochs=args.epochs, seed=args.seed)
    train_s = time.perf_counter() - start
    T, beta = args.time_steps, args.beta
    args.out.mkdir(parents=True, exist_ok=True)
    nir.write(str(args.out / "digits.nir"), export_to_nir(model, torch.zeros(1, 64), ignore_dims=[0]))
    net, report = import_nir(args.out / "digits.nir", ImportOptions(
        time_steps=T, preset="snntorch", input_bits=5, input_scale=1 / 16, weight_bits=args.weight_bits))
    net.save(args.out / "digits.npz")
    ours = simulate(net, te.x).predictions
    cal = agreement(nir.read(str(args.out / "digits.nir"), type_check=False), net, report, te.x)
    tuned = train(TrainConfig(dataset="digits", init=str(args.out / "digits.npz"), epochs=args.tune_epochs, lr=5e-4,
                              threads=1), progress=False).network
    tuned.save(args.out / "digits-tuned.npz")
    figures = {
        "machine": platform.platform(), "python": sys.version.split()[0], "torch": torch.__version__,
        "snntorch": snn.__version__, "beta": beta, "time_steps": T, "epochs": args.epochs,
        "snntorch_train_s": round(train_s, 1),
        "snntorch_accuracy": float((theirs == te.y).mean()),
        "imported_accuracy": float((ours == te.y).mean()),
        "top1_agreement_with_snntorch": float((ours == theirs).mean()),
        "reference_top1_agreement": cal["top1_agreement"],
        "reference_spike_agreement": [e["spike_agreement"] for e in cal["layers"]],
        "leaks": [m.leak for m in report.layers], "tau_errors": [m.tau_error for m in report.layers],
        "tuned_accuracy": float((simulate(tuned, te.x).predictions == te.y).mean()),
        "tune_epochs": args.tune_epochs, "test_samples": len(te.y),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
