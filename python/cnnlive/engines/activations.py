"""Activation maps of one layer for one input image."""

from __future__ import annotations

from typing import Any

import numpy as np

from .training.models import spatial_layers, sub_model


def layer_activations(model: Any, image: Any, layer: str) -> np.ndarray:
    """(H, W, C) activations of ``layer`` for one image of the model's input shape."""
    valid = spatial_layers(model)
    if layer not in valid:
        raise ValueError(f"unknown layer {layer!r} for an activation grid; conv/pool layers: {', '.join(valid)}")
    want = tuple(model.input_shape[1:])
    x = np.asarray(image, np.float32)
    if x.shape == want[:2] and want[2] == 1:
        x = x[..., None]
    if x.shape != want:
        raise ValueError(f"the image has shape {x.shape} but the model takes {want}")
    sub = sub_model(model, model.get_layer(layer).output)
    return np.asarray(sub(x[None], training=False))[0]
