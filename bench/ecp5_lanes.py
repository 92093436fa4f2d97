"""Routed ECP5 Fmax over networks × lane counts: ``snnhw synth NET --target ecp5 --lanes N`` for each.

The networks are the bundled ``mnist`` and ``digits`` and random networks written here by
``snnhw random`` with fixed seeds (shapes not used to tune the design): ``rand-64-48-32-10`` (the
64→48→32→10 network of 6-bit weights, 12-bit potentials and 8 time steps), and ``rand-vary``
(widths, leak, reset, amplitude and bias of every layer drawn at random). Every point is one
out-of-context place and route on the LFE5U-85F at nextpnr's fixed seed; the table goes to
``--out/ecp5_lanes.md`` and the figures to ``--out/ecp5_lanes.json``.

    python bench/ecp5_lanes.py [--nets mnist,digits,rand-64-48-32-10,rand-vary] [--lanes 1,2,4,8,16,32]
                               [--out bench-ecp5-lanes]

A point whose ``report.json`` is already there is reused; a lane count above a network's widest
layer is the same design as that width and is skipped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RANDOM = {
    "rand-64-48-32-10": ["--seed", "7", "--input-size", "64", "--input-bits", "4", "--sizes", "48,32,10",
                         "--time-steps", "8", "--weight-bits", "6", "--potential-bits", "12", "--density", "0.5"],
    "rand-vary": ["--seed", "11", "--input-size", "100", "--input-bits", "6", "--sizes", "80,40,12",
                  "--time-steps", "10", "--vary", "--density", "0.4"],
}


def _network(name: str, out: Path) -> str:
    if name not in RANDOM:
        return name
    path = out / f"{name}.npz"
    if not path.is_file():
        subprocess.run([sys.executable, "-m", "snnhw", "random", str(path), *RANDOM[name]], check=True)
    return str(path)


def _widest(net: str) -> int:
    from snnhw.netfile import resolve_network

    return max(layer.size for layer in resolve_network(net).layers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nets", default="mnist,digits,rand-64-48-32-10,rand-vary")
    parser.add_argument("--lanes", default="1,2,4,8,16,32")
    parser.add_argument("--out", type=Path, default=Path("bench-ecp5-lanes"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    lanes = [int(v) for v in args.lanes.split(",")]
    rows: dict[str, dict[int, Any]] = {}
    for name in [n.strip() for n in args.nets.split(",") if n.strip()]:
        net = _network(name, args.out)
        widest = _widest(net)
        rows[name] = {}
        for n in lanes:
            if n > widest and n // 2 >= widest:
                continue
            run = args.out / f"{name}-{n}"
            report = run / "report.json"
            if not report.is_file():
                start = time.monotonic()
                cmd = [sys.executable, "-m", "snnhw", "synth", net, "--target", "ecp5", "--lanes", str(n),
                       "--out", str(run)]
                print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
                subprocess.run(cmd, check=True)
                (run / "seconds.txt").write_text(f"{time.monotonic() - start:.1f}\n")
            fpga = json.loads(report.read_text())["fpga"]
            seconds = float((run / "seconds.txt").read_text()) if (run / "seconds.txt").is_file() else None
            rows[name][n] = {"fmax_mhz": fpga["fmax_mhz"], "lut": fpga["lut"], "ff": fpga["ff"],
                             "ebr": fpga["ebr"], "seconds": seconds}
            print(f"{name} {n} lanes: {fpga['fmax_mhz']:.1f} MHz", flush=True)
    (args.out / "ecp5_lanes.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["# ECP5 routed Fmax (MHz), LFE5U-85F out of context, nextpnr seed 1", "",
             "| network | " + " | ".join(f"{n} lanes" for n in lanes) + " |", "|---|" + "---|" * len(lanes)]
    for name, points in rows.items():
        cells = [f"{points[n]['fmax_mhz']:.1f}" if n in points else "—" for n in lanes]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    (args.out / "ecp5_lanes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
