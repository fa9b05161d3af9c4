"""How a job ends: ``stop()``, ``cancel()`` and ``halt()``, the stop's grace
and its escalation, and the watchdog that tells about code that never yields.

How a job ends (``job.ended_by``, see :data:`~cnnlive.jobs.state.ENDINGS`):
the work returns (``completed``, or ``stop`` after a stop request); ``stop()``
gives the work ``stop_timeout`` seconds of grace, then its task is cancelled
(``stop-forced``); ``cancel()`` cancels the task; ``halt()`` stops the loop.
A work that swallows the cancellation gets :data:`ESCALATE_S` more seconds,
then its loop is stopped. Only code that never yields (sync code without
``ctx.poll()``) cannot be interrupted; the job's status note says so.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from typing import Any, Callable

from .state import JobState
from .steering import check_stop_after

log = logging.getLogger("cnnlive")

#: After a cancel (or a forced stop) a work that ignores the cancellation gets
#: this many seconds before its loop is stopped.
ESCALATE_S = 2.0
#: The watchdog that tells about uninterruptible sync code fires this long after the grace.
WATCHDOG_MARGIN_S = 1.0


def check_stop_timeout(value: Any) -> float:
    """The grace after ``stop()``: ``value`` or ``cnnlive.config.stop_timeout``."""
    if value is None:
        from ..config import config

        return float(config.stop_timeout)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"stop_timeout must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


class Ending:
    """The ending half of :class:`~cnnlive.jobs.job.Job` (a mixin: the job's
    lock, state and loop are the Job's)."""

    def _end_request(self) -> str | None:
        """The strongest ending asked for so far (see JobContext.end_request)."""
        if self._halt_requested:
            return "halt"
        if self._cancel_requested:
            return "cancel"
        if self._forced:
            return "stop-forced"
        return "stop" if self._stop.is_set() else None

    def _loop_stopped_on_purpose(self) -> bool:
        return self._loop_stop_requested

    def stop(self, after: str | None = None) -> str:
        """Graceful stop: set the stop event; the work ends at its next safe
        point and keeps what it has. After ``stop_timeout`` seconds its task is
        cancelled (``ended_by == "stop-forced"``). Idempotent. A paused job is
        woken and stops.

        ``after="epoch"`` (training jobs): end at the end of the current epoch
        (full epoch history, then save); the grace starts there."""
        check_stop_after(after)
        if after is not None:
            return self._stop_after(after)
        with self._ctl:
            if self.done:
                return f"job {self.id} already {self._state.value}: nothing to stop"
            if self._stop.is_set():
                return f"job {self.id}: stop already requested"
            self._stop.set()
            self._unpause()
            self._set_state(JobState.STOPPING, f"stop requested; the work has {self.stop_timeout:g} s to reach "
                                               "a safe point, then it is cancelled")
            if self.thread is not None or self._loop is not None:
                self._watchdog = threading.Timer(self.stop_timeout + WATCHDOG_MARGIN_S, self._grace_over)
                self._watchdog.daemon = True
                self._watchdog.name = f"cnnlive-{self.id}-watchdog"
                self._watchdog.start()
        return f"job {self.id}: stop requested"

    def cancel(self) -> str:
        """Hard stop: cancel the job's work task (thread-safe)."""
        with self._ctl:
            if self.done:
                return f"job {self.id} already {self._state.value}: nothing to cancel"
            self._cancel_requested = True
            self._unpause()
            self._in_loop(self._end_hard)
        return f"job {self.id}: cancel requested"

    def halt(self) -> str:
        """Stop the job's loop (the seed's second method)."""
        with self._ctl:
            if self.done:
                return f"job {self.id} already {self._state.value}: nothing to halt"
            self._halt_requested = True
            self._loop_stop_requested = True  # before the stop can land: poll() reads it
            self._unpause()
            self._in_loop(self._stop_loop)
        return f"job {self.id}: loop stop requested"

    def _in_loop(self, fn: Callable[[], None]) -> bool:
        """Call ``fn`` on the job's loop (caller holds ``_ctl``); False when there is no loop to call."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._closing:
            return False
        try:
            loop.call_soon_threadsafe(fn)
        except RuntimeError:  # closed between the check and the call: the work has ended
            log.debug("job %s: its loop closed before a request arrived", self.id)
            return False
        return True

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop()

    def _end_hard(self) -> None:
        """(job loop) Cancel the work; stop the loop if it ignores that."""
        work = self._work
        if work is None or work.done():
            return
        work.cancel()
        assert self._loop is not None
        self._loop.call_later(ESCALATE_S, self._escalate)

    def _escalate(self) -> None:
        work = self._work
        if work is not None and not work.done():
            self.channels.publish("log", f"the work ignored the cancellation for {ESCALATE_S:g} s; "
                                         "stopping its loop\n")
            self._loop_stop_requested = True
            self._stop_loop()

    async def _watch_stop(self) -> None:
        await self._stop.wait()
        await asyncio.sleep(self.stop_timeout)
        with self._ctl:
            work = self._work
            if work is None or work.done() or self._cancel_requested or self._halt_requested:
                return
            self._forced = True
            self._set_state(JobState.STOPPING, f"stop forced: no safe point within {self.stop_timeout:g} s; "
                                               "cancelling the work")
        log.info("job %s: stop forced after %g s", self.id, self.stop_timeout)
        self._end_hard()

    def _grace_over(self) -> None:
        """(watchdog thread) The stopper never ran: the loop is blocked by sync code."""
        with self._ctl:
            if self.done or self._forced:
                return
            note = (f"stop requested {self.stop_timeout:g} s ago, but the work runs code that never yields "
                    "(sync code without ctx.poll()); it cannot be interrupted and ends when that code returns")
            self._set_state(JobState.STOPPING, note)
        self.channels.publish("log", note + "\n")
        log.warning("job %s: %s", self.id, note)


__all__ = ["ESCALATE_S", "WATCHDOG_MARGIN_S", "Ending", "check_stop_timeout"]
