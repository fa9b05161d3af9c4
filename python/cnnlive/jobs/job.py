"""One background job: a thread with its own asyncio loop, a work task and a
stopper task that watches the job's stop event (the seed's design, with the
handles kept on the Job object instead of on a shared function).

How a job ends (``job.ended_by``, see :data:`~cnnlive.jobs.state.ENDINGS`):
the work returns (``completed``, or ``stop`` after a stop request); ``stop()``
gives the work ``stop_timeout`` seconds of grace, then its task is cancelled
(``stop-forced``); ``cancel()`` cancels the task; ``halt()`` stops the loop.
A work that swallows the cancellation gets :data:`ESCALATE_S` more seconds,
then its loop is stopped. Only code that never yields (sync code without
``ctx.poll()``) cannot be interrupted; the job's status note says so.

Steering (see :mod:`cnnlive.jobs.steering`): ``pause()`` closes a gate that
the work's next safe point waits at (state "paused"; elapsed time excludes
the pause); ``resume()`` opens it. ``stop()``, ``cancel()`` and ``halt()``
open the gate too, so they end a paused job; the stop's grace starts when
the stop is asked for, and the work is already woken then, so the grace
never runs out while the work waits in a pause. ``stop(after="epoch")`` and
``adjust(learning_rate=, epochs=)`` pass requests to a training engine.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any, Callable, Coroutine

from ..events import Channels
from .context import JobContext, StopEvent
from .nesting import allow_nesting
from .output import capture_output
from .state import FINISHED, STATE_OF_ENDING, JobState, JobStateError
from .text import Text
from .steering import TRAINING_KINDS, PauseGate, Steering, check_epochs, check_learning_rate, check_stop_after

if TYPE_CHECKING:
    from .watch import JobWatch

log = logging.getLogger("cnnlive")

#: After a cancel (or a forced stop) a work that ignores the cancellation gets
#: this many seconds before its loop is stopped.
ESCALATE_S = 2.0
#: Closing a job's loop waits at most this long for leftover tasks.
CLEANUP_S = 2.0
#: The watchdog that tells about uninterruptible sync code fires this long after the grace.
WATCHDOG_MARGIN_S = 1.0


class ControlLock:
    """The job's control lock: a reentrant lock that runs callbacks queued
    while it is held (status listeners) after its owner releases it, so no
    listener runs under the job's lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: int | None = None
        self._depth = 0
        self._after: list[Callable[[], None]] = []

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._owner, self._depth = threading.get_ident(), self._depth + 1
        return True

    def release(self) -> None:
        self._depth -= 1
        after: list[Callable[[], None]] = []
        if self._depth == 0:
            self._owner, after, self._after = None, self._after, []
        self._lock.release()
        for fn in after:
            try:
                fn()
            except Exception:  # noqa: BLE001 - a broken listener must not break the job or the caller
                log.warning("cnnlive: a job status listener failed", exc_info=True)

    def __enter__(self) -> "ControlLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def after_release(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when this thread releases the lock (now if it does not hold it)."""
        if self._owner == threading.get_ident():
            self._after.append(fn)
        else:
            fn()


def check_stop_timeout(value: Any) -> float:
    """The grace after ``stop()``: ``value`` or ``cnnlive.config.stop_timeout``."""
    if value is None:
        from ..config import config

        return float(config.stop_timeout)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"stop_timeout must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


