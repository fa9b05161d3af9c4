"""What the model's inputs look like, for OIP and dream (``input_standardization=``).

- ``"image"`` (default): per-image standardization (mean 0, std 1), the seeds'
  preprocessing; the searched image is standardized after every step.
- ``"none"``: raw pixels in [0, 1] (models trained without standardization);
  the image starts as noise around 0.5 and is clipped to [0, 1] after every step.
- a callable ``f(batch) -> batch`` on ``tf.Tensor`` (B, H, W, C): applied to
  the starting noise and after every step (it must be traceable by
  ``tf.function``), e.g. ``lambda x: tf.clip_by_value(x, -1.0, 1.0)``.

Matching what the model was trained on is the seeds' first OIP pitfall.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...imaging import standardize

MODES = ("image", "none")


def check(mode: Any) -> Any:
    """``mode`` itself, or ValueError naming the valid choices."""
    if callable(mode) or (isinstance(mode, str) and mode in MODES):
        return mode
    raise ValueError(f"unknown input_standardization {mode!r}; valid: 'image' (per-image standardization), "
                     f"'none' (raw [0, 1] pixels) or a callable batch -> batch")


def label(mode: Any) -> str:
    """A printable name (for provenance)."""
    return mode if isinstance(mode, str) else getattr(mode, "__name__", type(mode).__name__)


def projection(mode: Any) -> Callable[[Any], Any]:
    """The TensorFlow function applied after every ascent step."""
    from ..backend import tf

    if mode == "image":
        return tf.image.per_image_standardization
    if mode == "none":
        return lambda x: tf.clip_by_value(x, 0.0, 1.0)
    return mode


def start(noise: np.ndarray, mode: Any) -> np.ndarray:
    """Standardized noise (B, H, W, C) brought into the model's input range."""
    if mode == "image":
        return noise.astype(np.float32)
    if mode == "none":
        return np.clip(0.5 + 0.2 * noise, 0.0, 1.0).astype(np.float32)
    from ..backend import tf

    return np.asarray(mode(tf.convert_to_tensor(noise, tf.float32)), np.float32)




def standardizer(spec: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The input standardization an OIP search uses, applied to data images
    ("image": per image, the seeds' default; "none"; or a callable)."""
    mode = getattr(spec, "input_standardization", None)
    if mode is None:
        mode = getattr(getattr(spec, "settings", None), "input_standardization", "image")
    if callable(mode):
        return lambda x: np.asarray(mode(x), np.float32)
    if mode in ("none", None, False):
        return lambda x: x
    return standardize


__all__ = ["MODES", "check", "label", "projection", "standardizer", "start"]
