"""The live figure for a job's kind."""

from __future__ import annotations

from ..events.watch import Watch
from .analysis import DreamView, ImageView, OIPView
from .dashboard import TrainingDashboard
from .view import View


def make_view(watch: Watch, size: tuple[float, float] | None = None) -> View:
    """The job's live figure: a dashboard for training, the evolution for an
    OIP search, the stages for a dream, the latest image otherwise
    (``size``: the dashboard's inches, :func:`figure_inches`)."""
    if watch.kind in ("train", "fit"):
        return TrainingDashboard(watch, size)
    if watch.kind in ("oip", "dream"):
        return OIPView(watch) if watch.kind == "oip" else DreamView(watch)
    return ImageView(watch)


__all__ = ["make_view"]
