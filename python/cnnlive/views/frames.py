"""Turn image arrays into display frames (uint8, PNG bytes)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ..imaging import clip_std, to_uint8 as scale_to_uint8


def as_image_array(value: Any) -> tuple[np.ndarray, str]:
    """Accept an array or ``{"image": array, "caption": str}``; return a 2-D
    or 3-D (H, W, 3) float array and its caption."""
    caption = ""
    if isinstance(value, dict):
        caption = str(value.get("caption", ""))
        value = value.get("image")
    arr = np.asarray(value, dtype=np.float32)
    while arr.ndim > 3 or (arr.ndim == 3 and arr.shape[0] == 1 and arr.shape[-1] not in (1, 3)):
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(f"cannot show an array of shape {np.shape(value)} as an image")
    return arr, caption


def to_uint8(arr: np.ndarray, contrast: float | None = None) -> np.ndarray:
    """Min-max scale to 0..255; ``contrast`` clips at that many std devs."""
    arr = np.nan_to_num(arr.astype(np.float32))
    return scale_to_uint8(clip_std(arr, contrast) if contrast else arr)


def to_png(value: Any, max_side: int = 320) -> tuple[bytes, int, int, str]:
    """PNG bytes, width, height and caption of an image value."""
    from PIL import Image

    arr, caption = as_image_array(value)
    img = Image.fromarray(to_uint8(arr[..., :3] if arr.ndim == 3 else arr))
    scale = max_side / max(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    elif max(img.size) < 112:  # tiny maps: enlarge without blurring
        factor = max(1, 112 // max(img.size))
        img = img.resize((img.width * factor, img.height * factor), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), img.width, img.height, caption
