"""A registry for live figures: how to show and save a job's figures.
``Job.plot()`` and ``Job.save_plots()`` call it without the job layer
importing views (the pattern of events/gpu.py). They pass a read-only watch
of the job (``job.watch()``), never the job; the job keeps the list of its
views. The package root installs a loader that imports the views layer on
first use and registers its ``show`` and ``save_plots`` here, so the views
layer imports nothing of the job layer either."""

from __future__ import annotations

import threading
from typing import Any, Callable

#: ``show(watch, fps) -> view``
ShowFn = Callable[[Any, "float | None"], Any]
#: ``save(watch, views, folder) -> paths`` (``views``: the job's figures so far, maybe none)
SaveFn = Callable[[Any, "list[Any]", str], "list[str]"]

_lock = threading.Lock()
_show: ShowFn | None = None
_save: SaveFn | None = None
_loader: Callable[[], None] | None = None


def register_viewer(show: ShowFn, save: SaveFn) -> None:
    """Set the functions that show and save a job's figures (the package root
    registers the views layer's)."""
    global _show, _save
    with _lock:
        _show, _save = show, save


def set_loader(loader: Callable[[], None]) -> None:
    """A function that loads (and so registers) the views layer on demand."""
    global _loader
    with _lock:
        _loader = loader


def _ensure() -> tuple[ShowFn, SaveFn]:
    if _show is None and _loader is not None:
        _loader()
    if _show is None or _save is None:
        raise RuntimeError("no live-figure viewer is registered; import cnnlive (its root registers cnnlive.views.live)")
    return _show, _save


def show(watch: Any, fps: float | None = None, size: tuple[float, float] | None = None) -> Any:
    if size is None:
        return _ensure()[0](watch, fps)
    return _ensure()[0](watch, fps, size=size)


def save(watch: Any, views: list[Any], folder: str) -> list[str]:
    return _ensure()[1](watch, views, folder)


__all__ = ["register_viewer", "save", "set_loader", "show"]
