"""Post-route ASAP7 figures (docs/results.md, "Layout"), side by side with the pre-layout ones of the same build.

For each ``NETWORK:LANES[:UNTIL]`` point: ``snnhw synth NETWORK --target asap7 --layout --lanes LANES``
(synthesis and pre-layout timing at TT, place and route, sign-off at SS, TT and FF), then the
pre-layout FF timing of the same netlist, then, with ``--power-samples N``, ``snnhw power`` on the
routed netlist with the first N MNIST test images (or random inputs for networks without a data set).
Writes ``--out/layout.json`` and ``--out/layout.md``.

    python bench/layout.py digits:8 mnist:16:global_route [--power-samples 4] [--out bench-layout] [--reuse]

A point whose run directory already holds a finished layout of the same network (``snnhw synth NETWORK
--target asap7 --layout --lanes LANES --out OUT/NETWORK-LANES``) and, for power, a post-route
``power.json`` of as many samples, is read rather than run again. Each point's figures are also saved as ``OUT/NETWORK-LANES[-UNTIL].json``; ``--reuse`` takes them from
there, so that points run one at a time still make one table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from snnhw.layout.flow import UNTIL, LayoutOptions
from snnhw.netfile import resolve_network
from snnhw.rtl.build import resolve_build
from snnhw.synth import synthesize
from snnhw.synth.report import fmt


def _inputs(network: Any, n: int) -> tuple[np.ndarray, str]:
    from snnhw.datasets import load_dataset

    if network.name in ("mnist", "digits"):
        data = load_dataset(network.name, split="test")
        return np.asarray(data.x[:n], dtype=np.int64), f"first {n} {network.name} test images"
    from snnhw.netgen import random_inputs

    return random_inputs(network, n, 0), f"{n} random inputs (seed 0)"


def point(spec: str, out: Path, power_samples: int) -> dict[str, Any]:
    parts = spec.split(":")
    name, lanes = parts[0], int(parts[1])
    until = parts[2] if len(parts) > 2 else "detailed_route"
    network = resolve_network(name)
    build = resolve_build(network, lanes=lanes)
    run = out / f"{name}-{lanes}"
    start = time.monotonic()
    earlier = run / "report.json"
    report = json.loads(earlier.read_text()) if earlier.is_file() else None
    if report is not None and (report.get("layout") or {}).get("stage") == until and \
            report["network"]["sha256"] == network.content_hash():
        # a finished layout run of this network (snnhw synth NET --target asap7 --layout --out RUN)
        layout_s = float(report["runtime_s"])
    else:
        report = synthesize(network, build, "asap7", run, corner="TT", layout=LayoutOptions(until=until))
        layout_s = time.monotonic() - start
    ff = synthesize(network, build, "asap7", out / f"{name}-{lanes}-ff", corner="FF", progress=False)
    row: dict[str, Any] = {
        "network": name, "lanes": lanes, "until": until, "run": str(run),
        "pre_layout_tt_mhz": report["asic"]["fmax_mhz"], "pre_layout_ff_mhz": ff["asic"]["fmax_mhz"],
        "pre_layout_area_um2": report["asic"]["area_um2"], "layout": report["layout"],
        "cycles_per_sample": report["performance"]["cycles_per_sample"], "flow_s": round(layout_s, 1),
    }
    if power_samples and report["layout"]["stage"] == "detailed_route":
        from snnhw.power.flow import run_power

        x, label = _inputs(network, power_samples)
        done = run / "power.json"
        power = json.loads(done.read_text()) if done.is_file() else None
        if power is None or power.get("stage") != "post-route" or power.get("samples") != power_samples:
            power = run_power(network, build, run, x, inputs_label=label)
        row["power"] = {k: power[k] for k in ("stage", "samples", "inputs", "energy_per_sample_nj",
                                              "energy_split_nj", "power_mw", "pj_per_sop", "clock_mhz",
                                              "cross_check", "gate_sim_s", "flow_s")}
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    head = ("| network | lanes | last step | Fmax SS / TT / FF MHz (post-route) | register to register SS / TT / FF MHz "
            "| pre-layout TT / FF MHz | die µm² "
            "| util. | wire µm | DRC | unrouted | hold WNS ps | mW (TT, default activity) | nJ/image (TT, SAIF) "
            "| run time |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lay = r["layout"]
        by = lay["fmax_mhz_by_corner"]
        r2r = lay.get("fmax_mhz_reg2reg_by_corner") or {}
        power = r.get("power")
        lines.append(
            f"| {r['network']} | {r['lanes']} | {lay['stage']} | {fmt(by['SS'])} / **{fmt(by['TT'])}** / {fmt(by['FF'])} "
            f"| {' / '.join(fmt(r2r.get(c)) for c in ('SS', 'TT', 'FF'))} "
            f"| {fmt(r['pre_layout_tt_mhz'])} / {fmt(r['pre_layout_ff_mhz'])} | {fmt(lay['die_area_um2'])} "
            f"| {fmt(lay['core_utilization'])} | {fmt(lay['wirelength_um'])} | {fmt(lay['drc_violations'])} "
            f"| {fmt(lay['unrouted_nets'])} | {fmt(lay['hold_wns_ps'])} | {fmt(lay['power_mw'])} "
            f"| {fmt(power['energy_per_sample_nj']) if power else '–'} | {fmt(r['flow_s'])} s |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("points", nargs="+", help="NETWORK:LANES[:UNTIL], e.g. digits:8 mnist:16:global_route")
    parser.add_argument("--power-samples", type=int, default=0, help="images through the routed netlist (0: none)")
    parser.add_argument("--out", type=Path, default=Path("bench-layout"))
    parser.add_argument("--reuse", action="store_true", help="take a point's figures from an earlier run's "
                        "OUT/NETWORK-LANES[-UNTIL].json instead of running it again")
    args = parser.parse_args()
    for spec in args.points:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not parts[1].isdigit() or int(parts[1]) < 1 or \
                (len(parts) == 3 and parts[2] not in UNTIL):
            parser.error(f"point {spec!r}: expected NETWORK:LANES[:UNTIL], LANES >= 1, UNTIL one of {', '.join(UNTIL)}")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for spec in args.points:
        saved = args.out / f"{spec.replace(':', '-')}.json"
        if args.reuse and saved.is_file():
            rows.append(json.loads(saved.read_text()))
            continue
        rows.append(point(spec, args.out, args.power_samples))
        saved.write_text(json.dumps(rows[-1], indent=2) + "\n")
    (args.out / "layout.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.out / "layout.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
