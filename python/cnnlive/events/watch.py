"""What a view may see of a job: a read-only watch (its channels and a status
snapshot), and a read-only source of watches. Views type against these; the
job layer implements them (``Job.watch()``, :mod:`cnnlive.jobs.watch`), so a
view never holds or steers a job."""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

from .channels import Channels

#: A training's metrics row names its learning-rate series here (a string, the
#: keys joined by ","), so a view tells cnnlive's rates from a user's metrics.
RATE_KEYS = "__rates__"


@runtime_checkable
class Watch(Protocol):
    """Read-only view of one job (or of a group of jobs)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def channels(self) -> Channels: ...

    @property
    def state(self) -> Any:
        """A ``str`` enum (``JobState`` for jobs): ``.value`` is the state's name."""

    @property
    def done(self) -> bool: ...

    @property
    def progress_fraction(self) -> float | None: ...

    @property
    def elapsed(self) -> float: ...

    @property
    def result(self) -> Any:
        """The kept (partial) result, read only; the OIP and dream views draw it."""


class WatchSource(Protocol):
    """Read-only source of watches (the JobManager is one): all the panel
    transport reads of the job layer."""

    def list(self) -> Sequence[Any]:
        """The current jobs (or their watches), oldest first; readers take
        :func:`as_watch` of each."""


def as_watch(source: Any) -> Watch:
    """The read-only watch of ``source``: ``source.watch()`` when it offers
    one (a Job), else ``source`` itself (already a watch)."""
    make = getattr(source, "watch", None)
    return make() if callable(make) else source


__all__ = ["RATE_KEYS", "Watch", "WatchSource", "as_watch"]
