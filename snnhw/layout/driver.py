"""The OpenROAD process: run one Tcl script in OpenROAD's Python module.

``python driver.py SCRIPT.tcl`` creates ``openroad.Tech`` and ``openroad.Design``,
applies the 0.0.1 fix (:mod:`orfix`, beside this file), then evaluates
``source SCRIPT.tcl``. A Tcl error prints ``SNNHW_TCL_ERROR <message>`` and
exits with status 3. ``--check`` prints whether the fix is needed and the
OpenSTA version, and runs nothing else.

This file imports nothing from snnhw: it may run under a private C runtime
(:mod:`snnhw.layout.runtime`), with only the standard library and the wheel.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import orfix
    from openroad import Design, Tech

    tech = Tech()
    design = Design(tech)
    needed = orfix.fix_needed()
    orfix.register_design(design)
    if argv[:1] == ["--check"]:
        print(f"SNNHW_FIX_NEEDED {int(needed)}")
        print(f"SNNHW_STA_VERSION {design.evalTclString('sta::version')}")
        return 0
    if len(argv) != 1:
        print("usage: driver.py SCRIPT.tcl | --check", file=sys.stderr)
        return 2
    script = os.path.abspath(argv[0]).replace("\\", "/")
    # The wheel's evalTclString does not raise on a Tcl error: catch it in Tcl and report it.
    status = design.evalTclString(
        f"if {{[catch {{source {{{script}}}}} snnhw_msg]}} {{puts \"SNNHW_TCL_ERROR [lindex [split $snnhw_msg \\n] 0]\"; "
        "return failed} else {return ok}")
    if status != "ok":
        sys.stdout.flush()
        return 3
    sys.stdout.flush()
    del design, tech
    return 0


if __name__ == "__main__":
    # os._exit: the wheel's static destructors can crash at interpreter exit after a long run.
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
