"""The compiled, batched gradient ascent of OIP and dream: all images of a
request step together in one ``tf.function``; map ids, nodes, step counts,
objective weights and step sizes are tensors, so one trace per model layer
serves every search (no tf.function retracing across searches)."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..backend import keras, tf
from ..tfquiet import quiet
from ..training.models import sub_model
from .objectives import Layer, Map, Node, Objective, ObjectiveLike, as_objective


def _blur_kernel(channels: int) -> tf.Tensor:
    k = np.array([1.0, 2.0, 1.0], np.float32)
    k2 = np.outer(k, k) / 16.0
    return tf.constant(np.repeat(k2[:, :, None, None], channels, axis=2))


def _weights(objective: Objective) -> tuple[float, float, float] | None:
    """(map, node, layer) weights of an objective made of the named ones, else None."""
    w = [0.0, 0.0, 0.0]
    for weight, part in objective.terms():
        kind = type(part)
        if kind not in _BASIS:
            return None
        w[_BASIS.index(kind)] += weight
    return (w[0], w[1], w[2])


_BASIS = (Map, Node, Layer)


class _Compiled:
    """The compiled ascent of one layer of one model: objective weights, step
    size, smoothing, tolerance, map ids, nodes, batch size and step count are
    all tensors, so every search on that layer reuses one trace. ``custom``:
    an objective not made of Map/Node/Layer (user code), compiled on its own."""

    def __init__(self, model: "keras.Model", layer: str, input_standardization: Any,
                 custom: Objective | None) -> None:
        from .standardization import projection

        self._project = projection(input_standardization)
        self.custom = custom
        self.traces = 0  # how often TensorFlow traced this ascent (tests, benchmarks)
        self.runs = 0
        target = model.get_layer(layer)
        self.sub = sub_model(model, target.output, name=f"to_{layer}")
        self._conv = None  # a ReLU-like conv: ascend its pre-activation too, so silent maps get a gradient
        if (isinstance(target, keras.layers.Conv2D) and type(target) is keras.layers.Conv2D
                and target.data_format == "channels_last" and tuple(target.dilation_rate) == (1, 1)
                and target.groups == 1 and target.activation is not keras.activations.linear):
            self._conv = target
            self.sub_in = sub_model(model, target.input, name=f"into_{layer}")
        channels = int(model.input_shape[-1])
        self._kernel = _blur_kernel(channels)
        spec = tf.TensorSpec((None,) + tuple(model.input_shape[1:]), tf.float32)
        scalar = tf.TensorSpec((), tf.float32)
        self._run = tf.function(self._steps, input_signature=[
            spec, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, 2), tf.int32),
            tf.TensorSpec((None,), tf.bool), tf.TensorSpec((), tf.int32), tf.TensorSpec((3,), tf.float32),
            scalar, scalar, scalar], reduce_retracing=True)

    def first_quietly(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)``; the first calls (eager score, then the trace and first
        run) with fd 2 captured: oneDNN notes its kernels there ("oneDNN
        supports DT_INT32 only on platforms with AVX-512 ...")."""
        if self.runs >= 2:
            return fn(*args)
        self.runs += 1
        with quiet():
            return fn(*args)

    def objective(self, act: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        if self.custom is not None:
            return self.custom(act, maps, nodes)
        return w[0] * Map()(act, maps, nodes) + w[1] * Node()(act, maps, nodes) + w[2] * Layer()(act, maps, nodes)

    def score(self, x: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        return self.objective(self.sub(x, training=False), maps, nodes, w)

    def ascended(self, x: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor, w: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """(score, what to ascend): a small share of the pre-activation keeps
        a gradient where the activation is zero everywhere."""
        if self._conv is None:
            score = self.score(x, maps, nodes, w)
            return score, score
        c = self._conv
        z = tf.nn.conv2d(self.sub_in(x, training=False), c.kernel, strides=list(c.strides),
                         padding=c.padding.upper())
        if c.use_bias:
            z = z + c.bias
        act = c.activation(z)
        score = self.objective(act, maps, nodes, w)
        if self.custom is None or getattr(self.custom, "linear", False):  # one gradient of the sum, not two
            return score, self.objective(act + 0.01 * z, maps, nodes, w)
        return score, score + 0.01 * self.objective(z, maps, nodes, w)

    def _steps(self, x, maps, nodes, active, n, w, step_size, smoothing, tolerance):
        self.traces += 1  # runs only while TensorFlow traces
        scores = tf.TensorArray(tf.float32, size=n)
        prev = self.score(x, maps, nodes, w)
        for i in tf.range(n):
            with tf.GradientTape() as tape:
                tape.watch(x)
                score, ascend = self.ascended(x, maps, nodes, w)
                total = tf.reduce_sum(ascend)
            g = tape.gradient(total, x)
            g = g / (tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2, 3], keepdims=True)) + 1e-8)
            blurred = tf.nn.depthwise_conv2d(g, self._kernel, [1, 1, 1, 1], "SAME")
            g = (1.0 - smoothing) * g + smoothing * blurred
            mask = tf.cast(active, tf.float32)[:, None, None, None]
            x = self._project(x + step_size * mask * g)
            change = tf.abs(score - prev) / (tf.abs(prev) + 1e-6)
            keep = tf.logical_or(change > tolerance, score <= 0.0)
            active = tf.logical_and(active, tf.logical_or(keep, tf.equal(i, 0)))
            prev = score
            scores = scores.write(i, score)
        return x, scores.stack(), active, self.score(x, maps, nodes, w)


class Ascent:
    """Compiled batched gradient ascent towards one objective on one layer
    (the compiled part is shared by every Ascent on that model's layer)."""

    def __init__(self, model: "keras.Model", layer: str, objective: ObjectiveLike = "map",
                 step_size: float = 0.01, smoothing: float = 0.5, tolerance: float = 2e-4,
                 input_standardization: Any = "image") -> None:
        self.objective, self.tolerance = as_objective(objective), float(tolerance)
        self.step_size, self.smoothing = float(step_size), float(smoothing)
        weights = _weights(self.objective)
        self.compiled = _compiled_for(model, layer, input_standardization, None if weights else self.objective)
        self._w = tf.constant(weights or (0.0, 0.0, 0.0), tf.float32)
        self._kernel = self.compiled._kernel

    def _objective(self, x: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.compiled.ascended(x, maps, nodes, self._w)

    def run(self, x: np.ndarray, maps: np.ndarray, nodes: np.ndarray, active: np.ndarray, n: int):
        """``n`` steps; returns images, per-step scores (n, B), active mask, final scores."""
        args = (tf.convert_to_tensor(x, tf.float32), tf.constant(maps, tf.int32), tf.constant(nodes, tf.int32),
                tf.constant(active, tf.bool), tf.constant(n, tf.int32), self._w, tf.constant(self.step_size, tf.float32),
                tf.constant(self.smoothing, tf.float32), tf.constant(self.tolerance, tf.float32))
        x, scores, active, final = self.compiled.first_quietly(self.compiled._run, *args)
        return x.numpy(), scores.numpy(), active.numpy(), final.numpy()

    def score(self, x: np.ndarray, maps: np.ndarray, nodes: np.ndarray | None = None) -> np.ndarray:
        nodes = np.zeros((len(x), 2), np.int32) if nodes is None else nodes
        return self.compiled.first_quietly(self.compiled.score, tf.convert_to_tensor(x, tf.float32),
                                           tf.constant(maps, tf.int32), tf.constant(nodes, tf.int32), self._w).numpy()


_compiled: "weakref.WeakKeyDictionary[Any, dict[tuple, _Compiled]]" = weakref.WeakKeyDictionary()
_ascents: "weakref.WeakKeyDictionary[Any, dict[tuple, Ascent]]" = weakref.WeakKeyDictionary()


def _compiled_for(model: "keras.Model", layer: str, input_standardization: Any,
                  custom: Objective | None) -> _Compiled:
    key = (layer, input_standardization, custom)
    per_model = _compiled.setdefault(model, {})
    if key not in per_model:
        per_model[key] = _Compiled(model, layer, input_standardization, custom)
    return per_model[key]


def traces(model: "keras.Model") -> int:
    """How often the ascents of ``model`` were traced (each trace compiles anew)."""
    return sum(c.traces for c in _compiled.get(model, {}).values())


def ascent_for(model: "keras.Model", layer: str, objective: ObjectiveLike = "map", step_size: float = 0.01,
               smoothing: float = 0.5, tolerance: float = 2e-4, input_standardization: Any = "image") -> Ascent:
    """An Ascent for these settings; every one on the same model and layer
    shares one compiled trace (different objectives, map lists, batch sizes,
    step counts and step sizes do not retrace)."""
    objective = as_objective(objective)
    key = (layer, objective, float(step_size), float(smoothing), float(tolerance), input_standardization)
    per_model = _ascents.setdefault(model, {})
    if key not in per_model:
        per_model[key] = Ascent(model, layer, objective, step_size, smoothing, tolerance, input_standardization)
    return per_model[key]
