"""Deep-dream "carving" on real photos: a CNN that sees only small inputs
amplifies its map patterns in a large image by down-scaling, OIP steps,
up-scaling with a detail correction, and the same on sub-image tiles.

Fix of the seeds' pitfall (their addendum): each down-scaled image or tile
is standardized for the model, and that standardization is undone with the
tile's own mean and std before up-scaling, so tiles whose pixels are far from
a standardized distribution come back at their own brightness and contrast.
The detail correction is taken from the current image at each stage, so with
no OIP step the image is restored exactly.

Tiles overlap on a half-tile stride and their changes are blended with a
sin² window that falls to zero at each tile's border (the windows of a
half-stride grid sum to one), so tile borders leave no seams: a pixel's
change is the weighted mean of the changes of every tile that covers it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..config import config
from ..imaging import enhance_contrast, standardize, to_gray, to_uint8
from ..jobs.reporter import NullReporter, Reporter
from .oip.ascent import Ascent, ascent_for
from .backend import tf
from .oip.checks import check_layer, check_maps
from .oip.standardization import check as check_standardization, label as standardization_label


@dataclass(frozen=True)
class DreamSettings:
    iterations: int = 4
    steps: int = 30
    levels: int = 1
    size: int = 560
    step_size: float = 0.01
    smoothing: float = 0.5
    seed: int | None = 1
    tile_maps: tuple[int, ...] | None = None
    input_standardization: Any = "image"  # "image", "none" or a callable (see standardization.py)


def resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic, antialiased resize of (B, H, W, C)."""
    return tf.image.resize(x, size, method="bicubic", antialias=True).numpy().astype(np.float32)


def load_image(image: Any = None) -> tuple[np.ndarray, str]:
    """(H, W, 3) or (H, W) float array from a path, PIL image, array or None
    (scikit-learn's flower photo)."""
    if image is None:
        from sklearn.datasets import load_sample_image

        return load_sample_image("flower.jpg").astype(np.float32), "scikit-learn flower.jpg"
    if isinstance(image, (str, os.PathLike)):
        from PIL import Image, UnidentifiedImageError

        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"no such image file: {path}")
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB"), np.float32), str(path)
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"cannot read {path} as an image: {exc}") from exc
    if hasattr(image, "convert") and hasattr(image, "size"):
        return np.asarray(image.convert("RGB"), np.float32), "PIL image"
    arr = np.asarray(image, np.float32)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(f"image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {np.shape(image)}")
    return (arr[..., :3] if arr.ndim == 3 else arr), "array"


@dataclass
class DreamSpec:
    model: Any
    layer: str
    maps: list[int]
    tile_maps: list[int]
    settings: DreamSettings
    image: np.ndarray              # (S, S, C) standardized working image
    source: str
    input_size: tuple[int, int]


def prepare_dream(model: Any, image: Any, layer: str, maps: int | Sequence[int], settings: DreamSettings) -> DreamSpec:
    """Check the arguments against the model; raise with the valid choices."""
    check_standardization(settings.input_standardization)
    shape = check_layer(model, layer)
    ids = check_maps(maps, shape[2], layer)
    tile_ids = check_maps(list(settings.tile_maps), shape[2], layer) if settings.tile_maps else ids
    if settings.iterations <= 0 or settings.steps < 0:
        raise ValueError(f"iterations must be > 0 and steps >= 0, got {settings.iterations}, {settings.steps}")
    h, w, channels = (int(d) for d in model.input_shape[1:])
    arr, source = load_image(image)
    if min(arr.shape[:2]) < max(h, w):
        raise ValueError(f"the image ({arr.shape[1]}x{arr.shape[0]}) is smaller than the model input ({w}x{h})")
    if settings.size < max(h, w):
        raise ValueError(f"size {settings.size} is smaller than the model input ({w}x{h})")
    tile = settings.size / 2 ** settings.levels
    if settings.levels < 0 or tile < max(h, w):
        best = int(np.floor(np.log2(settings.size / max(h, w))))
        raise ValueError(f"levels={settings.levels} makes {tile:.0f} px tiles, smaller than the model input "
                         f"({max(h, w)} px); the deepest valid level for size {settings.size} is {best}")
    if channels == 1:
        arr = to_gray(arr) if arr.ndim == 3 else arr
        arr = arr[..., None]
    elif channels == 3:
        arr = np.repeat(arr[..., None], 3, axis=2) if arr.ndim == 2 else arr
    else:
        raise ValueError(f"dream supports models with 1 or 3 input channels, not {channels}")
    work = resize(arr[None], (settings.size, settings.size))
    if settings.input_standardization == "none":  # raw [0, 1] pixels
        first = np.clip(work / (255.0 if float(work.max()) > 1.0 else 1.0), 0.0, 1.0)[0]
    else:
        first = standardize(work)[0]
    return DreamSpec(model, layer, ids, tile_ids, settings, first, source, (h, w))


