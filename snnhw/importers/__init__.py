"""Importers: networks trained elsewhere become ``snnhw.network/1`` networks.

:mod:`snnhw.importers.nir` reads graphs of the Neuromorphic Intermediate
Representation (NIR), which snnTorch, Norse, Sinabs, Rockpool and Lava write.
"""

from __future__ import annotations

__all__: list[str] = []
