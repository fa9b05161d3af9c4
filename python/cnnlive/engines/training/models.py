"""The seeds' simple MNIST CNN and a ResNet V2 (bottleneck, full pre-activation)."""

from __future__ import annotations

import logging
from typing import Any, Iterable, Sequence

from ..backend import keras

log = logging.getLogger("cnnlive")

CONV_ACTIVATIONS = ("relu", "sigmoid", "elu", "tanh", "selu", "gelu", "swish")
DENSE_ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "gelu", "swish")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid")
REGULARIZERS = ("l2", "l1")

#: (filters, units) per stack
RESNET_PRESETS: dict[str, list[tuple[int, int]]] = {
    "cifar-tiny": [(32, 1), (64, 1), (128, 1)],
    "cifar-20": [(64, 2), (128, 2), (256, 2)],
    "cifar-56": [(64, 6), (128, 6), (256, 6)],
    "resnet-3463": [(64, 3), (128, 4), (256, 6), (512, 3)],
}


def _choice(value: str, valid: Sequence[str], what: str) -> str:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")
    return value


def _regularizer(kind: str | None, factor: float):
    if kind is None:
        return None
    _choice(kind, REGULARIZERS, "regularizer")
    return keras.regularizers.L2(factor) if kind == "l2" else keras.regularizers.L1(factor)


def simple_cnn(
    convs: Iterable[tuple[int, int, str]] = ((32, 3, "relu"), (64, 3, "relu"), (128, 3, "relu")),
    pools: Iterable[int] = (2, 2),
    dense: Iterable[tuple[int, str]] = ((100, "relu"),),
    classes: int = 10,
    input_shape: tuple[int, int, int] = (28, 28, 1),
    output_activation: str = "softmax",
    regularizer: str | None = None,
    reg_factor: float = 0.001,
    regularize_conv: bool = False,
    name: str = "simple_cnn",
) -> "keras.Model":
    """The seeds' configurable CNN. ``convs`` are (filters, kernel, activation);
    ``pools`` are pool sizes, pool i follows conv i (so at most len(convs)
    pools); ``dense`` are (units, activation) hidden layers. Layers are named
    Conv2D_1.., Max_Pool_1.., Flatten, Dense_1.., Output.

    ``regularizer`` ("l2" or "l1", factor ``reg_factor``) applies to the
    Dense layers (hidden and output), as in the seeds; ``regularize_conv=True``
    applies it to the conv layers as well."""
    convs, pools, dense = [tuple(c) for c in convs], list(pools), [tuple(d) for d in dense]
    if not convs:
        raise ValueError("convs must list at least one conv layer (filters, kernel, activation)")
    if len(pools) > len(convs):
        raise ValueError(f"{len(pools)} pooling layers for {len(convs)} conv layers: pool i follows conv i, "
                         f"so give at most {len(convs)} pools (the seeds use {len(convs) - 1})")
    if len(input_shape) != 3 or any(int(d) <= 0 for d in input_shape):
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}")
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    _choice(output_activation, OUTPUT_ACTIVATIONS, "output activation")
    reg = _regularizer(regularizer, reg_factor)
    if regularize_conv and reg is None:
        raise ValueError("regularize_conv=True needs a regularizer; valid: " + ", ".join(REGULARIZERS))
    layers = [keras.Input(shape=tuple(input_shape), name="input")]
    h, w = input_shape[0], input_shape[1]
    for i, conv in enumerate(convs, start=1):
        if len(conv) != 3:
            raise ValueError(f"conv {i} must be (filters, kernel, activation), got {conv}")
        filters, kernel, act = conv
        _choice(act, CONV_ACTIVATIONS, f"activation of Conv2D_{i}")
        h, w = h - kernel + 1, w - kernel + 1
        if h < 1 or w < 1:
            raise ValueError(f"Conv2D_{i} (kernel {kernel}) leaves no pixels of the {input_shape[:2]} input")
        layers.append(keras.layers.Conv2D(filters, kernel, activation=act, name=f"Conv2D_{i}",
                                          kernel_regularizer=reg if regularize_conv else None))
        if i <= len(pools):
            size = pools[i - 1]
            h, w = h // size, w // size
            if h < 1 or w < 1:
                raise ValueError(f"Max_Pool_{i} (size {size}) leaves no pixels")
            layers.append(keras.layers.MaxPooling2D(size, name=f"Max_Pool_{i}"))
    layers.append(keras.layers.Flatten(name="Flatten"))
    for j, spec in enumerate(dense, start=1):
        if len(spec) != 2:
            raise ValueError(f"dense layer {j} must be (units, activation), got {spec}")
        units, act = spec
        _choice(act, DENSE_ACTIVATIONS, f"activation of Dense_{j}")
        layers.append(keras.layers.Dense(units, activation=act, name=f"Dense_{j}", kernel_regularizer=reg))
    layers.append(keras.layers.Dense(classes, activation=output_activation, name="Output",
                                     kernel_regularizer=reg))
    return keras.Sequential(layers, name=name)