@dataclass
class DreamResult:
    image: np.ndarray                         # (S, S) or (S, S, C), standardized
    stages: list[tuple[str, np.ndarray]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    iterations_done: int = 0
    original: np.ndarray | None = None        # the standardized input at the working size

    def contrast(self, factor: float = 1.1, spread: float = 0.85) -> np.ndarray:
        """The seeds' contrast-enhanced rendering."""
        return enhance_contrast(self.image, factor, spread)

    def save_png(self, path: str, enhanced: bool = False) -> str:
        from PIL import Image

        a = self.contrast() if enhanced else self.image
        Image.fromarray(to_uint8(a)).save(path)
        return path

    def save_stages(self, path: str, cols: int = 4, side: int = 256) -> str:
        """The original, every stage and the result as one labelled PNG sheet."""
        from PIL import Image, ImageDraw

        panels = ([("original", self.original)] if self.original is not None else []) + list(self.stages)
        if not panels:
            raise ValueError("the dream has no stages yet; nothing to save")
        cols = min(cols, len(panels))
        rows = -(-len(panels) // cols)
        label_h, gap = 16, 4
        sheet = Image.new("RGB", (cols * (side + gap) + gap, rows * (side + label_h + gap) + gap), "white")
        draw = ImageDraw.Draw(sheet)
        for k, (label, img) in enumerate(panels):
            tile = Image.fromarray(to_uint8(img)).convert("RGB")
            r, c = divmod(k, cols)
            x, y = gap + c * (side + gap), gap + r * (side + label_h + gap)
            sheet.paste(tile.resize((side, side)), (x, y + label_h))
            draw.text((x + 2, y + 2), label, fill=(0, 0, 0))
        sheet.save(path)
        return path


def carve(x: np.ndarray, maps: np.ndarray, ascent: Ascent | None, steps: int, size: tuple[int, int],
          raw: bool = False) -> np.ndarray:
    """One carving stage on a batch of (B, h, w, C) regions: down-scale,
    standardize, OIP steps, undo the standardization with each region's own
    mean/std, up-scale, add the detail the down-scaling lost. ``raw``: the
    model takes raw [0, 1] pixels; no standardization, results clipped."""
    h, w = x.shape[1:3]
    down = resize(x, size)
    detail = x - resize(down, (h, w))
    if raw:
        mean, std_safe = np.zeros((len(x), 1, 1, 1), np.float32), np.ones((len(x), 1, 1, 1), np.float32)
    else:
        mean = down.mean(axis=(1, 2, 3), keepdims=True)
        std = down.std(axis=(1, 2, 3), keepdims=True)
        std_safe = np.maximum(std, 1.0 / np.sqrt(np.prod(down.shape[1:])))
    z = (down - mean) / std_safe
    if steps and ascent is not None:
        nodes = np.zeros((len(x), 2), np.int32)
        z, _, _, _ = ascent.run(z, maps.astype(np.int32), nodes, np.ones(len(x), bool), steps)
    out = resize(z * std_safe + mean, (h, w)) + detail
    return np.clip(out, 0.0, 1.0) if raw else out


def blended_tiles(size: int, level: int) -> list[tuple[int, int, int, int]]:
    """(top, left, height, width) of equal tiles of the level's size
    (size / 2^level) on a half-tile stride: (2^(level+1) - 1)² boxes."""
    n = 2 ** level
    side = int(round(size / n))
    if n == 1:
        return [(0, 0, size, size)]
    starts = np.linspace(0, size - side, 2 * n - 1).round().astype(int)
    return [(int(t), int(l), side, side) for t in starts for l in starts]


def tile_window(side: int) -> np.ndarray:
    """(side, side, 1) sin² blending weights, near zero at the border."""
    ramp = np.sin(np.pi * (np.arange(side) + 0.5) / side) ** 2
    return np.outer(ramp, ramp).astype(np.float32)[..., None]


def carve_tiles(img: np.ndarray, boxes: list[tuple[int, int, int, int]], maps: np.ndarray,
                ascent: Ascent | None, steps: int, size: tuple[int, int], raw: bool) -> np.ndarray:
    """Carve equal, overlapping tiles of (1, S, S, C) ``img`` as one batch and
    blend their changes with :func:`tile_window`."""
    side = boxes[0][2]
    batch = np.stack([img[0, t:t + side, l:l + side] for t, l, _, _ in boxes])
    change = carve(batch, maps, ascent, steps, size, raw) - batch
    weight = tile_window(side)
    total = np.zeros(img.shape[1:], np.float32)
    norm = np.zeros(img.shape[1:3] + (1,), np.float32)
    for (t, l, _, _), d in zip(boxes, change):
        total[t:t + side, l:l + side] += weight * d
        norm[t:t + side, l:l + side] += weight
    out = img.copy()
    out[0] += total / np.maximum(norm, 1e-12)
    return np.clip(out, 0.0, 1.0) if raw else out


def seam_ratio(image: np.ndarray, lines: Sequence[int] | None = None, reach: int = 4) -> float:
    """How much a line stands out: the mean jump across a row or column
    boundary over the median jump of the ``reach`` boundaries on each side,
    largest over ``lines`` (boundary i lies between pixels i and i+1; default
    every interior boundary). A tile seam in a dream's change field (result
    minus input) is a whole line with a large jump, so it raises this ratio."""
    a = image if image.ndim == 3 else image[..., None]
    ratios = []
    for jumps in (np.abs(np.diff(a, axis=1)).mean(axis=(0, 2)), np.abs(np.diff(a, axis=0)).mean(axis=(1, 2))):
        for i in (range(reach, len(jumps) - reach) if lines is None else lines):
            near = np.concatenate([jumps[max(i - reach, 0):i], jumps[i + 1:i + 1 + reach]])
            ratios.append(float(jumps[i]) / max(float(np.median(near)), 1e-12))
    return max(ratios)


def run_dream(spec: DreamSpec, ctx: Reporter | None = None) -> DreamResult:
    s = spec.settings
    reporter: Reporter = ctx if ctx is not None else NullReporter()
    mode = s.input_standardization
    raw = mode == "none"
    norm = (lambda a: a) if raw else standardize
    steps = config.capped_steps(s.steps)
    ascent = (ascent_for(spec.model, spec.layer, "map", s.step_size, s.smoothing, 0.0, mode)
              if steps else None)
    img = spec.image[None].copy()
    settings = {**asdict(s), "input_standardization": standardization_label(mode)}
    result = DreamResult(spec.image.copy(), [], {"model": spec.model.name, "layer": spec.layer, "maps": spec.maps,
                                                  "tile_maps": spec.tile_maps, "image": spec.source,
                                                  "settings": settings})
    squeeze = (lambda a: a[..., 0]) if img.shape[-1] == 1 else (lambda a: a)
    result.original = squeeze(spec.image.copy())
    total = s.iterations * (1 + s.levels)
    done = 0

    def stage(label: str) -> bool:
        nonlocal done
        done += 1
        result.image = squeeze(norm(img)[0])
        result.stages.append((label, result.image.copy()))
        reporter.keep(result)
        reporter.progress(done, total)
        reporter.publish("images", {"image": result.image, "caption": label})
        return bool(reporter.poll())

    for it in range(1, s.iterations + 1):
        img = carve(img, np.array(spec.maps[:1]), ascent, steps, spec.input_size, raw)
        if stage(f"iteration {it}: full image"):
            break
        stopped = False
        for level in range(1, s.levels + 1):
            boxes = blended_tiles(img.shape[1], level)
            ids = np.array([spec.tile_maps[k % len(spec.tile_maps)] for k in range(len(boxes))])
            img = carve_tiles(img, boxes, ids, ascent, steps, spec.input_size, raw)
            if stage(f"iteration {it}: tiles level {level} ({len(boxes)} overlapping tiles)"):
                stopped = True
                break
        img = norm(img)
        result.iterations_done = it
        if stopped:
            break
    result.image = squeeze(norm(img)[0])
    return result


async def dream_work(ctx: Any, spec: DreamSpec) -> DreamResult:
    """Job body: the carving loop; stop returns the current composed image."""
    await asyncio.sleep(0)
    ctx.publish("log", f"dream on {spec.source} at {spec.settings.size}px, layer {spec.layer}, maps {spec.maps}\n")
    result = run_dream(spec, ctx)
    if ctx.run_dir:
        os.makedirs(ctx.run_dir, exist_ok=True)
        result.provenance["png"] = result.save_png(os.path.join(ctx.run_dir, "dream.png"))
        result.provenance["png_contrast"] = result.save_png(os.path.join(ctx.run_dir, "dream-contrast.png"), True)
    return result
