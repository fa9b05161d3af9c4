"""``JobWatch``: the read-only watch of a Job that views get (``job.watch()``)."""

from __future__ import annotations

from typing import Any, Protocol

from ..events import Channels
from ..events.watch import Watch
from .state import JobState


class Watched(Watch, Protocol):
    """What a watch reads of its :class:`~cnnlive.jobs.job.Job`: a
    :class:`~cnnlive.events.watch.Watch` that can be waited on (typed here,
    so this module imports no job module)."""

    def wait(self, timeout: float | None = None) -> JobState: ...


class JobWatch:
    """Read-only proxy over one Job: identity, channels and a status
    snapshot (implements :class:`cnnlive.events.watch.Watch`), and ``wait``.
    It offers no way to stop, cancel, remove or change the job."""

    __slots__ = ("_job",)

    def __init__(self, job: Watched) -> None:
        self._job = job

    @property
    def id(self) -> int:
        return self._job.id

    @property
    def name(self) -> str:
        return self._job.name

    @property
    def kind(self) -> str:
        return self._job.kind

    @property
    def channels(self) -> Channels:
        return self._job.channels

    @property
    def state(self) -> "JobState":
        return self._job.state

    @property
    def done(self) -> bool:
        return self._job.done

    @property
    def progress_fraction(self) -> float | None:
        return self._job.progress_fraction

    @property
    def elapsed(self) -> float:
        return self._job.elapsed

    @property
    def result(self) -> Any:
        return self._job.result

    def wait(self, timeout: float | None = None) -> "JobState":
        """Block until the job has finished (or ``timeout``); its state. Only reads."""
        return self._job.wait(timeout)

    def __repr__(self) -> str:
        return f"<JobWatch of {self._job!r}>"


__all__ = ["JobWatch"]
