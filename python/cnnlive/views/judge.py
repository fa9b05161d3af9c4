"""Figures that judge OIPs: the OIP grid with each map's quality (maps whose
OIP does not beat the data framed in red) and exemplars beside each OIP.
Inputs are plain result objects with numpy arrays (no TensorFlow here)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .frames import to_uint8

BAD = "#d62728"


def _show(img: np.ndarray, contrast: bool = False) -> tuple[np.ndarray, str | None]:
    img = np.asarray(img, np.float32)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return to_uint8(img, contrast=2.0 if contrast else None), ("gray" if img.ndim == 2 else None)


def beats_data(quality: Any) -> np.ndarray | None:
    """Per image: True where the OIP beats the data (quality >= 1); None without quality."""
    if quality is None:
        return None
    q = np.asarray(quality, float)
    return np.where(np.isnan(q), False, q >= 1.0)


def failing(quality: Any) -> np.ndarray | None:
    """Per image: True where it fails any quality measure (a QualityTable's
    ``fails``; for a bare ratio, not beating the data); None without quality."""
    if quality is None:
        return None
    fails = getattr(quality, "fails", None)
    return np.asarray(fails, bool) if fails is not None else ~beats_data(quality)


def _measures(quality: Any, i: int, sep: str = "\n") -> str:
    """The informativeness (OIP / natural exemplars) of row ``i`` and, when
    its map ends below its data mean, that word, from a QualityTable."""
    if not hasattr(quality, "failed"):
        return ""
    inf, nat = float(quality["informativeness"][i]), float(quality["natural"][i])
    text = "" if math.isnan(inf) else f"{sep}inf {inf:.2f} / nat {nat:.2f}"
    return text + (f"{sep}below data mean" if quality.below_mean[i] else "")


def _natural(ex: Any, row: int, sep: str = "\n") -> str:
    """The exemplars' own informativeness for a row, when known."""
    v = getattr(ex, "informativeness", None)
    return "" if v is None or math.isnan(float(v[row])) else f"{sep}inf (exemplars) {float(v[row]):.2f}"


def _frame(ax: Any, color: str, width: float = 2.5) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor(color)
        spine.set_linewidth(width)


def _caption(m: int, q: float | None, waves: str = "") -> str:
    head = f"map {m}" + (f" · λ {waves}" if waves else "")
    if q is None:
        return head
    return f"{head}\nq {q:.2f}" if math.isfinite(q) else f"{head}\nq {'∞' if q > 0 else q}"


def oip_grid_figure(result: Any, contrast: bool = False, cols: int | None = None, title: str = "") -> Any:
    """One panel per OIP image titled with its map (and quality); panels whose
    OIP does not beat the data (quality < 1) get a red frame and red title."""
    import matplotlib.pyplot as plt

    images = np.asarray(result.images)
    n = len(images)
    quality = getattr(result, "quality", None)
    bad = failing(quality)
    good = None if bad is None else ~bad
    waves = [tuple(w) for w in getattr(result, "wavelengths", None) or []]
    sweep = len(waves) == n and len(set(waves)) > 1  # a wavelength sweep: each panel says its wavelengths
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.45 + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img, cmap = _show(images[i], contrast)
        ax.imshow(img, cmap=cmap)
        q = None if quality is None else float(quality[i])
        label = "/".join(f"{w:g}" for w in waves[i]) + " px" if sweep else ""
        ax.set_title(_caption(int(result.maps[i]), q, label) + _measures(quality, i), fontsize=7, pad=2,
                     color=BAD if good is not None and not good[i] else "black")
        if good is not None and not good[i]:
            ax.axis("on")
            _frame(ax, BAD)
    if not title:
        title = f"OIPs of {result.provenance.get('layer', '')}" if hasattr(result, "provenance") else "OIPs"
        if good is not None and hasattr(quality, "fails"):
            title += (f" · red: fails a quality measure ({int((~good).sum())} of {n}; "
                      f"{int((~beats_data(quality)).sum())} do not beat the data)")
        elif good is not None:
            title += f" · red: OIP does not beat the data ({int((~good).sum())} of {n})"
    fig.suptitle(title, fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig


def exemplar_figure(ex: Any, oip: Any = None, show: str = "images", contrast: bool = False) -> Any:
    """One row per map: its OIP (when ``oip`` has that map), then the ``k``
    data images that drive it most, with the receptive field of the map's
    peak framed (``show="images"``) or cropped (``show="crops"``)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    maps, k = list(ex.maps), ex.images.shape[1]
    lookup: dict[int, int] = {}
    if oip is not None:
        for i, m in enumerate(oip.maps):
            lookup.setdefault(int(m), i)
    lead = 1 if oip is not None else 0
    quality = None if oip is None else getattr(oip, "quality", None)
    bad_rows = failing(quality)
    good = None if bad_rows is None else ~bad_rows
    fig, axes = plt.subplots(len(maps), lead + k, figsize=((lead + k) * 1.05 + 0.3, len(maps) * 1.15 + 0.5),
                             squeeze=False)
    for r, m in enumerate(maps):
        row = axes[r]
        for ax in row:
            ax.axis("off")
        if lead:
            ax = row[0]
            if m in lookup:
                i = lookup[m]
                img, cmap = _show(oip.images[i], contrast)
                ax.imshow(img, cmap=cmap)
                q = None if quality is None else float(quality[i])
                bad = good is not None and not good[i]
                ax.set_title(("OIP " + _caption(m, q)).replace("\n", " · ") + (_measures(quality, i, "\n") or _natural(ex, r)),
                             fontsize=6, pad=2,
                             color=BAD if bad else "black")
                ax.axis("on")
                _frame(ax, BAD if bad else "#1f77b4", 2.0)
            else:
                ax.set_title(f"map {m}: no OIP" + _natural(ex, r), fontsize=6)
        for j in range(k):
            ax = row[lead + j]
            source = ex.crops[r, j] if show == "crops" else ex.images[r, j]
            img, cmap = _show(source, contrast)
            ax.imshow(img, cmap=cmap)
            if show == "images":
                top, left, bottom, right = (int(v) for v in ex.boxes[r, j])
                ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False,
                                       edgecolor="#ff7f0e", linewidth=1.0))
                ax.set_xlim(-0.5, img.shape[1] - 0.5)
                ax.set_ylim(img.shape[0] - 0.5, -0.5)
            label = "" if ex.labels is None else f" · {ex.labels[r, j]}"
            head = f"map {m}{_natural(ex, r, ' · ')}\n" if j == 0 and not lead else ""
            ax.set_title(f"{head}{ex.activations[r, j]:.3g}{label}", fontsize=6, pad=2)
    what = "receptive-field crops" if show == "crops" else "images (orange: receptive field of the peak)"
    fig.suptitle(f"{ex.layer}: the {k} data {what} that drive each map most", fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig


__all__ = ["beats_data", "failing", "exemplar_figure", "oip_grid_figure"]
