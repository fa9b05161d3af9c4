"""Receptive fields: which input pixels a position of a layer's maps sees,
from the conv/pool arithmetic of the layers between the input and that layer.

Per axis a field is (jump, size, start): output position ``i`` sees input
pixels ``start + i * jump`` .. ``start + i * jump + size - 1`` (``start`` is
negative where "same" padding reaches past the border).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..backend import keras


@dataclass(frozen=True)
class Field:
    """Receptive field of one layer's positions along rows and columns."""

    jump: tuple[int, int]
    size: tuple[int, int]
    start: tuple[int, int]
    exact: bool = True      # False: a layer with unknown geometry was on the way (whole input assumed)

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) input pixels seen by position (row, col); bottom/right exclusive."""
        top = self.start[0] + row * self.jump[0]
        left = self.start[1] + col * self.jump[1]
        return top, left, top + self.size[0], left + self.size[1]


_WINDOWED = ("Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D")


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _spatial(shape: Any) -> tuple[int, int] | None:
    shape = tuple(shape)
    return (int(shape[1]), int(shape[2])) if len(shape) == 4 and None not in shape[1:3] else None


def _parents(layer: Any) -> list[Any]:
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return []
    return [t._keras_history[0] for t in nodes[0].input_tensors]


def _step(layer: Any, f: Field, n_in: tuple[int, int]) -> Field:
    """The field after ``layer`` given the field ``f`` of its input."""
    kind = type(layer).__name__
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        kernel, stride, dil = _pair(layer.pool_size), _pair(layer.strides or layer.pool_size), (1, 1)
    else:
        kernel, stride = _pair(layer.kernel_size), _pair(layer.strides)
        dil = _pair(getattr(layer, "dilation_rate", 1))
    jump, size, start = [], [], []
    for a in range(2):
        eff = (kernel[a] - 1) * dil[a] + 1
        pad = 0
        if layer.padding == "same":
            out = math.ceil(n_in[a] / stride[a])
            pad = max((out - 1) * stride[a] + eff - n_in[a], 0) // 2
        jump.append(f.jump[a] * stride[a])
        size.append(f.size[a] + (eff - 1) * f.jump[a])
        start.append(f.start[a] - pad * f.jump[a])
    return Field(tuple(jump), tuple(size), tuple(start), f.exact)  # type: ignore[arg-type]


def receptive_field(model: "keras.Model", layer: str) -> Field:
    """The receptive field of ``layer``'s positions in ``model``'s input.

    Conv and pooling layers (any padding, stride, dilation), zero padding and
    cropping are followed exactly; layers that keep the spatial size (batch
    norm, activations, dropout, Add...) pass the field on (the union for
    several inputs). Anything else makes the field the whole input
    (``exact=False``)."""
    h, w = (int(d) for d in model.input_shape[1:3])
    whole = Field((0, 0), (h, w), (0, 0), False)
    memo: dict[int, Field] = {}

    def field_of(op: Any) -> Field:
        if id(op) in memo:
            return memo[id(op)]
        parents = _parents(op)
        if isinstance(op, keras.layers.InputLayer) or not parents:
            result = Field((1, 1), (1, 1), (0, 0))
        else:
            inputs = [field_of(p) for p in parents]
            n_in = _spatial(parents[0].output.shape)
            n_out = _spatial(op.output.shape)
            kind = type(op).__name__
            f = inputs[0]
            if n_in is None or n_out is None or not f.exact:
                result = whole
            elif kind in _WINDOWED and kind != "Conv1D":
                result = _step(op, f, n_in)
            elif kind == "ZeroPadding2D":
                (top, _), (left, _) = op.padding
                result = Field(f.jump, f.size, (f.start[0] - top * f.jump[0], f.start[1] - left * f.jump[1]))
            elif kind == "Cropping2D":
                (top, _), (left, _) = op.cropping
                result = Field(f.jump, f.size, (f.start[0] + top * f.jump[0], f.start[1] + left * f.jump[1]))
            elif n_in == n_out and all(g.exact and g.jump == f.jump for g in inputs):
                start = tuple(min(g.start[a] for g in inputs) for a in range(2))
                end = tuple(max(g.start[a] + g.size[a] for g in inputs) for a in range(2))
                result = Field(f.jump, (end[0] - start[0], end[1] - start[1]), start)  # type: ignore[arg-type]
            else:
                result = whole
        memo[id(op)] = result
        return result

    try:
        return field_of(model.get_layer(layer))
    except (AttributeError, IndexError, TypeError):  # a graph this Keras version exposes differently
        return whole


__all__ = ["Field", "receptive_field"]
