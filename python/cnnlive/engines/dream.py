"""Deep-dream "carving" on real photos: a CNN that sees only small inputs
amplifies its map patterns in a large image by down-scaling, OIP steps,
up-scaling with a detail correction, and the same on sub-image tiles.

Fix of the seeds' pitfall (their addendum): each down-scaled image or tile
is standardized for the model, and that standardization is undone with the
tile's own mean and std before up-scaling, so tiles whose pixels are far from
a standardized distribution come back at their own brightness and contrast.
The detail correction is taken from the current image at each stage, so with
no OIP step the image is restored exactly.
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
from .ascent import Ascent, ascent_for
from .backend import tf
from .oip import check_layer, check_maps
from .standardization import check as check_standardization, label as standardization_label


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


def tiles_of(size: int, level: int) -> list[tuple[int, int, int, int]]:
    """(top, left, height, width) of the 2^level x 2^level tiles."""
    n = 2 ** level
    edges = np.linspace(0, size, n + 1).round().astype(int)
    return [(edges[r], edges[c], edges[r + 1] - edges[r], edges[c + 1] - edges[c]) for r in range(n) for c in range(n)]


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
            boxes = tiles_of(img.shape[1], level)
            sizes = {(h, w) for _, _, h, w in boxes}
            for hw in sizes:  # tiles of equal size run as one batch
                group = [b for b in boxes if (b[2], b[3]) == hw]
                batch = np.stack([img[0, t:t + h, l:l + w] for t, l, h, w in group])
                ids = np.array([spec.tile_maps[boxes.index(b) % len(spec.tile_maps)] for b in group])
                out = carve(batch, ids, ascent, steps, spec.input_size, raw)
                for (t, l, h, w), tile in zip(group, out):
                    img[0, t:t + h, l:l + w] = tile
            if stage(f"iteration {it}: tiles level {level} ({len(boxes)} tiles)"):
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