def _pre_act(x, prefix: str):
    x = keras.layers.BatchNormalization(name=f"{prefix}_bn")(x)
    return keras.layers.Activation("relu", name=f"{prefix}_relu")(x)


def resnet_v2(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    stacks: Sequence[tuple[int, int]] | str = "cifar-20",
    bottleneck_ratio: float = 0.5,
    stem_filters: int | None = None,
    weight_decay: float | None = 1e-4,
    name: str = "resnet_v2",
) -> "keras.Model":
    """ResNet V2 with bottleneck units and full pre-activation.

    ``stacks`` is a list of (filters, units) or a preset name from
    :data:`RESNET_PRESETS`. Each unit has three residual layers
    BN→ReLU→Conv (1x1 to filters*ratio, 3x3, 1x1 back to filters); the first
    unit of every stack after the first has stride 2 and a 1x1 stride-2 conv on
    the shortcut; the first layer of the first unit skips BN/ReLU (the stem
    did it); nothing follows the addition. Layer names read
    ``s{stack}u{unit}_l{layer}_{bn|relu|conv}``, ``s{stack}u{unit}_shortcut``,
    ``s{stack}u{unit}_add``.
    """
    if isinstance(stacks, str):
        stacks = RESNET_PRESETS[_choice(stacks, list(RESNET_PRESETS), "ResNet preset")]
    stacks = [tuple(s) for s in stacks]
    if not stacks or any(len(s) != 2 or s[0] < 1 or s[1] < 1 for s in stacks):
        raise ValueError(f"stacks must be a non-empty list of (filters, units) with positive numbers, got {stacks}")
    if not 0 < bottleneck_ratio <= 1:
        raise ValueError(f"bottleneck_ratio must be in (0, 1], got {bottleneck_ratio}")
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None
    conv = lambda f, k, s, n: keras.layers.Conv2D(  # noqa: E731
        f, k, strides=s, padding="same", kernel_initializer="he_normal", kernel_regularizer=reg, name=n)
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    stem = stem_filters or max(8, int(stacks[0][0] * bottleneck_ratio))
    x = conv(stem, 3, 1, "stem_conv")(inputs)
    x = _pre_act(x, "stem")
    for s, (filters, units) in enumerate(stacks, start=1):
        inner = max(1, int(filters * bottleneck_ratio))
        for u in range(1, units + 1):
            p = f"s{s}u{u}"
            stride = 2 if (s > 1 and u == 1) else 1
            shortcut = x
            y = x if (s == 1 and u == 1) else _pre_act(x, f"{p}_l1")
            y = conv(inner, 1, stride, f"{p}_l1_conv")(y)
            y = _pre_act(y, f"{p}_l2")
            y = conv(inner, 3, 1, f"{p}_l2_conv")(y)
            y = _pre_act(y, f"{p}_l3")
            y = conv(filters, 1, 1, f"{p}_l3_conv")(y)
            if u == 1:
                shortcut = conv(filters, 1, stride, f"{p}_shortcut")(shortcut)
            x = keras.layers.Add(name=f"{p}_add")([shortcut, y])
    x = _pre_act(x, "head")
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", kernel_initializer="he_normal", name="head_dense")(x)
    return keras.Model(inputs, outputs, name=name)


def spatial_layers(model: "keras.Model") -> list[str]:
    """Names of layers whose output has maps (batch, H, W, C)."""
    names = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)
        except Exception:  # noqa: BLE001 - input layers, nested models
            log.debug("layer %s: no output shape", layer.name, exc_info=True)
            continue
        if len(shape) == 4 and not isinstance(layer, keras.layers.InputLayer):
            names.append(layer.name)
    return names


__all__ = ["RESNET_PRESETS", "resnet_v2", "simple_cnn", "spatial_layers"]


def sub_model(model: Any, output: Any, name: str | None = None) -> Any:
    """A model from ``model``'s input to ``output`` (a tensor of one of its
    layers). A single input is passed as itself, not as a one-item list, so
    calling the sub-model with one array raises no structure warning."""
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, output, name=name)

