"""The fix for a crash of OpenROAD 0.0.1 from PyPI, in one place.

In the ``openroad`` 0.0.1 wheel, the Python ``Design`` object is never
registered with the Tcl interpreter that its ``evalTclString`` runs, so every
Tcl command that looks the design up there (``initialize_floorplan``,
``extract_parasitics`` and others: ``ord::Design::getFloorplan`` finds a NULL
design) crashes the process with a segmentation fault.

:func:`register_design` does the registration that the wheel leaves out: it
stores the ``Design``'s C++ pointer under the key ``design`` in the
interpreter's association data, through the two symbols that the wheel's
``_openroadpy.so`` exports (``Tcl_SetAssocData`` and ``sta::Sta::sta()`` /
``sta::Sta::tclInterp()``), reached with :mod:`ctypes`.

:func:`fix_needed` says whether a wheel still has the bug, without crashing:
it asks the interpreter for the association data before the fix. A test runs
both, so that it fails when a new wheel no longer needs the fix (drop this
module then) or when the fix stops working.

This module imports nothing from snnhw: it runs inside the OpenROAD process,
which may use a private C runtime (:mod:`snnhw.layout.runtime`).
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ["ASSOC_KEY", "fix_needed", "register_design"]

#: The association-data key under which OpenROAD's Tcl commands look up the design.
ASSOC_KEY = b"design"


def _lib() -> ctypes.CDLL:
    import openroad  # noqa: F401  (loads _openroadpy.so)
    import openroadpy

    lib = ctypes.CDLL(openroadpy._openroadpy.__file__)
    lib._ZN3sta3Sta3staEv.restype = ctypes.c_void_p
    lib._ZN3sta3Sta9tclInterpEv.restype = ctypes.c_void_p
    lib._ZN3sta3Sta9tclInterpEv.argtypes = [ctypes.c_void_p]
    lib.Tcl_SetAssocData.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.Tcl_SetAssocData.restype = None
    lib.Tcl_GetAssocData.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    lib.Tcl_GetAssocData.restype = ctypes.c_void_p
    return lib


def _interp(lib: ctypes.CDLL) -> int:
    sta = lib._ZN3sta3Sta3staEv()
    if not sta:
        raise RuntimeError("OpenROAD: no sta::Sta instance (create a Design first)")
    interp = lib._ZN3sta3Sta9tclInterpEv(sta)
    if not interp:
        raise RuntimeError("OpenROAD: the STA has no Tcl interpreter")
    return int(interp)


def fix_needed() -> bool:
    """True when the interpreter holds no ``design`` association (the 0.0.1 bug); call after ``Design(tech)``."""
    lib = _lib()
    return not lib.Tcl_GetAssocData(_interp(lib), ASSOC_KEY, None)


def register_design(design: Any) -> None:
    """Register ``design`` (an ``openroad.Design``) with the Tcl interpreter under ``design``.

    Keep the ``Tech`` object that made ``design`` alive as long as ``design``.
    """
    lib = _lib()
    pointer = int(design.this)
    lib.Tcl_SetAssocData(_interp(lib), ASSOC_KEY, None, pointer)
    if lib.Tcl_GetAssocData(_interp(lib), ASSOC_KEY, None) != pointer:
        raise RuntimeError("OpenROAD: registering the design with the Tcl interpreter failed")
