"""The cost of loadability: the same network synthesized as a fixed and as a loadable design.

For each target, ``snnhw synth NET --target T --lanes N`` runs twice: with the fixed build (the
network in read-only memories: the FPGA default, ``{"loadable": false}`` on ASAP7) and with ``--build``
``{"loadable": true}`` (every parameter written
over ``s_axis_config``; on ASAP7 also ``"preloaded": false``, as silicon has no initial values). The
difference in resources, area and clock goes to ``--out/loadable.json`` and ``--out/loadable.md``.

    python bench/loadable.py [--net mnist] [--lanes 16] [--targets xcup,asap7,ecp5] [--out bench-loadable]

A run whose ``report.json`` is already there is reused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

FPGA_KEYS = ("lut", "ff", "carry", "dsp", "bram36_equiv", "ebr", "logic_depth", "fmax_mhz")
ASIC_KEYS = ("area_um2", "sequential_area_um2", "macro_area_um2", "macro_count", "cells", "fmax_mhz", "corner")


def _synth(net: str, target: str, lanes: int, build: dict[str, Any] | None, out: Path) -> dict[str, Any]:
    report = out / "report.json"
    if not report.is_file():
        args = [sys.executable, "-m", "snnhw", "synth", net, "--target", target, "--lanes", str(lanes), "--out", str(out)]
        if target == "asap7":
            args += ["--corner", "TT"]
        if build is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out.parent / f"{out.name}.build.json").write_text(json.dumps(build))
            args += ["--build", str(out.parent / f"{out.name}.build.json")]
        print("$ " + " ".join(args), file=sys.stderr)
        subprocess.run(args, check=True)
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--net", default="mnist")
    parser.add_argument("--lanes", type=int, default=16)
    parser.add_argument("--targets", default="xcup,asap7,ecp5")
    parser.add_argument("--out", type=Path, default=Path("bench-loadable"))
    args = parser.parse_args()
    rows: dict[str, Any] = {}
    lines = [f"# Cost of loadability: `{args.net}`, {args.lanes} lanes", "",
             "| target | figure | fixed | loadable | change |", "|---|---|---|---|---|"]
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        loadable = {"loadable": True, **({"preloaded": False} if target == "asap7" else {})}
        # the ASAP7 flow's default is the loadable design: the fixed one is asked for by name
        fixed = _synth(args.net, target, args.lanes, {"loadable": False} if target == "asap7" else None,
                       args.out / f"{target}-fixed")
        load = _synth(args.net, target, args.lanes, loadable, args.out / f"{target}-loadable")
        section, keys = ("asic", ASIC_KEYS) if target == "asap7" else ("fpga", FPGA_KEYS)
        rows[target] = {"fixed": {k: fixed[section].get(k) for k in keys},
                        "loadable": {k: load[section].get(k) for k in keys},
                        "runtime_s": {"fixed": fixed.get("runtime_s"), "loadable": load.get("runtime_s")}}
        for key in keys:
            a, b = fixed[section].get(key), load[section].get(key)
            if a is None and b is None:
                continue
            change = f"{(b - a) / a * 100:+.1f} %" if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
                and not isinstance(a, bool) and a else ""
            lines.append(f"| {target} | {key} | {a} | {b} | {change} |")
    (args.out / "loadable.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.out / "loadable.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
