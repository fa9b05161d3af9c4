"""Numpy image helpers shared by engines and views (numpy only; this module
imports nothing of cnnlive, so every layer may use it)."""

from __future__ import annotations

import numpy as np

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # the seeds' colour-to-gray weights


def standardize(images: np.ndarray) -> np.ndarray:
    """Per-image standardization like ``tf.image.per_image_standardization``:
    (x - mean) / max(std, 1/sqrt(N)) over each image's pixels and channels."""
    x = np.asarray(images, dtype=np.float32)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    n = np.prod([x.shape[a] for a in axes])
    return ((x - mean) / np.maximum(std, 1.0 / np.sqrt(n))).astype(np.float32)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) → (H, W) with the seeds' weights."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return rgb[..., 0] * GRAY_WEIGHTS[0] + rgb[..., 1] * GRAY_WEIGHTS[1] + rgb[..., 2] * GRAY_WEIGHTS[2]


def enhance_contrast(image: np.ndarray, factor: float = 1.1, spread: float = 0.85) -> np.ndarray:
    """The seeds' contrast enhancement: scale, then clip symmetric at ``spread``
    times the smaller of |min| and |max| of the standardized image."""
    x = np.asarray(image, dtype=np.float32)
    x = (x - x.mean()) / (x.std() or 1.0)
    limit = min(abs(float(x.min())), abs(float(x.max()))) * spread or 1.0
    return np.clip(factor * x, -limit, limit)


def clip_std(image: np.ndarray, k: float) -> np.ndarray:
    """Clip at ``k`` standard deviations around the mean (a display stretch)."""
    x = np.asarray(image, dtype=np.float32)
    mean, std = float(x.mean()), float(x.std()) or 1.0
    return np.clip(x, mean - k * std, mean + k * std)


def min_max(image: np.ndarray) -> np.ndarray:
    """Scale to 0..1 by the image's min and max (a constant image becomes 0)."""
    x = np.asarray(image, dtype=np.float32)
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Min-max scale to 0..255 (NaN as 0; a constant image is black)."""
    return (min_max(np.nan_to_num(np.asarray(image, dtype=np.float32))) * 255).round().astype(np.uint8)
