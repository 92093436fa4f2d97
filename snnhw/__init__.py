"""snnhw: hardware generation for differential-time spiking-network accelerators.

The package is organised as one contract and its consumers:

* :mod:`snnhw.ir` — the typed, validated ``snnhw.network/1`` network;
* :mod:`snnhw.model` — the golden model of the integer semantics and of the
  event streams;
* :mod:`snnhw.engines` — the engines behind ``snnhw run --engine``;
* :mod:`snnhw.netgen` — random valid networks for trying the flow and testing;
* :mod:`snnhw.datasets` — data sets read from their standard files;
* :mod:`snnhw.cli` — the ``snnhw`` command.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
