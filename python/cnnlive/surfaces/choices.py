"""One parser for what the surfaces (magics, widgets, Python API) take as
text: map lists, model presets and data-set names."""

from __future__ import annotations

from typing import Any, Sequence

#: model presets by name -> ResNet V2 stack preset (None: the seeds' simple CNN).
#: "resnet" and "resnet-cifar" (kept from the first release) are cifar-tiny.
MODEL_PRESETS: dict[str, str | None] = {
    "simple": None,
    "resnet": "cifar-tiny",
    "resnet-cifar": "cifar-tiny",
    "resnet-cifar-tiny": "cifar-tiny",
    "resnet-cifar-20": "cifar-20",
    "resnet-cifar-56": "cifar-56",
    "resnet-3463": "resnet-3463",
}
DATA_NAMES = ("digits", "fashion_mnist", "mnist", "cifar10")


def parse_maps(value: Any) -> int | list[int] | str:
    """``"all"``, ``"5"``, ``"1,2,3"``, an int or a list of ints -> the form
    ``cl.oip``/``cl.dream`` take. Bad text names what is expected."""
    if isinstance(value, bool):
        raise ValueError(f"maps must be an int, a list of ints or 'all', not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple)):
        return [parse_maps(v) for v in value]  # type: ignore[misc]
    text = str(value).strip()
    if text == "all":
        return "all"
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"maps must be 'all', a number or numbers separated by commas (e.g. 3 or 1,4,9), "
                         f"not {text!r}") from None
    if not ids:
        raise ValueError("maps is empty; give 'all', a number or numbers separated by commas")
    return ids[0] if len(ids) == 1 else ids


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    """``"14,7,3"`` -> (14.0, 7.0, 3.0)."""
    try:
        values = tuple(float(part) for part in str(text).split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{what} must be numbers separated by commas (e.g. 14,7,3), not {text!r}") from None
    if not values:
        raise ValueError(f"{what} is empty")
    return values


def build_model(preset: str, input_shape: Sequence[int], classes: int) -> Any:
    """A fresh model from a preset name (see :data:`MODEL_PRESETS`)."""
    from ..engines.training import models

    if preset not in MODEL_PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; presets: {', '.join(MODEL_PRESETS)}")
    stacks = MODEL_PRESETS[preset]
    if stacks is None:
        return models.simple_cnn(input_shape=tuple(input_shape), classes=int(classes))
    return models.resnet_v2(input_shape=tuple(input_shape), classes=int(classes), stacks=stacks)


__all__ = ["DATA_NAMES", "MODEL_PRESETS", "build_model", "parse_floats", "parse_maps"]
