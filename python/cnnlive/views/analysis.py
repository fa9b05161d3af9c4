"""Live views of OIP searches and dreams, read from the job's kept partial
result (``watch.result``, read only): the OIP evolution (snapshots per pattern and the
objective per step) and the dream's original, stages and result."""

from __future__ import annotations

from typing import Any

import numpy as np

from .frames import as_image_array, to_uint8
from .view import View


def _tile(img: np.ndarray) -> np.ndarray:
    """One image as uint8 gray or RGB, min-max scaled."""
    a = np.asarray(img, np.float32)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    return to_uint8(a[..., :3] if a.ndim == 3 else a)


def strip(images: list[np.ndarray], rows: int = 1, gap: int = 1) -> np.ndarray:
    """Images of equal size side by side (``rows`` rows), with a light gap."""
    if not images:
        return np.zeros((2, 2), np.uint8)
    tiles = [_tile(i) for i in images]
    h, w = tiles[0].shape[:2]
    cols = int(np.ceil(len(tiles) / rows))
    shape = (rows * (h + gap) - gap, cols * (w + gap) - gap) + tiles[0].shape[2:]
    out = np.full(shape, 255, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = t[:h, :w]
    return out


def _set_image(im: Any, data: np.ndarray) -> None:
    im.set_data(data)
    im.set_extent((-0.5, data.shape[1] - 0.5, data.shape[0] - 0.5, -0.5))
    im.set_clim(0, 255)


class OIPView(View):
    """Live OIP evolution: snapshots of the first ``rows`` patterns (one row
    each, left to right in search order), the objective curve of each pattern
    per chunk of steps, and the current best patterns of all maps."""

    def __init__(self, source: Any, rows: int = 4, cmap: str = "gray") -> None:
        import matplotlib.pyplot as plt

        from .layout import figure_inches

        width = figure_inches(None)[0]  # the dashboard's width: fits the output area
        fig = plt.figure(figsize=(width, 0.66 * width))
        super().__init__(source, fig)
        self.rows = rows
        gs = fig.add_gridspec(2, 2, height_ratios=[1.15, 1], width_ratios=[1.5, 1])
        self.ax_evo = fig.add_subplot(gs[0, :])
        self.ax_curve = fig.add_subplot(gs[1, 0])
        self.ax_best = fig.add_subplot(gs[1, 1])
        blank = np.zeros((2, 2), np.uint8)
        self.im_evo = self.ax_evo.imshow(blank, cmap=cmap, interpolation="nearest")
        self.im_best = self.ax_best.imshow(blank, cmap=cmap, interpolation="nearest")
        for ax, label in ((self.ax_evo, "evolution (one row per pattern, snapshots left to right)"),
                          (self.ax_best, "best patterns so far")):
            ax.set_title(label, fontsize=9)
            ax.axis("off")
        self.ax_curve.set_title("objective per pattern", fontsize=9)
        self.ax_curve.set_xlabel("steps", fontsize=8)
        self.ax_curve.tick_params(labelsize=7)
        self.curves: list[Any] = []
        self.status = fig.text(0.01, 0.01, "", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))

    def update(self) -> bool:
        res = self.watch.result
        if isinstance(res, list):  # every-epoch searches keep one result per epoch
            res = res[-1] if res else None
        evolution = getattr(res, "evolution", None)
        if evolution is not None and len(evolution):
            evolution = np.asarray(evolution)
            n = min(self.rows, evolution.shape[1])
            frames = [evolution[s, r] for r in range(n) for s in range(evolution.shape[0])]
            _set_image(self.im_evo, strip(frames, rows=n))
            self.ax_evo.set_title(f"evolution of maps {', '.join(map(str, res.maps[:n]))} "
                                  "(one row each, snapshots left to right)", fontsize=9)
            _set_image(self.im_best, strip(list(np.asarray(res.images)), rows=int(np.ceil(np.sqrt(len(res.images))))))
            curves = np.asarray(res.curves)
            if curves.ndim == 2 and curves.size:
                steps = int(getattr(res, "steps_done", len(curves))) or len(curves)
                x = np.linspace(steps / len(curves), steps, len(curves))
                while len(self.curves) < min(curves.shape[1], 16):
                    self.curves.append(self.ax_curve.plot([], [], lw=1)[0])
                for k, line in enumerate(self.curves):
                    line.set_data(x, curves[:, k])
                self.ax_curve.relim()
                self.ax_curve.autoscale_view()
        self.set_status()
        return True


