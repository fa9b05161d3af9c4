"""Static figures: the seeds' grid of all maps of a layer, image pairs, the
OIP evolution and the dream stages."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..imaging import min_max

SCALES = ("common", "per_map")


def map_grid(acts: np.ndarray, cols: int = 8, scale: str = "common") -> np.ndarray:
    """The maps of ``acts`` (H, W, C) tiled top-down, ``cols`` per row, into
    one (rows*H, cols*W) array; empty cells are NaN. ``scale="common"`` keeps
    the values (one scale for all maps, so a weak map looks weak);
    ``"per_map"`` stretches each map to 0..1."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
    if acts.ndim != 3:
        raise ValueError(f"activations must be (H, W, maps), got shape {acts.shape}")
    if not isinstance(cols, (int, np.integer)) or cols < 1:
        raise ValueError(f"cols must be a positive integer, got {cols!r}")
    h, w, n = acts.shape
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * h, cols * w), np.nan, np.float32)
    for i in range(n):
        a = acts[..., i].astype(np.float32)
        if scale == "per_map":
            a = min_max(a)
        r, c = divmod(i, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = a
    return grid


def activation_figure(acts: np.ndarray, cmap: str = "magma", scale: str = "common", cols: int = 8,
                      title: str | None = None, size: float = 1.0) -> Any:
    """The seeds' picture of a layer's maps: one image, ``cols`` maps per row,
    thin grid lines between maps, one value scale for all maps (or
    ``scale="per_map"``), ``magma``; ``size`` inches per map."""
    import matplotlib.pyplot as plt

    grid = map_grid(acts, cols, scale)
    h, w, n = acts.shape
    rows, ncols = grid.shape[0] // h, grid.shape[1] // w
    fig, ax = plt.subplots(figsize=(ncols * size + 0.9, rows * size + (0.45 if title else 0.15)))
    im = ax.imshow(grid, cmap=cmap, interpolation="nearest", aspect="equal")
    ax.set_xticks(np.arange(w - 0.5, grid.shape[1] - 1, w))
    ax.set_yticks(np.arange(h - 0.5, grid.shape[0] - 1, h))
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    ax.tick_params(length=0)
    ax.grid(True, linestyle="-", linewidth=0.5, color="#ddd", alpha=0.7)
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cbar.ax.tick_params(labelsize=7)
    cbar.set_label("activation" if scale == "common" else "per-map 0..1", fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout(pad=0.3)
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


def _show(ax: Any, img: np.ndarray, cmap: str) -> Any:
    img = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
    if img.ndim == 3:
        img = min_max(img)
    ax.axis("off")
    return ax.imshow(img, cmap=cmap, interpolation="nearest")


def oip_evolution_figure(result: Any, rows: int = 4, cmap: str = "gray", title: str | None = None) -> Any:
    """The snapshot series of an OIP search (one row per pattern, one column
    per snapshot) above the objective per step of each pattern."""
    import matplotlib.pyplot as plt

    evolution = np.asarray(result.evolution)
    n = min(rows, evolution.shape[1])
    steps = evolution.shape[0]
    fig = plt.figure(figsize=(max(6.0, 1.15 * steps), 1.15 * n + 2.4))
    gs = fig.add_gridspec(n + 1, steps, height_ratios=[1] * n + [1.8])
    for r in range(n):
        for c in range(steps):
            ax = fig.add_subplot(gs[r, c])
            _show(ax, evolution[c, r], cmap)
            if r == 0:
                ax.set_title(f"snapshot {c}", fontsize=7)
            if c == 0:
                ax.text(-0.08, 0.5, f"map {result.maps[r]}", transform=ax.transAxes, rotation=90,
                        ha="right", va="center", fontsize=7)
    ax = fig.add_subplot(gs[n, :])
    curves = np.asarray(result.curves)
    if curves.size:
        for r in range(curves.shape[1]):
            ax.plot(curves[:, r], lw=1, label=f"map {result.maps[r]}" if r < 8 else None)
        ax.legend(fontsize=6, ncol=4, loc="lower right")
    ax.set_xlabel("chunk of ascent steps", fontsize=8)
    ax.set_ylabel("objective", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.suptitle(title or f"OIP evolution: {result.provenance.get('layer', '')}, {result.steps_done} steps", fontsize=9)
    fig.tight_layout()
    return fig


def dream_figure(original: np.ndarray | None, stages: Sequence[tuple[str, np.ndarray]], cmap: str = "gray",
                 cols: int = 4, title: str | None = None) -> Any:
    """Original, every stage and the result of a dream, as one sheet."""
    import matplotlib.pyplot as plt

    panels = ([("original", original)] if original is not None else []) + list(stages)
    if not panels:
        raise ValueError("nothing to show: the dream has no stages yet")
    cols = min(cols, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (label, img) in zip(axes.flat, panels):
        _show(ax, np.asarray(img), cmap)
        ax.set_title(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
