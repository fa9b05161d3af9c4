"""Background jobs: ``cnnlive.jobs.start(coro_fn, ...)`` and friends.

Each job runs ``coro_fn(ctx, *args, **kw)`` in its own thread with its own
asyncio loop (nested loops allowed); see :class:`Job` for stop, cancel, halt.
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from . import viewers
from .job import Job, JobContext, StopEvent
from .manager import JobManager, manager
from .reporter import NullReporter, Reporter
from .state import ENDINGS, JobRunningError, JobState, JobStateError, UnknownJobError
from .text import Table, Text
from .watch import JobWatch


def start(coro_fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any, name: str | None = None,
          stop_timeout: float | None = None, **kwargs: Any) -> Job:
    """Start ``coro_fn(ctx, *args, **kwargs)`` as a background job.

    ``stop_timeout``: seconds the work gets after ``stop()`` to reach a safe
    point before its task is cancelled (default ``cnnlive.config.stop_timeout``).
    """
    return manager().start(coro_fn, *args, name=name, stop_timeout=stop_timeout, **kwargs)


def get(job_id: int) -> Job:
    """The job with this id; unknown ids raise UnknownJobError listing known ids."""
    return manager().get(job_id)


def list() -> "list[Job]":  # noqa: A001 - mirrors the documented API
    """All jobs, oldest first."""
    return manager().list()


def status() -> "Table":
    """A table of jobs: id, name, kind, state, progress, elapsed (text, and
    HTML in a notebook; a cell's last line shows it once)."""
    return manager().status()


def stop(job_id: int, after: str | None = None) -> str:
    """Graceful stop of one job (``after="epoch"``: at the end of the epoch)."""
    return manager().stop(job_id, after)


def pause(job_id: int) -> str:
    """Pause one job at its next safe point."""
    return manager().pause(job_id)


def resume(job_id: int) -> str:
    """Resume a paused job."""
    return manager().resume(job_id)


def adjust(job_id: int, learning_rate: float | None = None, epochs: int | None = None) -> str:
    """Change a running training job's learning rate and/or total epochs."""
    return manager().adjust(job_id, learning_rate, epochs)


def cancel(job_id: int) -> str:
    """Hard cancel of one job."""
    return manager().cancel(job_id)


def halt(job_id: int) -> str:
    """Stop the loop of one job."""
    return manager().halt(job_id)


def remove(job_id: int) -> Job:
    """Forget a finished job and free what cnnlive holds of it (its result,
    views and model); your own variables still hold what they hold."""
    return manager().remove(job_id)


def stop_all(timeout: float | None = 5.0) -> "list[Job]":
    """Stop all running jobs (cancel those that do not stop within timeout)."""
    return manager().stop_all(timeout)


__all__ = [
    "ENDINGS", "Job", "JobContext", "JobManager", "JobRunningError", "JobState", "JobStateError", "JobWatch",
    "NullReporter", "Reporter", "StopEvent", "UnknownJobError", "adjust", "cancel", "get", "halt", "list", "manager",
    "pause", "remove", "resume", "start",
    "status", "stop", "stop_all",
]
