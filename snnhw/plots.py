"""Plots (matplotlib, imported lazily; the ``synth`` extra installs it)."""

from __future__ import annotations

import io
import math
import os

import numpy as np

from snnhw._io import atomic_write_bytes
from snnhw.ir import Network
from snnhw.model.trace import Trace

__all__ = ["raster_plot"]


def raster_plot(network: Network, trace: Trace, sample: int, path: str | os.PathLike[str], *,
                image: np.ndarray | None = None, label: int | None = None) -> None:
    """Write a spike raster of one sample through every layer as a PNG.

    One panel per layer (time step on x, neuron on y, marker size by
    amplitude), the input image first when ``image`` is given, and the scores
    of the last layer last. Written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [i for i in range(len(network.layers)) if network.fires(i)]
    panels = len(shown) + 1 + (image is not None)
    fig, axes = plt.subplots(1, panels, figsize=(3.0 * panels, 3.6), constrained_layout=True)
    axes = np.atleast_1d(axes)
    k = 0
    if image is not None:
        side = math.isqrt(image.size)
        axes[0].imshow(image.reshape(side, -1), cmap="gray_r")
        axes[0].set_title("input" + (f" (label {label})" if label is not None else ""))
        axes[0].set_xticks([])
        axes[0].set_yticks([])
        k = 1
    T = network.time_steps
    for slot, i in enumerate(shown):
        layer = network.layers[i]
        ax = axes[k + slot]
        ev = trace.events[i]
        ev = ev[ev[:, 0] == sample]
        if len(ev):
            ax.scatter(ev[:, 1], ev[:, 2], s=6 + 10 * ev[:, 3], marker="|" if T > 32 else "s", c=ev[:, 3],
                       cmap="viridis", vmin=1, vmax=max(1, layer.max_amplitude))
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_ylim(-0.5, layer.size - 0.5)
        ax.set_xlabel("time step")
        ax.set_ylabel("neuron")
        ax.set_title(f"{layer.name}: {len(ev)} events")
    ax = axes[-1]
    scores = trace.scores[sample]
    colours = ["C1" if n == trace.predictions[sample] else "C0" for n in range(len(scores))]
    ax.barh(np.arange(len(scores)), scores, color=colours)
    ax.set_yticks(np.arange(len(scores)))
    readout = "potentials" if not network.fires(len(network.layers) - 1) else "spike counts"
    ax.set_title(f"{network.layers[-1].name} {readout} → {int(trace.predictions[sample])}")
    ax.invert_yaxis()
    fig.suptitle(f"{network.name}: sample {sample}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
