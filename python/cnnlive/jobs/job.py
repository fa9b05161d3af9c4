"""One background job: a thread with its own asyncio loop, a work task and a
stopper task that watches the job's stop event (the seed's design, with the
handles kept on the Job object instead of on a shared function).

The Job's lifecycle (start, run, outcome, finish, removal) is here; how it
ends (stop, cancel, halt, escalation, watchdog) is :mod:`cnnlive.jobs.ending`'s,
its steering (pause, resume, ``stop(after=)``, adjust) :mod:`cnnlive.jobs.steered`'s.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
from typing import Any, Callable, Coroutine

from ..events import Channels
from .context import JobContext, StopEvent
from .ending import Ending, check_stop_timeout
from .lock import ControlLock
from .nesting import allow_nesting
from .output import capture_output
from .state import FINISHED, STATE_OF_ENDING, JobState
from .text import Text
from .steered import Steered
from .steering import PauseGate, Steering
from .watch import JobWatch

log = logging.getLogger("cnnlive")

#: Closing a job's loop waits at most this long for leftover tasks.
CLEANUP_S = 2.0


class Job(Ending, Steered):
    """Handle of a background job; every method is thread-safe."""

    def __init__(
        self,
        job_id: int,
        name: str,
        kind: str,
        coro_fn: Callable[..., Coroutine[Any, Any, Any]],
        args: tuple = (),
        kwargs: dict | None = None,
        run_dir: str | None = None,
        stop_timeout: float | None = None,
    ) -> None:
        self.id, self.name, self.kind = job_id, name, kind
        self.run_dir = run_dir
        self.stop_timeout = check_stop_timeout(stop_timeout)
        self.channels = Channels()
        self.progress: tuple[float, float | None] = (0.0, None)
        self.error: str | None = None
        self.exception: BaseException | None = None
        self.ended_by: str | None = None
        self.removed = False
        self.views: list[Any] = []
        self._fn: Any = coro_fn
        self._args, self._kwargs = args, kwargs or {}
        self._stop = StopEvent()
        self._state = JobState.PENDING
        self._state_lock = threading.Lock()
        self._ctl = ControlLock()  # orders requests against the start and the end of the work
        self._done = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._work: asyncio.Task | None = None
        self._stopper: asyncio.Task | None = None
        self._nested = False
        self._cancel_requested = False
        self._halt_requested = False
        self._forced = False
        self._loop_stop_requested = False
        self._closing = False
        self._watchdog: threading.Timer | None = None
        self._fail_note: str | None = None
        self._result: Any = None
        self._partial: Any = None
        self.thread: threading.Thread | None = None
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self._on_finish: list[Callable[["Job"], None]] = []
        self._gate = PauseGate()
        self._gate.on_hold = self._held
        self.steering = Steering()
        self._paused_s = 0.0
        self._paused_since: float | None = None

    # -- public state -------------------------------------------------
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def done(self) -> bool:
        return self._state in FINISHED

    @property
    def result(self) -> Any:
        """The work's return value, or the last kept partial result."""
        return self._result if self._result is not None else self._partial

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    @property
    def elapsed(self) -> float:
        """Seconds the work has run (pauses excluded)."""
        if self.started is None:
            return 0.0
        end = self.finished or time.time()
        with self._state_lock:  # both pause fields at once (resume() moves one into the other)
            paused = self._pause_total(end)
        return max(0.0, end - self.started - paused)

    def _pause_total(self, now: float) -> float:
        """(caller holds ``_state_lock``) Seconds paused up to ``now``."""
        total, since = self._paused_s, self._paused_since
        if since is not None and self.started is not None:
            total += max(0.0, now - max(since, self.started))
        return total

    @property
    def progress_fraction(self) -> float | None:
        done, total = self.progress
        if not total:
            return None
        return max(0.0, min(1.0, done / total))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name!r} {self.kind} {self._state.value}>"

    def _set_state(self, state: JobState, note: str | None = None) -> None:
        """Set the state; its status is stored in order with it, and the
        status listeners are called once the job's lock is released."""
        with self._state_lock:
            if self._state in FINISHED:
                return
            self._state = state
            self.channels.publish("status", {"state": state.value, "note": note}, notify=False)
        self._ctl.after_release(lambda: self.channels.notify("status"))

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has finished (or ``timeout``); return its state."""
        self._done.wait(timeout)
        return self._state

    def log(self, last: int | None = None) -> Text:
        """The job's captured output (``print`` inside the job and its log);
        a ``str`` that a notebook shows as lines."""
        return Text("\n".join(self.channels.log_lines(last)))

    def watch(self) -> "JobWatch":
        """A read-only watch of this job (channels and status): what views get."""
        return JobWatch(self)

    def plot(self, fps: float | None = None, size: tuple[float, float] | None = None) -> Any:
        """Show the job's live figure (a dashboard for training, images else).
        The figure gets a read-only watch of the job; the job keeps the view
        in ``job.views`` (``remove()`` frees it). ``size``: (width, height) in
        inches (default ``cnnlive.config.figure_width`` pixels wide)."""
        from . import viewers

        view = viewers.show(self.watch(), fps, size)
        with self._ctl:
            self.views.append(view)
        return view

    def save_plots(self, folder: str) -> list[str]:
        """Write the job's figures as PNG files into ``folder``."""
        from . import viewers

        return viewers.save(self.watch(), list(self.views), folder)

    def add_done_callback(self, fn: Callable[["Job"], None]) -> None:
        with self._state_lock:
            if self._state not in FINISHED:
                self._on_finish.append(fn)
                return
        fn(self)

    # -- running (inside the job thread) -------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._nested = allow_nesting(loop)
        self.started = time.time()
        ending, note, result = "error", None, None
        with capture_output(self.channels):
            try:
                work = self._start_work(loop)
                failure = self._drive(loop, work) if isinstance(work, asyncio.Task) else work
                ending, note, result = self._outcome(work if isinstance(work, asyncio.Task) else None, failure)
            except BaseException as exc:  # noqa: BLE001 - a fault in the job layer fails the job, not the kernel
                ending = self._fail(exc)
                log.error("job %s: the job layer failed", self.id, exc_info=True)
            finally:
                self._close_loop(loop)
        self._finish(ending, note, result)

    def _start_work(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task | BaseException | None:
        """Create the work and stopper tasks unless a cancel or halt came first
        (atomically with respect to cancel() and halt())."""
        with self._ctl:
            self._loop = loop
            self._stop._bind(loop)
            self._gate._bind(loop)
            if self._cancel_requested or self._halt_requested:
                return None
            try:
                coro = self._fn(JobContext(self), *self._args, **self._kwargs)
                self._work = loop.create_task(coro)
            except Exception as exc:  # noqa: BLE001 - e.g. wrong arguments: the job fails, the kernel lives
                return exc
            self._stopper = loop.create_task(self._watch_stop())
            self._set_state(JobState.STOPPING if self._stop.is_set() or self.steering.stop_after else
                            JobState.RUNNING)
            return self._work

    @staticmethod
    def _drive(loop: asyncio.AbstractEventLoop, work: asyncio.Task) -> BaseException | None:
        """Run the loop until the work ends or the loop is stopped (halt)."""
        try:
            loop.run_until_complete(work)
        except BaseException as exc:  # noqa: BLE001 - the outcome is read from the task (see _outcome)
            return exc
        return None

    def _outcome(self, work: asyncio.Task | None, failure: BaseException | None) -> tuple[str, str | None, Any]:
        """(ended_by, note, result) from what happened to the work task and the requests on record."""
        request = self._end_request()
        hard = request if request in ("stop-forced", "cancel", "halt") else None
        if work is None:
            if failure is not None:
                return self._fail(failure), None, None
            return request or "cancel", f"{request} before the work started", None
        if not work.done():  # the loop stopped under the work
            if hard is not None:
                return hard, self._note(hard), None
            if isinstance(failure, RuntimeError):
                return "halt", "the work stopped its own loop", None
            return self._fail(failure or RuntimeError("the job loop ended before its work")), None, None
        if work.cancelled():
            return hard or "cancel", self._note(hard) if hard else "the work raised CancelledError", None
        exc = work.exception()
        if exc is not None:
            return self._fail(exc), None, None
        ending = "stop" if self._stop.is_set() else "completed"
        note = f"{hard} requested, but the work finished first" if hard and hard != "stop-forced" else None
        return ending, note or (self._note(ending) if ending == "stop" else None), work.result()

    def _note(self, ending: str) -> str:
        return {
            "stop": "stopped at a safe point",
            "stop-forced": f"stop forced: the work did not reach a safe point within {self.stop_timeout:g} s "
                           "and was cancelled; kept results are in job.result",
            "cancel": "cancelled",
            "halt": "loop stopped (halt)",
        }[ending]

    def _fail(self, exc: BaseException) -> str:
        self.exception = exc
        self.error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.channels.publish("log", self.error)
        self._fail_note = f"{type(exc).__name__}: {exc}"
        return "error"

    def _finish(self, ending: str, note: str | None, result: Any) -> None:
        with self._ctl:
            self._result = result
            self.ended_by = ending
            self.finished = time.time()
            self._unpause()
            self._fn, self._args, self._kwargs = None, (), {}
            self._work = self._stopper = None
            if self._watchdog is not None:
                self._watchdog.cancel()
            if ending == "error":
                note = self._fail_note
            elif ending == "completed" and note is None:  # e.g. "converged at step 80 of 200"
                note = getattr(result, "reason", None)
            self._set_state(STATE_OF_ENDING[ending], note)
        with self._state_lock:
            callbacks, self._on_finish = self._on_finish, []
        self._done.set()
        for fn in callbacks:
            try:
                fn(self)
            except Exception:  # noqa: BLE001 - a listener must not break the job
                self.channels.publish("log", traceback.format_exc())
                log.warning("job %s: a done callback failed", self.id, exc_info=True)

    def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._ctl:
            self._closing = True
        try:
            loop.stop()  # documented: stop() then run_forever() runs one iteration;
            loop.run_forever()  # this also clears a stop left by halt()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                _, stuck = loop.run_until_complete(asyncio.wait(pending, timeout=CLEANUP_S))
                if stuck:
                    text = f"{len(stuck)} task(s) ignored cancellation and were abandoned"
                    self.channels.publish("log", text + "\n")
                    log.warning("job %s: %s", self.id, text)
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception as exc:  # noqa: BLE001 - report, then close the loop anyway
            self.channels.publish("log", f"closing the job's loop failed: {type(exc).__name__}: {exc}\n")
            log.warning("job %s: closing its loop failed", self.id, exc_info=True)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    # -- removal -------------------------------------------------------
    def _release(self) -> None:
        """Drop what a removed job holds: its result, kept partial result,
        views and the frames of its error's traceback."""
        with self._ctl:
            self.removed = True
            self._result = self._partial = None
            self.views = []
            seen: set[int] = set()
            exc = self.exception
            while exc is not None and id(exc) not in seen:
                seen.add(id(exc))
                if exc.__traceback__ is not None:
                    traceback.clear_frames(exc.__traceback__)
                    exc.__traceback__ = None
                exc = exc.__cause__ or exc.__context__


__all__ = ["CLEANUP_S", "ControlLock", "Job", "JobContext", "StopEvent", "check_stop_timeout"]
