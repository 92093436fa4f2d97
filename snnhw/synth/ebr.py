"""ECP5 block RAM output registers: fold the flip-flops behind a ``DP16KD`` into its ``OUTREG``.

Every memory of the generated design is read in two registered steps (``snnhw.rtl.memories``): the
block RAM's synchronous read, then a register per bank that loads only after a read. Yosys maps the
first to the ``DP16KD``'s read latch and the second to fabric flip-flops, because its ECP5 memory
library has no output-register option; the block RAM's clock to out without its output register
(5.6 ns in nextpnr's timing model) then starts the slowest paths of the design, across the die to
those flip-flops.

:func:`absorb_output_registers` rewrites Yosys's JSON netlist after ``synth_ecp5``: where every used
data output of a read port drives exactly one flip-flop, and nothing else, on the port's clock, with
one clock enable shared by all of them, no set or reset, power-up value 0 and the global set/reset
off, the flip-flops are removed and the port's output register takes their place (``REGMODE`` =
``OUTREG``, the output clock enable ``OCE`` = their enable). The register's behaviour is the
flip-flops' own: it loads the read latch on the clock edges where the enable is high, powers up at
0 and is never reset (its ``RST`` input stays tied low), so the design computes the same values in
the same cycles. In the 36-bit pseudo-dual-port mode every data output is read on port B's clock
(as nextpnr's timing model has it), so both halves' output registers are set and enabled together.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from snnhw.errors import ToolError

__all__ = ["absorb_output_registers", "fold_file", "main"]

log = logging.getLogger(__name__)

_CONST_ONE = ("1", "1 ")


def _ports(cell: dict[str, Any], side: str) -> list[str]:
    return sorted((p for p in cell["connections"] if p.startswith(f"DO{side}")), key=lambda p: int(p[3:]))


def _int(value: Any) -> int:
    """An integer parameter or attribute of a Yosys JSON netlist: a binary string, or a number."""
    return int(value, 2) if isinstance(value, str) else int(value)


def absorb_output_registers(netlist: dict[str, Any], top: str) -> dict[str, int]:
    """Fold the flip-flops behind each ``DP16KD`` read port into its output register, in place.

    Returns the counts: ``ports`` folded, ``flip_flops`` removed, ``skipped`` read ports whose outputs
    do not meet the conditions in the module docstring (left as they were).
    """
    module = netlist["modules"][top]
    cells: dict[str, dict[str, Any]] = module["cells"]
    sinks: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell.get("port_directions", {}).get(port) == "input":
                for bit in bits:
                    sinks[bit].append((name, port))
    for port in module.get("ports", {}).values():
        if port["direction"] != "input":
            for bit in port["bits"]:
                sinks[bit].append(("", "port"))
    stats = {"ports": 0, "flip_flops": 0, "skipped": 0}
    removed: set[str] = set()
    dead_bits: set[Any] = set()
    for name in sorted(cells):
        cell = cells[name]
        if cell["type"] != "DP16KD":
            continue
        params = cell["parameters"]
        pdp = _int(params.get("DATA_WIDTH_A", 18)) == 36
        groups = [("B", _ports(cell, "A") + _ports(cell, "B"), ("A", "B"))] if pdp else \
            [("A", _ports(cell, "A"), ("A",)), ("B", _ports(cell, "B"), ("B",))]
        for clock_side, ports, sides in groups:
            used = [(p, cell["connections"][p][0]) for p in ports if sinks.get(cell["connections"][p][0])]
            if not used:
                continue
            clock = cell["connections"].get(f"CLK{clock_side}")
            if params.get(f"CLK{clock_side}MUX", f"CLK{clock_side}") != f"CLK{clock_side}" or not clock:
                stats["skipped"] += 1
                continue
            plan: list[tuple[str, str]] = []
            enables = set()
            for port, bit in used:
                targets = sinks[bit]
                if len(targets) != 1 or targets[0][1] != "DI" or not targets[0][0]:
                    break
                ff_name = targets[0][0]
                ff = cells[ff_name]
                p, con = ff["parameters"], ff["connections"]
                if (ff["type"] != "TRELLIS_FF" or p.get("CLKMUX") != "CLK" or con.get("CLK") != clock
                        or p.get("GSR") != "DISABLED" or p.get("REGSET", "RESET") != "RESET"
                        or con.get("LSR", ["0"]) != ["0"] or ff_name in removed):
                    break
                cemux = str(p.get("CEMUX", "1"))
                if cemux in _CONST_ONE:
                    enables.add("1")
                elif cemux == "CE" and con.get("CE"):
                    enables.add(con["CE"][0])
                else:
                    break
                plan.append((port, ff_name))
            else:
                if len(enables) != 1:
                    stats["skipped"] += 1
                    continue
                enable = enables.pop()
                for port, ff_name in plan:
                    ff = cells[ff_name]
                    dead_bits.add(cell["connections"][port][0])
                    cell["connections"][port] = list(ff["connections"]["Q"])
                    removed.add(ff_name)
                for side in sides:
                    params[f"REGMODE_{side}"] = "OUTREG"
                    cell["connections"][f"OCE{side}"] = [enable]
                stats["ports"] += 1
                stats["flip_flops"] += len(plan)
                continue
            stats["skipped"] += 1
    for ff_name in removed:
        del cells[ff_name]
    # names of the read latch's old output nets: those bits are driven by nothing now
    for net in module.get("netnames", {}).values():
        if any(b in dead_bits for b in net["bits"]):
            net["bits"] = ["x" if b in dead_bits else b for b in net["bits"]]
    log.info("EBR output registers: %d read ports folded (%d flip-flops), %d left", stats["ports"],
             stats["flip_flops"], stats["skipped"])
    return stats


def fold_file(path: Path) -> dict[str, int]:
    """:func:`absorb_output_registers` on a Yosys JSON netlist file, in place (its top module)."""
    try:
        netlist = json.loads(path.read_text())
        tops = [name for name, module in netlist["modules"].items() if _int(module.get("attributes", {}).get("top", 0))]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ToolError(f"is not a Yosys JSON netlist ({type(err).__name__}: {err})", source=str(path)) from None
    if len(tops) != 1:
        raise ToolError("the netlist names no single top module", source=str(path))
    stats = absorb_output_registers(netlist, tops[0])
    path.write_text(json.dumps(netlist))
    return stats


def main(argv: list[str] | None = None) -> int:
    """``python -m snnhw.synth.ebr NEXTPNR-ARGS…``: fold the netlist that ``--json FILE`` names (so that a
    board's build script can run it just before nextpnr-ecp5, with nextpnr's own arguments); the counts
    go to ``ebr_output_registers.json`` beside it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--json" not in args or args.index("--json") + 1 >= len(args):
        print("usage: python -m snnhw.synth.ebr … --json NETLIST.json …", file=sys.stderr)
        return 2
    path = Path(args[args.index("--json") + 1])
    try:
        stats = fold_file(path)
    except ToolError as err:
        print(f"snnhw: error: {err}", file=sys.stderr)
        return 2
    (path.parent / "ebr_output_registers.json").write_text(json.dumps(stats) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
