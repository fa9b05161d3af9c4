"""The seam between engines and the job layer: engines report through a
:class:`Reporter` and never see a Job. :class:`NullReporter` serves engines
that run outside any job (tests, scripts)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Protocol, runtime_checkable


class StopFlag(Protocol):
    """A flag readable from any thread (a StopEvent or threading.Event)."""

    def is_set(self) -> bool: ...


@runtime_checkable
class Reporter(Protocol):
    """What long-running work may call while it runs."""

    @property
    def run_dir(self) -> str | None:
        """Folder for saved artefacts (None: do not save)."""

    @property
    def end_request(self) -> str | None:
        """The strongest ending asked for so far: None, "stop", "stop-forced",
        "cancel" or "halt"."""

    @property
    def stopping(self) -> StopFlag:
        """``stopping.is_set()`` is True once a graceful stop was requested."""

    def publish(self, channel: str, value: Any) -> None:
        """Publish on one of the channels status, metrics, images, log."""

    def progress(self, done: float, total: float | None = None) -> None:
        """Report progress; ``total`` None means unknown."""

    def keep(self, result: Any) -> None:
        """Keep a partial result: it survives stop, cancel and halt."""

    def poll(self) -> bool:
        """Sync safe point: raises CancelledError after cancel/halt, waits
        while paused, returns True when a graceful stop was requested."""

    async def checkpoint(self) -> bool:
        """Async safe point: lets other tasks run; True when stopping."""


class NullReporter:
    """A Reporter for work outside any job: keeps the last result, never stops."""

    def __init__(self, run_dir: str | None = None) -> None:
        self._run_dir = run_dir
        self.kept: Any = None
        self._stop = threading.Event()

    @property
    def run_dir(self) -> str | None:
        return self._run_dir

    @property
    def end_request(self) -> str | None:
        return "stop" if self._stop.is_set() else None

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> StopFlag:
        return self._stop

    def publish(self, channel: str, value: Any) -> None:
        return None

    def progress(self, done: float, total: float | None = None) -> None:
        return None

    def keep(self, result: Any) -> None:
        self.kept = result

    steering = None  # optional for reporters: a job's training requests (jobs.steering.Steering)

    def poll(self) -> bool:
        return self._stop.is_set()

    async def checkpoint(self) -> bool:
        await asyncio.sleep(0)
        return self._stop.is_set()


__all__ = ["NullReporter", "Reporter", "StopFlag"]
