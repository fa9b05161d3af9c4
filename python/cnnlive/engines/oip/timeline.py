"""Pattern timelines: every snapshot of a search (or every epoch's search)
kept in memory up to a size cap (``cnnlive.config.oip_snapshot_mb``); past
the cap every other older frame is dropped (the first and the newest stay),
so a long run keeps an evenly thinned timeline. Exported as an animated GIF.
No TensorFlow here."""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from ...imaging import to_uint8


def cap_bytes(mb: float | None = None) -> int:
    """The cap in bytes (default from ``cnnlive.config.oip_snapshot_mb``)."""
    if mb is None:
        from ...config import config

        mb = config.oip_snapshot_mb
    return int(float(mb) * 2**20)


def check_snapshot_index(index: int, count: int) -> None:
    """Raise IndexError naming the valid range unless ``0 <= index < count``."""
    if not 0 <= index < count:
        valid = f"0..{count - 1}" if count else "none kept yet"
        raise IndexError(f"snapshot index {index} is out of range {valid} ({count} kept)")


class Thinning:
    """Which items of a growing sequence to keep under a cap: items whose
    index is a multiple of a stride, plus the newest; past the cap the stride
    doubles (every other kept item goes), so the kept items stay evenly spread
    from the first to the newest."""

    def __init__(self) -> None:
        self.stride = 1
        self.seen = 0
        self.index: list[int] = []

    def push(self) -> bool:
        """Register a new item; True when the previous newest (off the
        stride) must be replaced by it rather than kept."""
        replace = bool(self.index) and self.index[-1] % self.stride != 0
        if replace:
            self.index.pop()
        self.index.append(self.seen)
        self.seen += 1
        return replace

    def thin(self) -> list[int]:
        """Double the stride; the positions to keep."""
        self.stride *= 2
        keep = [p for p, i in enumerate(self.index[:-1]) if i % self.stride == 0] + [len(self.index) - 1]
        self.index = [self.index[p] for p in keep]
        return keep


class Timeline:
    """Frames ``(label, images)`` with images (N, H, W, C), oldest first,
    each with an optional value (the search's objective at that step)."""

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cap_bytes() if cap is None else int(cap)
        self.labels: list[str] = []
        self.frames: list[np.ndarray] = []
        self.values: list[float | None] = []
        self._thinning = Thinning()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def dropped(self) -> int:
        """How many frames were offered but not kept."""
        return self._thinning.seen - len(self.frames)

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self.frames)

    def add(self, label: Any, images: np.ndarray, value: float | None = None) -> None:
        """Keep a copy of ``images``; thin older frames when over the cap."""
        frame = np.array(images, np.float32, copy=True)
        with self._lock:
            if self._thinning.push():
                self.frames.pop()
                self.labels.pop()
                self.values.pop()
            self.labels.append(str(label))
            self.frames.append(frame)
            self.values.append(None if value is None else float(value))
            while self.nbytes > self.cap and len(self.frames) > 2:
                keep = self._thinning.thin()
                self.frames = [self.frames[i] for i in keep]
                self.labels = [self.labels[i] for i in keep]
                self.values = [self.values[i] for i in keep]

    def frame(self, index: int) -> tuple[str, np.ndarray, float | None]:
        """``(label, images, value)`` of kept frame ``index`` (0: the oldest)."""
        with self._lock:
            check_snapshot_index(index, len(self.frames))
            return self.labels[index], self.frames[index], self.values[index]

    @property
    def newest(self) -> str:
        with self._lock:
            return self.labels[-1] if self.labels else ""

    def items(self) -> list[tuple[str, np.ndarray]]:
        with self._lock:
            return list(zip(self.labels, self.frames))


def _caption(frame: np.ndarray, text: str) -> np.ndarray:
    """A uint8 frame with ``text`` in a band below it."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(frame)
    scale = max(1, 160 // max(img.size))  # small grids: enlarge without blurring
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    out = Image.new("L" if img.mode == "L" else "RGB", (img.width, img.height + 14), 0)
    out.paste(img, (0, 0))
    ImageDraw.Draw(out).text((3, img.height + 1), text, fill=255 if out.mode == "L" else (255, 255, 255))
    return np.asarray(out)


def save_gif(frames: list[tuple[str, np.ndarray]], grid: Callable[[np.ndarray], np.ndarray], path: str,
             ms_per_frame: int = 300) -> str:
    """Write labelled frames (each ``grid``-ed into one image) as a looping GIF."""
    from PIL import Image

    if not frames:
        raise ValueError("the timeline has no frames to save")
    pictures = []
    for label, images in frames:
        pictures.append(Image.fromarray(_caption(to_uint8(grid(images)), label)))
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=ms_per_frame, loop=0)
    return path


__all__ = ["Thinning", "check_snapshot_index", "Timeline", "cap_bytes", "save_gif"]