class DreamView(View):
    """Live dream: the original, the latest stage with its label, its
    contrast-enhanced rendering, and a strip of every stage so far."""

    def __init__(self, source: Any, cmap: str = "gray") -> None:
        import matplotlib.pyplot as plt

        from .layout import figure_inches

        width = figure_inches(None)[0]
        fig = plt.figure(figsize=(width, 0.56 * width))
        super().__init__(source, fig)
        gs = fig.add_gridspec(2, 3, height_ratios=[2.6, 1])
        self.ax_orig, self.ax_now, self.ax_contrast = (fig.add_subplot(gs[0, i]) for i in range(3))
        self.ax_stages = fig.add_subplot(gs[1, :])
        blank = np.zeros((2, 2), np.uint8)
        self.ims = {}
        for ax, key, label in ((self.ax_orig, "orig", "original"), (self.ax_now, "now", "current stage"),
                               (self.ax_contrast, "contrast", "contrast"), (self.ax_stages, "stages", "stages")):
            self.ims[key] = ax.imshow(blank, cmap=cmap, interpolation="nearest")
            ax.set_title(label, fontsize=9)
            ax.axis("off")
        self.status = fig.text(0.01, 0.01, "", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))

    def update(self) -> bool:
        res = self.watch.result
        stages = list(getattr(res, "stages", []) or [])
        original = getattr(res, "original", None)
        if original is not None:
            _set_image(self.ims["orig"], _tile(original))
        if stages:
            label, latest = stages[-1]
            _set_image(self.ims["now"], _tile(latest))
            self.ax_now.set_title(label, fontsize=9)
            if hasattr(res, "contrast"):
                _set_image(self.ims["contrast"], _tile(res.contrast()))
            thumbs = [s[1][::4, ::4] for s in stages[-12:]]
            _set_image(self.ims["stages"], strip(thumbs, rows=1, gap=2))
            self.ax_stages.set_title(f"stages ({len(stages)}{', last 12' if len(stages) > 12 else ''})",
                                     fontsize=9)
        self.set_status()
        return True


class ImageView(View):
    """The latest published image, plain and contrast-enhanced side by side."""

    def __init__(self, source: Any, cmap: str = "gray") -> None:
        import matplotlib.pyplot as plt

        fig, (self.ax_plain, self.ax_contrast) = plt.subplots(1, 2, figsize=(9, 4.6))
        super().__init__(source, fig)
        self.cmap = cmap
        blank = np.zeros((2, 2))
        self.im_plain = self.ax_plain.imshow(blank, cmap=cmap)
        self.im_contrast = self.ax_contrast.imshow(blank, cmap=cmap)
        for ax, label in ((self.ax_plain, "plain"), (self.ax_contrast, "contrast")):
            ax.set_title(label, fontsize=9)
            ax.axis("off")
        self.status = fig.text(0.01, 0.01, "", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))

    def update(self) -> bool:
        value = self.watch.channels.latest("images")
        if value is not None:
            arr, caption = as_image_array(value)
            plain = to_uint8(arr)
            enhanced = to_uint8(arr, contrast=2.0)
            for im, data in ((self.im_plain, plain), (self.im_contrast, enhanced)):
                im.set_data(data)
                im.set_extent((-0.5, data.shape[1] - 0.5, data.shape[0] - 0.5, -0.5))
                im.set_clim(0, 255)
            self.ax_plain.set_title(f"{caption} (plain)", fontsize=9)
        self.set_status()
        return True
