"""Quantisation-aware training of LIF networks (needs the ``train`` extra: PyTorch).

The trained forward pass *is* the integer semantics of ``snnhw.network/1``, so
the exported file computes on the golden model and on the hardware exactly what
was trained. See ``docs/training.md``.
"""

from snnhw.train.loop import TrainConfig, TrainResult, build_model, export_network, train, write_provenance
from snnhw.train.qat import SURROGATES, LayerSpec, QuantLIF, QuantNetwork, patch_mask, potential_bound

__all__ = [
    "SURROGATES",
    "LayerSpec",
    "QuantLIF",
    "QuantNetwork",
    "TrainConfig",
    "TrainResult",
    "build_model",
    "export_network",
    "patch_mask",
    "potential_bound",
    "train",
    "write_provenance",
]
