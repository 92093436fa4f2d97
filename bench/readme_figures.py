"""Every figure that README.md quotes, from one command.

Runs the benchmarks that produce them, each into its own folder under ``--out``, then collects the
quoted figures into ``--out/readme.json`` and ``--out/readme.md``:

1. ``bench/mnist_results.py --lanes 16`` and ``--lanes 64 --targets asap7``: accuracy on the 10,000
   MNIST test images (golden model), ECP5 Fmax after place and route, ASAP7 pre-layout Fmax (FF),
   latency and images/s;
2. ``bench/layout.py digits:2 mnist:16:global_route``: ASAP7 after place and route (OpenROAD),
   Fmax at SS, TT and FF with the extracted parasitics, and the steps' run times;
3. ``snnhw verify mnist --dataset mnist`` at 16 and 64 lanes: the RTL bit-exact on all 10,000 test
   images, with its images/s;
4. ``snnhw power mnist --lanes 16 --samples 100``: energy per image and per SOP in ASAP7 (TT, gate-level
   activity, pre-layout);
5. ``bench/loadable.py --net mnist --lanes 16 --targets xcup,asap7``: the cost of a loadable design
   (UltraScale+ LUTs and flip-flops, ASAP7 area and pre-layout Fmax at TT);
6. ``bench/board_link.py``: the ULX3S default build of ``mnist`` (Fmax after place and route with the
   board's I/O, timing, build time) and its host link's images/s in simulated time;
7. ``bench/ecp5_lanes.py``: ECP5 Fmax after place and route, networks × lane counts; and ``snnhw synth
   mnist --target ecp5 --lanes 16 --seed 2``: the 16-lane point with a second nextpnr seed.

    python bench/readme_figures.py [--out bench-readme] [--skip mnist,layout,verify,power,loadable,board,lanes]

Each step takes a while on a 2-core machine (the layout step longest: detailed routing);
``--skip`` leaves steps out, and a step whose output is already there is reused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _run(args: list[str], done: Path) -> None:
    if done.is_file():
        print(f"reusing {done}", file=sys.stderr)
        return
    print("$ " + " ".join(args), file=sys.stderr)
    subprocess.run(args, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-readme"))
    parser.add_argument("--skip", default="",
                        help="steps to leave out: mnist, layout, verify, power, loadable, board, lanes")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    figures: dict[str, Any] = {}
    if "mnist" not in skip:
        for lanes, targets in ((16, "xcup,ecp5,asap7"), (64, "xcup,asap7")):
            folder = out / f"mnist-{lanes}"
            _run([py, str(HERE / "mnist_results.py"), "--lanes", str(lanes), "--targets", targets, "--out",
                  str(folder)], folder / "results.json")
            figures[f"mnist_{lanes}"] = json.loads((folder / "results.json").read_text())
    if "layout" not in skip:
        folder = out / "layout"
        _run([py, str(HERE / "layout.py"), "digits:2", "mnist:16:global_route", "--power-samples", "8",
              "--reuse", "--out", str(folder)], folder / "layout.json")
        figures["layout"] = json.loads((folder / "layout.json").read_text())
    if "verify" not in skip:
        for lanes in (16, 64):
            path = out / f"verify-mnist-{lanes}.json"
            _run([py, "-m", "snnhw", "verify", "mnist", "--dataset", "mnist", "--lanes", str(lanes), "--json",
                  str(path)], path)
            figures[f"verify_mnist_{lanes}"] = json.loads(path.read_text())
    if "power" not in skip:
        folder = out / "power-mnist-16"
        _run([py, "-m", "snnhw", "power", "mnist", "--lanes", "16", "--samples", "100", "--out", str(folder)],
             folder / "power.json")
        figures["power_mnist_16"] = json.loads((folder / "power.json").read_text())
    if "loadable" not in skip:
        folder = out / "loadable-mnist-16"
        _run([py, str(HERE / "loadable.py"), "--net", "mnist", "--lanes", "16", "--targets", "xcup,asap7", "--out",
              str(folder)], folder / "loadable.json")
        figures["loadable_mnist_16"] = json.loads((folder / "loadable.json").read_text())
    if "board" not in skip:
        folder = out / "board-mnist"
        _run([py, str(HERE / "board_link.py"), "--out", str(folder)], folder / "board_link.json")
        figures["board_mnist"] = json.loads((folder / "board_link.json").read_text())
    if "lanes" not in skip:
        folder = out / "ecp5-lanes"
        _run([py, str(HERE / "ecp5_lanes.py"), "--out", str(folder)], folder / "ecp5_lanes.json")
        figures["ecp5_lanes"] = json.loads((folder / "ecp5_lanes.json").read_text())
        # the 16-lane point once more with a second nextpnr seed (the figure moves with the seed)
        folder = out / "ecp5-mnist-16-seed2"
        _run([py, "-m", "snnhw", "synth", "mnist", "--target", "ecp5", "--lanes", "16", "--seed", "2",
              "--out", str(folder)], folder / "report.json")
        figures["ecp5_mnist_16_seed2"] = json.loads((folder / "report.json").read_text())["fpga"]["fmax_mhz"]
    (out / "readme.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    lines = ["| figure | value |", "|---|---|"]
    for name, value in figures.items():
        if name.startswith("verify"):
            lines.append(f"| {name}: bit-exact, images/s, cycles/image | {value['bit_exact']}, "
                         f"{value['samples_per_s']:.0f}, {value['cycles_per_sample']:.0f} |")
        elif name.startswith("power"):
            lines.append(f"| {name}: nJ per image, pJ per SOP, SRAM reads per image | "
                         f"{value['energy_per_sample_nj']:.1f}, {value['pj_per_sop']:.2f}, "
                         f"{value['sram_reads_per_sample']:.0f} |")
        elif name.startswith("loadable"):
            for target, row in value.items():
                keys = ("lut", "ff") if target == "xcup" else ("area_um2", "fmax_mhz")
                lines.append(f"| {name} {target}: {', '.join(keys)} fixed → loadable | " + ", ".join(
                    f"{row['fixed'][k]:.0f} → {row['loadable'][k]:.0f}" for k in keys) + " |")
        elif name == "board_mnist":
            board, link = value["board"], value["link"]
            lines.append(f"| ULX3S default build: MHz, Fmax, met, seconds | {board['clock_mhz']:g}, "
                         f"{board['fmax_mhz']:.1f}, {board['timing_met']}, {board['seconds']:.0f} |")
            lines.append(f"| ULX3S link in simulated time: images/s, % of the frames' bound, bit-exact | "
                         f"{link['images_per_s_simulated']}, {link['share_of_bound_percent']}, {link['bit_exact']} |")
        elif name == "ecp5_lanes":
            for net, points in value.items():
                lines.append(f"| ECP5 Fmax {net}, MHz by lanes | " + ", ".join(
                    f"{n}: {p['fmax_mhz']:.1f}" for n, p in points.items()) + " |")
        elif name == "ecp5_mnist_16_seed2":
            lines.append(f"| ECP5 Fmax mnist, 16 lanes, nextpnr seed 2, MHz | {value:.1f} |")
        elif name == "layout":
            for row in value:
                by = row["layout"]["fmax_mhz_by_corner"]
                lines.append(f"| {row['network']}:{row['lanes']} {row['layout']['stage']}: Fmax SS/TT/FF MHz | "
                             f"{by['SS']:.0f} / {by['TT']:.0f} / {by['FF']:.0f} |")
    (out / "readme.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
