"""Energy per MNIST inference in ASAP7 (TT) at several lane counts, from gate-level activity.

Runs ``snnhw power mnist --lanes N --samples S`` for each N and prints energy per
image, its split, pJ per SOP, mW at the TT Fmax and the flow's wall time, then (with
``--idle``, the default) the same design on S all-zero images, the idle floor, beside
published accelerators (whose figures are silicon measurements or vendor-tool
estimates at other nodes; see docs/results.md for what each includes).

    .venv/bin/python bench/power_mnist.py [--lanes 16,64] [--samples 100] [--no-idle] [--out bench-power] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import time
from pathlib import Path

import numpy as np

from snnhw.datasets import load_dataset
from snnhw.netfile import resolve_network
from snnhw.power.flow import run_power
from snnhw.rtl.build import resolve_build

#: Published anchors: (name, node, kind, figure).
ANCHORS = [
    ("TrueNorth", "28 nm", "silicon", "26 pJ per synaptic event"),
    ("Loihi", "14 nm", "silicon", "23.6 pJ per SOP"),
    ("ODIN", "28 nm FDSOI", "silicon", "12.7 pJ per SOP; 15 nJ per MNIST inference"),
    ("Spiker+", "FPGA", "Vivado estimate", "180 mW"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lanes", default="16,64")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("bench-power"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--idle", action=argparse.BooleanOptionalAction, default=True,
                        help="also run all-zero images on the same synthesized design (the idle floor)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    net = resolve_network("mnist")
    x = load_dataset("mnist", "test").x[:args.samples]
    rows = []
    for lanes in [int(v) for v in args.lanes.split(",")]:
        start = time.monotonic()
        p = run_power(net, resolve_build(net, lanes=lanes), args.out / f"lanes{lanes}", x,
                      inputs_label=f"the first {len(x)} MNIST test images", progress=False)
        p["lanes"], p["wall_s"] = lanes, round(time.monotonic() - start, 1)
        rows.append(p)
        s = p["energy_split_nj"]
        print(f"lanes {lanes}: {p['energy_per_sample_nj']:.3f} nJ per image (seq {s['sequential']:.3f}, comb "
              f"{s['combinational']:.3f}, clock {s['clock']:.3f}, leak {s['leakage']:.4f}, SRAM {s['sram']:.3f} "
              f"assumed), {p['pj_per_sop']:.3f} pJ/SOP, {p['power_mw']:.2f} mW at {p['clock_mhz']:.0f} MHz; "
              f"{p['cycles_per_sample']:.0f} cycles per image; flow {p['wall_s']:.0f} s "
              f"(gate-level simulation {p['gate_sim_s']:.0f} s)")
        if args.idle:  # the same netlist (the run directory copied, so its synthesis is reused)
            zero_dir = args.out / f"lanes{lanes}-zero"
            shutil.rmtree(zero_dir, ignore_errors=True)
            shutil.copytree(args.out / f"lanes{lanes}", zero_dir, ignore=shutil.ignore_patterns("*.saif"))
            z = run_power(net, resolve_build(net, lanes=lanes), zero_dir, np.zeros_like(x),
                          inputs_label=f"{len(x)} all-zero images", progress=False)
            p["idle"] = z
            print(f"lanes {lanes}, all-zero images: {z['energy_per_sample_nj']:.3f} nJ per image, "
                  f"{z['energy_per_sample_nj'] / p['energy_per_sample_nj']:.1%} of a real one "
                  f"(clock {z['energy_split_nj']['clock']:.3f}, SRAM {z['energy_split_nj']['sram']:.3f} nJ)")
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    for name, node, kind, figure in ANCHORS:
        print(f"  {name}: {figure} ({node}, {kind})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
