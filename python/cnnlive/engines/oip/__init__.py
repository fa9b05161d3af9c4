"""OIP engine: the request's checks and spec, objectives, noise and input
standardization, the compiled ascent, the search policy, results and
timelines, judging and quality, receptive fields, the job bodies.

The public names load their module on first use (PEP 562), so importing
one part does not import the others."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ascent import Ascent, ascent_for
    from .checks import check_layer, check_maps, snapshot_model
    from .judge import Exemplars, data_images, exemplars, map_statistics, oip_quality
    from .noise import initial_noise
    from .objectives import Layer, Map, Node, OBJECTIVES, Objective, Sum, as_objective
    from .policy import ascend
    from .quality import QualityTable, natural_informativeness, quality_table
    from .receptive import receptive_field
    from .results import OIPResult, OIPTimeline, by_wavelengths
    from .spec import OIPSettings, OIPSpec, prepare
    from .timeline import Timeline
    from .work import judge_more, oip_every_epoch_work, oip_work, record_epoch_quality, search

_EXPORTS = {
    "Ascent": "ascent", "ascent_for": "ascent",
    "check_layer": "checks", "check_maps": "checks", "snapshot_model": "checks",
    "Exemplars": "judge", "data_images": "judge", "exemplars": "judge", "map_statistics": "judge", "oip_quality": "judge",
    "initial_noise": "noise",
    "Layer": "objectives", "Map": "objectives", "Node": "objectives", "OBJECTIVES": "objectives", "Objective": "objectives", "Sum": "objectives", "as_objective": "objectives",
    "ascend": "policy",
    "QualityTable": "quality", "natural_informativeness": "quality", "quality_table": "quality",
    "receptive_field": "receptive",
    "OIPResult": "results", "OIPTimeline": "results", "by_wavelengths": "results",
    "OIPSettings": "spec", "OIPSpec": "spec", "prepare": "spec",
    "Timeline": "timeline",
    "judge_more": "work", "oip_every_epoch_work": "work", "oip_work": "work", "record_epoch_quality": "work", "search": "work",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