class Job:
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

    # -- ending a job ---------------------------------------------------
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

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has finished (or ``timeout``); return its state."""
        self._done.wait(timeout)
        return self._state

    # -- steering ----------------------------------------------------------
    def _check_steerable(self, what: str) -> None:
        if self.done:
            raise JobStateError(f"job {self.id} ({self.name}) already {self._state.value}: only a running "
                                f"job can be {what}")

    def _check_training(self, what: str) -> None:
        if self.kind not in TRAINING_KINDS:
            raise JobStateError(f"{what} needs a training job (kind {' or '.join(TRAINING_KINDS)}); job "
                                f"{self.id} ({self.name}) is a {self.kind} job")

    def pause(self) -> str:
        """Pause the work at its next safe point (state "paused") until
        ``resume()``; ``stop()``/``cancel()`` end a paused job. A finished or
        stopping job raises JobStateError."""
        with self._ctl:
            self._check_steerable("paused")
            ending = self._end_request() or (self.steering.stop_after and f"stop after the {self.steering.stop_after}")
            if ending:
                raise JobStateError(f"job {self.id} ({self.name}) is ending ({ending}); it cannot be paused")
            if self._paused_since is not None:
                return f"job {self.id}: already paused"
            with self._state_lock:
                self._paused_since = time.time()
            self._gate.close()
            if self.started is not None:  # "paused" once the work rests at the gate (see _held)
                self._set_state(self._state, "pausing: the work pauses at its next safe point")
        return f"job {self.id}: paused at its next safe point"

    def _held(self) -> None:
        """(the work's thread) The work rests at the pause gate: now it is paused."""
        with self._ctl:
            if self._paused_since is not None and self._state in (JobState.RUNNING, JobState.PENDING):
                self._set_state(JobState.PAUSED, "paused: the work rests at a safe point until resume()")

    def resume(self) -> str:
        """Let a paused job go on. A finished job raises JobStateError."""
        with self._ctl:
            self._check_steerable("resumed")
            if self._paused_since is None:
                return f"job {self.id}: not paused"
            self._unpause()
            if self._state in (JobState.PAUSED, JobState.RUNNING):  # paused, or still pausing
                self._set_state(JobState.RUNNING if self.started is not None else JobState.PENDING, "resumed")
        return f"job {self.id}: resumed"

    def _unpause(self) -> None:
        """(caller holds ``_ctl``) Count the pause and open the gate."""
        with self._state_lock:  # readers (elapsed) see the pause counted once, never twice or not at all
            if self._paused_since is not None:
                self._paused_s = self._pause_total(time.time())
                self._paused_since = None
        self._gate.open()

    def _stop_after(self, after: str) -> str:
        with self._ctl:
            if self.done:
                return f"job {self.id} already {self._state.value}: nothing to stop"
            self._check_training(f"stop(after={after!r})")
            if self._end_request():
                return f"job {self.id}: stop already requested"
            self.steering.stop_after = after
            self._unpause()
            self._set_state(JobState.STOPPING, f"stop requested at the end of the current {after}")
        return f"job {self.id}: stops at the end of the current {after}"

    def adjust(self, learning_rate: float | None = None, epochs: int | None = None) -> str:
        """Change a training job while it runs: ``learning_rate`` from the next
        batch (a schedule continues from the new value), ``epochs`` the total
        epochs of this run (never below the epochs done). Checked before
        anything changes; works while paused (applied on resume)."""
        with self._ctl:
            self._check_steerable("adjusted")
            self._check_training("adjust()")
            if learning_rate is None and epochs is None:
                raise ValueError("adjust() needs learning_rate= and/or epochs=")
            lr = None if learning_rate is None else check_learning_rate(learning_rate)
            steer = self.steering
            n = None if epochs is None else check_epochs(epochs, steer.epochs_done, steer.max_epochs)
            if lr is not None:
                steer.request_learning_rate(lr)
            if n is not None:
                steer.epochs = n
            parts = ([f"learning rate {lr:g} from the next batch"] if lr is not None else []) + (
                [f"{n} epochs in all"] if n is not None else [])
        self.channels.publish("log", f"adjusted: {', '.join(parts)}\n")
        return f"job {self.id}: " + ", ".join(parts)

    def log(self, last: int | None = None) -> Text:
        """The job's captured output (``print`` inside the job and its log);
        a ``str`` that a notebook shows as lines."""
        return Text("\n".join(self.channels.log_lines(last)))

    def watch(self) -> "JobWatch":
        """A read-only watch of this job (channels and status): what views get."""
        from .watch import JobWatch

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


__all__ = ["CLEANUP_S", "ESCALATE_S", "ControlLock", "Job", "JobContext", "StopEvent", "check_stop_timeout"]
