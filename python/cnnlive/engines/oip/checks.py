"""Checks of an OIP or dream request against the model, shared by the
search, the judge and dream; and the weight snapshot analysis runs on."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..backend import keras
from ..training.models import spatial_layers

def snapshot_model(model: "keras.Model") -> "keras.Model":
    """A copy with the current weights, so analysis never races training."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def check_layer(model: "keras.Model", layer: str) -> tuple[int, int, int]:
    """Output (H, W, C) of a layer with maps; clear errors otherwise."""
    if None in tuple(model.input_shape[1:]):
        raise ValueError(f"the model has no fixed input shape ({model.input_shape}); build it with keras.Input(shape=...)")
    valid = spatial_layers(model)
    names = [l.name for l in model.layers]
    if layer not in names:
        raise ValueError(f"unknown layer {layer!r}; layers with maps: {', '.join(valid)}")
    if layer not in valid:
        kind = type(model.get_layer(layer)).__name__
        raise ValueError(f"layer {layer!r} ({kind}) has no spatial maps; layers with maps: {', '.join(valid)}")
    return tuple(int(d) for d in model.get_layer(layer).output.shape[1:])  # type: ignore[return-value]


def check_maps(maps: int | Sequence[int] | str, n_maps: int, layer: str) -> list[int]:
    if isinstance(maps, str):
        if maps != "all":
            raise ValueError(f"maps must be an int, a list of ints or 'all', got {maps!r}")
        return list(range(n_maps))
    ids = [maps] if isinstance(maps, (int, np.integer)) else list(maps)
    if not ids:
        raise ValueError("maps is empty")
    for m in ids:
        if not isinstance(m, (int, np.integer)) or not 0 <= m < n_maps:
            raise ValueError(f"map {m!r} is out of range: layer {layer!r} has maps 0..{n_maps - 1}")
    return [int(m) for m in ids]


__all__ = ["check_layer", "check_maps", "snapshot_model"]
