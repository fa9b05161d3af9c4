"""Training engine: data forms, models, the live callback, schedules, saving, the job body.

The public names load their module on first use (PEP 562), so importing
one part does not import the others."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .callback import LiveCallback
    from .data import DataError, Dataset, load
    from .fitdata import FitData, LOSSES, METRICS, as_fit_data, as_validation
    from .result import ENDINGS, TrainingResult
    from .saving import SaveError, clean_partials, save_atomic
    from .schedules import OPTIMIZERS, PowerDecay, SCHEDULES, SteeredSchedule, make_optimizer, set_learning_rate
    from .work import check_compatible, train_work

_EXPORTS = {
    "LiveCallback": "callback",
    "DataError": "data", "Dataset": "data", "load": "data",
    "FitData": "fitdata", "LOSSES": "fitdata", "METRICS": "fitdata", "as_fit_data": "fitdata", "as_validation": "fitdata",
    "ENDINGS": "result", "TrainingResult": "result",
    "SaveError": "saving", "clean_partials": "saving", "save_atomic": "saving",
    "OPTIMIZERS": "schedules", "PowerDecay": "schedules", "SCHEDULES": "schedules", "SteeredSchedule": "schedules", "make_optimizer": "schedules", "set_learning_rate": "schedules",
    "check_compatible": "work", "train_work": "work",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
