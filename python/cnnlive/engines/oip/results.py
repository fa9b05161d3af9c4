"""What an OIP search leaves: ``OIPResult`` (images, curves, snapshots,
quality), the capped ``OIPTimeline`` of an every-epoch search, and a
sweep's result split by wavelengths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...imaging import enhance_contrast, to_uint8
from .timeline import Thinning, Timeline, cap_bytes, check_snapshot_index, save_gif as _timeline_gif

@dataclass
class OIPResult:
    """Best images per (map, noise) pair, their activations and provenance."""

    images: np.ndarray              # (N, H, W, C), standardized
    activations: np.ndarray         # (N,) best objective value
    maps: list[int]                 # map of each image
    wavelengths: list[tuple[float, ...]]
    curves: np.ndarray              # (steps_done, N) objective per step
    evolution: np.ndarray           # (S, N, H, W, C) snapshots
    provenance: dict[str, Any]
    steps_done: int = 0
    converged: np.ndarray | None = None
    quality: Any = None    # a QualityTable (data=): per image and measure; as an array, the activation ratio
    oip_mean: np.ndarray | None = None          # (N,) mean activation of each image's map
    data_best: np.ndarray | None = None         # (N,) best mean activation of that map over the data
    data_best_index: np.ndarray | None = None   # (N,) which data image gave it
    timeline: Timeline | None = None            # every snapshot (each chunk of steps), capped
    reason: str | None = None                   # why it ended before its steps ("converged at step 80 of 200")

    def grid(self, contrast: bool = False) -> np.ndarray:
        imgs = self.images[..., 0] if self.images.shape[-1] == 1 else self.images
        if contrast:
            imgs = np.stack([enhance_contrast(i) for i in imgs])
        n = len(imgs)
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        h, w = imgs.shape[1:3]
        out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1) + imgs.shape[3:], float(np.min(imgs)), np.float32)
        for i, img in enumerate(imgs):
            r, c = divmod(i, cols)
            out[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = img
        return out

    def _grid_of(self, images: np.ndarray) -> np.ndarray:
        return OIPResult(images, self.activations, self.maps, self.wavelengths, self.curves, self.evolution,
                         self.provenance).grid()

    def save_png(self, path: str, contrast: bool = False) -> str:
        from PIL import Image

        Image.fromarray(to_uint8(self.grid(contrast))).save(path)
        return path

    @property
    def snapshot_count(self) -> int:
        """How many snapshots the timeline keeps (what the panel's slider spans)."""
        timeline = self.timeline  # read once: an every-epoch timeline may drop it meanwhile
        return len(timeline) if timeline is not None else 0

    @property
    def snapshot_newest(self) -> str:
        """The label of the newest kept snapshot ("step 60"; "" when none)."""
        timeline = self.timeline
        return timeline.newest if timeline is not None else ""

    def snapshot(self, index: int) -> tuple[str, np.ndarray, float | None]:
        """Kept snapshot ``index`` (0: the oldest) as ``(label, grid image,
        mean objective at that step)``; IndexError when out of range."""
        timeline = self.timeline  # read once (see snapshot_count)
        if timeline is None:
            raise IndexError("this result keeps no snapshots (its timeline was dropped under the size cap)")
        label, images, value = timeline.frame(index)
        return label, self._grid_of(images), value

    def save_gif(self, path: str, ms_per_frame: int = 300) -> str:
        """The timeline (every kept snapshot, labelled by step) as a GIF;
        without a timeline, the evolution snapshots."""
        timeline = self.timeline
        if timeline is not None and len(timeline):
            return _timeline_gif(timeline.items(), self._grid_of, path, ms_per_frame)
        from PIL import Image

        frames = []
        for snap in self.evolution:
            res = OIPResult(snap, self.activations, self.maps, self.wavelengths, self.curves, self.evolution,
                            self.provenance)
            frames.append(Image.fromarray(to_uint8(res.grid())))
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
        return path


class OIPTimeline(list):
    """The results of an every-epoch search, oldest first: a list with a
    size cap (``cnnlive.config.oip_snapshot_mb``). Past the cap the
    step-by-step timelines of older results go first, then every other older
    result (the first and the newest stay). ``save_gif`` shows one frame per
    epoch."""

    def __init__(self, cap: int | None = None) -> None:
        super().__init__()
        self.cap = cap_bytes() if cap is None else int(cap)
        self._thinning = Thinning()

    @property
    def dropped(self) -> int:
        return self._thinning.seen - len(self)

    @property
    def nbytes(self) -> int:
        return sum(r.images.nbytes + r.evolution.nbytes + r.curves.nbytes
                   + (r.timeline.nbytes if r.timeline is not None else 0) for r in self)

    def add(self, result: OIPResult) -> None:
        if self._thinning.push():
            self.pop()
        self.append(result)
        for older in self[:-1]:
            if self.nbytes <= self.cap:
                return
            older.timeline = None
        while self.nbytes > self.cap and len(self) > 2:
            keep = self._thinning.thin()
            self[:] = [self[i] for i in keep]

    @property
    def snapshot_count(self) -> int:
        """How many epochs' results are kept (what the panel's slider spans)."""
        return len(self)

    @property
    def snapshot_newest(self) -> str:
        """The label of the newest kept epoch ("epoch 3"; "" when none)."""
        kept = list(self)
        return f"epoch {kept[-1].provenance.get('epoch', len(kept) - 1)}" if kept else ""

    def snapshot(self, index: int) -> tuple[str, np.ndarray, float | None]:
        """Kept epoch ``index`` (0: the oldest) as ``(label, grid image, mean
        best activation)``; IndexError when out of range."""
        kept = list(self)  # one copy: add() may thin the list meanwhile
        check_snapshot_index(index, len(kept))
        r = kept[index]
        return f"epoch {r.provenance.get('epoch', index)}", r.grid(), float(np.mean(r.activations))

    def save_gif(self, path: str, ms_per_frame: int = 500) -> str:
        """The best OIPs after each kept epoch, as a GIF."""
        if not self:
            raise ValueError("no epoch has been searched yet")
        return _timeline_gif([(f"epoch {r.provenance.get('epoch', i)}", r.images) for i, r in enumerate(self)],
                             self[-1]._grid_of, path, ms_per_frame)


def _rows(quality: Any, idx: list[int]) -> Any:
    """Rows ``idx`` of a quality table (every measure), or of a bare ratio array."""
    if quality is None:
        return None
    select = getattr(quality, "select", None)
    return select(idx) if select is not None else np.asarray(quality)[idx]


def by_wavelengths(result: OIPResult) -> dict[tuple[float, ...], OIPResult]:
    """A sweep's result (``sweep=True``: one image per map and wavelength) as
    one result per wavelength set, in search order: images, activations,
    maps and, where present, quality of that set only."""
    out: dict[tuple[float, ...], OIPResult] = {}
    for waves in dict.fromkeys(tuple(w) for w in result.wavelengths):
        idx = [i for i, w in enumerate(result.wavelengths) if tuple(w) == waves]

        def pick(a: Any) -> Any:
            return None if a is None else np.asarray(a)[idx]

        curves = np.asarray(result.curves)
        out[waves] = OIPResult(
            pick(result.images), pick(result.activations), [result.maps[i] for i in idx], [waves] * len(idx),
            curves[:, idx] if curves.ndim == 2 and curves.shape[1] == len(result.maps) else curves,
            np.asarray(result.evolution)[:, idx] if np.ndim(result.evolution) >= 2 else result.evolution,
            dict(result.provenance, wavelengths=list(waves)), result.steps_done, pick(result.converged),
            _rows(result.quality, idx), pick(result.oip_mean), pick(result.data_best), pick(result.data_best_index))
    return out


__all__ = ["OIPResult", "OIPTimeline", "by_wavelengths"]
