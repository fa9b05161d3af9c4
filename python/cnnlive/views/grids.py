"""Static figures: the seeds' grid of all maps of a layer, image pairs."""

from __future__ import annotations

from typing import Any

import numpy as np


def activation_figure(acts: np.ndarray, cmap: str = "viridis", standardize_maps: bool = False,
                      cols: int | None = None, title: str | None = None) -> Any:
    """A figure with one panel per map of ``acts`` (H, W, C)."""
    import matplotlib.pyplot as plt

    if acts.ndim != 3:
        raise ValueError(f"activations must be (H, W, maps), got shape {acts.shape}")
    n = acts.shape[-1]
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9 + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            a = acts[..., i]
            if standardize_maps:
                a = (a - a.mean()) / (a.std() or 1.0)
            ax.imshow(a, cmap=cmap)
            ax.set_title(str(i), fontsize=6, pad=1)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=0.2)
    return fig


def pair_figure(image: np.ndarray, enhanced: np.ndarray, title: str = "", cmap: str = "gray") -> Any:
    """Plain and contrast-enhanced renderings side by side, as the seeds show them."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 4))
    for ax, img, label in ((a, image, "plain"), (b, enhanced, "contrast")):
        ax.imshow(img, cmap=cmap)
        ax.set_title(f"{title} {label}".strip(), fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig
