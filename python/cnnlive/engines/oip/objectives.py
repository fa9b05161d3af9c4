"""OIP objectives as small callables, composable like Lucent's: ``map``,
``node`` and ``layer``, and weighted sums of them (``0.5 * Map() + Layer()``).

An objective turns a layer's activations ``(B, H, W, C)`` into one score per
image, given each image's map id ``maps`` ``(B,)`` and node ``nodes``
``(B, 2)`` as tensors, so one compiled ascent serves every map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from ..backend import tf

OBJECTIVES = ("map", "node", "layer")


class Objective:
    """Base of the objectives; ``+``, ``-`` and ``*`` by a number make weighted sums."""

    uses_node = False
    linear = False  # linear in the activations: o(a + b) == o(a) + o(b) (the ascent then sums before it)

    def __call__(self, act: tf.Tensor, maps: tf.Tensor, nodes: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def terms(self) -> tuple[tuple[float, "Objective"], ...]:
        return ((1.0, self),)

    def __add__(self, other: "Objective") -> "Objective":
        if not isinstance(other, Objective):
            return NotImplemented
        return Sum(self.terms() + other.terms())

    def __mul__(self, weight: float) -> "Objective":
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            return NotImplemented
        return Sum(tuple((float(weight) * w, o) for w, o in self.terms()))

    __rmul__ = __mul__

    def __neg__(self) -> "Objective":
        return self * -1.0

    def __sub__(self, other: "Objective") -> "Objective":
        if not isinstance(other, Objective):
            return NotImplemented
        return self + (-other)


@dataclass(frozen=True)
class Map(Objective):
    """Mean activation of each image's map."""

    linear = True

    def __call__(self, act, maps, nodes):
        return tf.reduce_mean(tf.gather(act, maps, axis=3, batch_dims=1), axis=[1, 2])

    def __str__(self) -> str:
        return "map"


@dataclass(frozen=True)
class Node(Objective):
    """Activation of each image's map at its node (row, col)."""

    linear = True

    uses_node = True

    def __call__(self, act, maps, nodes):
        return tf.gather_nd(tf.gather(act, maps, axis=3, batch_dims=1), nodes, batch_dims=1)

    def __str__(self) -> str:
        return "node"


@dataclass(frozen=True)
class Layer(Objective):
    """Mean activation of the whole layer (all maps)."""

    linear = True

    def __call__(self, act, maps, nodes):
        return tf.reduce_mean(act, axis=[1, 2, 3])

    def __str__(self) -> str:
        return "layer"


@dataclass(frozen=True)
class Sum(Objective):
    """A weighted sum of objectives."""

    parts: tuple[tuple[float, Objective], ...]

    @property
    def uses_node(self) -> bool:  # type: ignore[override]
        return any(o.uses_node for _, o in self.parts)

    @property
    def linear(self) -> bool:  # type: ignore[override]
        return all(o.linear for _, o in self.parts)

    def terms(self) -> tuple[tuple[float, Objective], ...]:
        return self.parts

    def __call__(self, act, maps, nodes):
        return tf.add_n([w * o(act, maps, nodes) for w, o in self.parts])

    def __str__(self) -> str:
        text = ""
        for w, o in self.parts:
            sign = "-" if w < 0 else "+"
            term = str(o) if abs(w) == 1.0 else f"{abs(w):g}*{o}"
            text = (f"-{term}" if sign == "-" else term) if not text else f"{text} {sign} {term}"
        return text


NAMED: dict[str, Objective] = {"map": Map(), "node": Node(), "layer": Layer()}
ObjectiveLike = Union[str, Objective]


def as_objective(objective: Any) -> Objective:
    """An Objective from a name in OBJECTIVES or an Objective; a clear error otherwise."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str) and objective in NAMED:
        return NAMED[objective]
    raise ValueError(f"unknown objective {objective!r}; valid: {', '.join(OBJECTIVES)} "
                     f"or an Objective (Map(), Node(), Layer() and weighted sums of them)")


def label(objective: ObjectiveLike) -> str:
    """The objective as text, for provenance ("map", "0.5*map + layer")."""
    return objective if isinstance(objective, str) else str(objective)
