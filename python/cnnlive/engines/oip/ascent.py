"""The compiled, batched gradient ascent of OIP and dream: all images of a
request step together in one ``tf.function``; map ids and nodes are tensors,
so no retrace per map. Compiled ascents are cached per model and settings."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..backend import keras, tf
from ..training.models import sub_model
from .objectives import ObjectiveLike, as_objective


def _blur_kernel(channels: int) -> tf.Tensor:
    k = np.array([1.0, 2.0, 1.0], np.float32)
    k2 = np.outer(k, k) / 16.0
    return tf.constant(np.repeat(k2[:, :, None, None], channels, axis=2))


class Ascent:
    """Compiled batched gradient ascent towards one objective on one layer."""

    def __init__(self, model: "keras.Model", layer: str, objective: ObjectiveLike = "map",
                 step_size: float = 0.01, smoothing: float = 0.5, tolerance: float = 2e-4,
                 input_standardization: Any = "image") -> None:
        from .standardization import projection

        self._project = projection(input_standardization)
        target = model.get_layer(layer)
        self.sub = sub_model(model, target.output, name=f"to_{layer}")
        self._conv = None  # a ReLU-like conv: ascend its pre-activation too, so silent maps get a gradient
        if (isinstance(target, keras.layers.Conv2D) and type(target) is keras.layers.Conv2D
                and target.data_format == "channels_last" and tuple(target.dilation_rate) == (1, 1)
                and target.groups == 1 and target.activation is not keras.activations.linear):
            self._conv = target
            self.sub_in = sub_model(model, target.input, name=f"into_{layer}")
        self.objective, self.tolerance = as_objective(objective), float(tolerance)
        self.step_size, self.smoothing = float(step_size), float(smoothing)
        channels = int(model.input_shape[-1])
        self._kernel = _blur_kernel(channels)
        spec = tf.TensorSpec((None,) + tuple(model.input_shape[1:]), tf.float32)
        self._run = tf.function(self._steps, input_signature=[
            spec, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, 2), tf.int32),
            tf.TensorSpec((None,), tf.bool), tf.TensorSpec((), tf.int32)], reduce_retracing=True)

    def _score(self, x: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor) -> tf.Tensor:
        return self.objective(self.sub(x, training=False), maps, nodes)

    def _objective(self, x: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """(score, what to ascend): a small share of the pre-activation keeps
        a gradient where the activation is zero everywhere."""
        if self._conv is None:
            score = self._score(x, maps, nodes)
            return score, score
        c = self._conv
        z = tf.nn.conv2d(self.sub_in(x, training=False), c.kernel, strides=list(c.strides),
                         padding=c.padding.upper())
        if c.use_bias:
            z = z + c.bias
        act = c.activation(z)
        score = self.objective(act, maps, nodes)
        if getattr(self.objective, "linear", False):  # the same sum, one objective's gradient instead of two
            return score, self.objective(act + 0.01 * z, maps, nodes)
        return score, score + 0.01 * self.objective(z, maps, nodes)

    def _steps(self, x, maps, nodes, active, n):
        scores = tf.TensorArray(tf.float32, size=n)
        prev = self._score(x, maps, nodes)
        for i in tf.range(n):
            with tf.GradientTape() as tape:
                tape.watch(x)
                score, ascend = self._objective(x, maps, nodes)
                total = tf.reduce_sum(ascend)
            g = tape.gradient(total, x)
            g = g / (tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2, 3], keepdims=True)) + 1e-8)
            blurred = tf.nn.depthwise_conv2d(g, self._kernel, [1, 1, 1, 1], "SAME")
            g = (1.0 - self.smoothing) * g + self.smoothing * blurred
            mask = tf.cast(active, tf.float32)[:, None, None, None]
            x = self._project(x + self.step_size * mask * g)
            change = tf.abs(score - prev) / (tf.abs(prev) + 1e-6)
            keep = tf.logical_or(change > self.tolerance, score <= 0.0)
            active = tf.logical_and(active, tf.logical_or(keep, tf.equal(i, 0)))
            prev = score
            scores = scores.write(i, score)
        return x, scores.stack(), active, self._score(x, maps, nodes)

    def run(self, x: np.ndarray, maps: np.ndarray, nodes: np.ndarray, active: np.ndarray, n: int):
        """``n`` steps; returns images, per-step scores (n, B), active mask, final scores."""
        x, scores, active, final = self._run(tf.convert_to_tensor(x, tf.float32), tf.constant(maps, tf.int32),
                                             tf.constant(nodes, tf.int32), tf.constant(active, tf.bool),
                                             tf.constant(n, tf.int32))
        return x.numpy(), scores.numpy(), active.numpy(), final.numpy()

    def score(self, x: np.ndarray, maps: np.ndarray, nodes: np.ndarray | None = None) -> np.ndarray:
        nodes = np.zeros((len(x), 2), np.int32) if nodes is None else nodes
        return self._score(tf.convert_to_tensor(x, tf.float32), tf.constant(maps, tf.int32),
                           tf.constant(nodes, tf.int32)).numpy()


_ascents: "weakref.WeakKeyDictionary[Any, dict[tuple, Ascent]]" = weakref.WeakKeyDictionary()


def ascent_for(model: "keras.Model", layer: str, objective: ObjectiveLike = "map", step_size: float = 0.01,
               smoothing: float = 0.5, tolerance: float = 2e-4, input_standardization: Any = "image") -> Ascent:
    """A compiled Ascent, reused for the same model and settings (no retrace)."""
    objective = as_objective(objective)
    key = (layer, objective, float(step_size), float(smoothing), float(tolerance), input_standardization)
    per_model = _ascents.setdefault(model, {})
    if key not in per_model:
        per_model[key] = Ascent(model, layer, objective, step_size, smoothing, tolerance, input_standardization)
    return per_model[key]
