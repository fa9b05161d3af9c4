"""An OIP request: its settings, and the checked spec ``prepare`` makes of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..backend import keras
from .checks import check_layer, check_maps
from .noise import check_wavelengths
from .objectives import ObjectiveLike, as_objective, label as objective_label

@dataclass(frozen=True)
class OIPSettings:
    steps: int = 200
    step_size: float = 0.01
    smoothing: float = 0.5          # share of the blurred gradient (suppresses high frequencies)
    tolerance: float = 2e-4         # relative change of the objective per step that counts as converged
    snapshots: int = 6              # evolution frames kept
    wavelengths: tuple[float, ...] = (14.0, 7.0, 3.0)
    sweep: bool = False             # one image per wavelength instead of their superposition
    seed: int | None = 1
    objective: ObjectiveLike = "map"   # "map", "node", "layer" or an Objective (objectives.py)
    node: tuple[int, int] | None = None
    chunk: int = 10                 # steps per compiled call
    restarts: int = 8               # fresh noise for images whose map stays silent (zero gradient)
    input_standardization: Any = "image"  # "image", "none" or a callable (see standardization.py)


@dataclass
class OIPSpec:
    """A checked OIP request."""

    model: Any
    layer: str
    maps: list[int]
    settings: OIPSettings
    layer_shape: tuple[int, int, int]
    input_shape: tuple[int, int, int]
    waves_per_image: list[tuple[float, ...]] = field(default_factory=list)
    data: np.ndarray | None = None  # images to judge the OIPs against (result.quality)
    quality_seeds: int = 3          # OIPs per map (different seeds) for diversity and reproducibility

    @property
    def batch_maps(self) -> np.ndarray:
        per = len(self.settings.wavelengths) if self.settings.sweep else 1
        return np.repeat(np.array(self.maps, np.int32), per)


def prepare(model: "keras.Model", layer: str, maps: int | Sequence[int] | str, settings: OIPSettings) -> OIPSpec:
    """Check every argument against the model; raise ValueError naming valid choices."""
    objective = as_objective(settings.objective)
    if settings.steps <= 0:
        raise ValueError(f"steps must be > 0, got {settings.steps}")
    from .standardization import check

    check(settings.input_standardization)
    shape = check_layer(model, layer)
    ids = check_maps(maps, shape[2], layer)
    if objective.uses_node:
        if settings.node is None:
            raise ValueError(f"objective {objective_label(settings.objective)!r} needs node=(row, col)")
        r, c = settings.node
        if not (0 <= r < shape[0] and 0 <= c < shape[1]):
            raise ValueError(f"node {settings.node} is outside the {shape[0]}x{shape[1]} maps of {layer!r}: "
                             f"rows 0..{shape[0] - 1}, cols 0..{shape[1] - 1}")
    inp = tuple(int(d) for d in model.input_shape[1:])
    waves = check_wavelengths(settings.wavelengths, inp[0], inp[1])
    per_image = [(w,) for w in waves] if settings.sweep else [waves]
    return OIPSpec(model, layer, ids, settings, shape, inp,  # type: ignore[arg-type]
                   [p for _ in ids for p in per_image])


__all__ = ["OIPSettings", "OIPSpec", "prepare"]
