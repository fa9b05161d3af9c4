"""What a job's work sees: the stop flag and the :class:`JobContext`."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Protocol

from ..events import Channels
from .steering import PauseGate, Steering

log = logging.getLogger("cnnlive")


class StopEvent:
    """A stop flag readable from sync code and awaitable from the job loop."""

    def __init__(self) -> None:
        self._flag = threading.Event()
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._event = loop, asyncio.Event()
        if self._flag.is_set():
            self._event.set()

    def set(self) -> None:
        """Request a stop (thread-safe, idempotent)."""
        self._flag.set()
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop closed between the check and the call: the job has ended
                log.debug("stop event set after the job's loop closed")

    def is_set(self) -> bool:
        return self._flag.is_set()

    __bool__ = is_set

    async def wait(self) -> None:
        if self._event is None:
            raise RuntimeError("the stop event is bound when the job starts")
        await self._event.wait()


class ContextJob(Protocol):
    """What a context reads of its :class:`~cnnlive.jobs.job.Job` (typed here,
    so this module imports no job module)."""

    id: int
    run_dir: str | None
    channels: Channels
    progress: tuple[float, float | None]
    steering: Steering
    _stop: StopEvent
    _gate: PauseGate
    _loop: asyncio.AbstractEventLoop | None
    _nested: bool
    _partial: Any

    @property
    def progress_fraction(self) -> float | None: ...

    def stop(self, after: str | None = None) -> str: ...

    def _end_request(self) -> str | None: ...

    def _loop_stopped_on_purpose(self) -> bool: ...


class JobContext:
    """What the work function receives as its first argument; a
    :class:`~cnnlive.jobs.reporter.Reporter`."""

    def __init__(self, job: ContextJob) -> None:
        self._job = job
        self.stopping = job._stop
        self.channels = job.channels

    @property
    def job_id(self) -> int:
        return self._job.id

    @property
    def run_dir(self) -> str | None:
        return self._job.run_dir

    @property
    def end_request(self) -> str | None:
        """The strongest ending asked for so far: None, "stop", "stop-forced"
        (the grace after stop expired), "cancel" or "halt"."""
        return self._job._end_request()

    def publish(self, channel: str, value: Any) -> None:
        """Publish on one of the channels status, metrics, images, log."""
        self.channels.publish(channel, value)

    def progress(self, done: float, total: float | None = None) -> None:
        """Report progress; ``total`` None means unknown."""
        self._job.progress = (float(done), None if total is None else float(total))
        self.channels.publish("status", {"progress": self._job.progress_fraction})

    def keep(self, result: Any) -> None:
        """Keep a partial result: it survives stop, cancel and halt."""
        self._job._partial = result

    @property
    def steering(self) -> Any:
        """The job's :class:`~cnnlive.jobs.steering.Steering` (training requests)."""
        return self._job.steering

    @property
    def pausing(self) -> bool:
        """True while a pause is asked for: the next safe point rests there."""
        return not self._job._gate.is_open()

    def request_stop(self) -> None:
        """The work asks for its own graceful stop (e.g. at the end of an epoch
        after ``job.stop(after="epoch")``)."""
        self._job.stop()

    async def checkpoint(self) -> bool:
        """A safe point: lets other tasks run, waits while the job is paused;
        returns True when stopping."""
        await asyncio.sleep(0)
        await self._job._gate.wait()
        return self.stopping.is_set()

    def poll(self) -> bool:
        """Sync safe point for callbacks (e.g. Keras): runs the job loop once
        (nested), raises CancelledError once the job was cancelled, halted or
        its stop was forced, blocks while the job is paused, returns True when
        a graceful stop was requested."""
        job = self._job
        self._raise_if_ending()
        loop = job._loop
        if loop is not None and loop.is_running() and job._nested:
            try:
                loop.run_until_complete(asyncio.sleep(0))
            except RuntimeError:
                if job._loop_stopped_on_purpose():  # halt, or the escalation after cancel
                    raise asyncio.CancelledError(f"job {job.id}: {job._end_request()}") from None
                raise
        if self._job._gate.wait_sync():  # paused: woken by resume, stop, cancel or halt
            self._raise_if_ending()
        return self.stopping.is_set()

    def _raise_if_ending(self) -> None:
        request = self._job._end_request()
        if request in ("stop-forced", "cancel", "halt"):
            raise asyncio.CancelledError(f"job {self._job.id}: {request}")
