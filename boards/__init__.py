"""Board definitions: platforms, clocking and pins (shipped as :mod:`snnhw.boards`).

=============  ================================================================
board          definition
=============  ================================================================
``ulx3s-85f``  :class:`~snnhw.boards.ulx3s.ULX3S85F` (amaranth-boards platform)
``zcu104``     :class:`~snnhw.boards.zcu104.ZCU104` (own ``XilinxPlatform``)
=============  ================================================================

To add a board, subclass :class:`~snnhw.boards.common.BoardDef` in a module here
and list it in :data:`BOARDS` (``docs/boards.md``, "Adding a board").
"""

from __future__ import annotations

from snnhw.boards.common import BoardDef
from snnhw.boards.ulx3s import ULX3S85F
from snnhw.boards.zcu104 import ZCU104

from snnhw.errors import BuildError

__all__ = ["BOARDS", "BoardDef", "get_board"]

#: Every board ``snnhw board build`` knows, by name.
BOARDS: dict[str, BoardDef] = {b.name: b for b in (ULX3S85F(), ZCU104())}


def get_board(name: str) -> BoardDef:
    """The board called ``name``."""
    try:
        return BOARDS[name]
    except KeyError:
        raise BuildError(f"unknown board; choose one of {', '.join(BOARDS)}", key="--board", value=name) from None
