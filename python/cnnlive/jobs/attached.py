"""Attached jobs: a Job whose work runs in the caller's thread (an own
``model.fit`` with :class:`cnnlive.LiveCallback`), not in a job thread.

The work drives the job through :meth:`AttachedJob.begin` and
:meth:`AttachedJob.finish`; stop, cancel and halt only set flags that the
work reads at its next safe point (:meth:`AttachedContext.poll`). Cancel and
halt raise :class:`FitCancelled` there, so the caller's call (``fit``) ends
with that exception, without end-of-epoch work. A stop or cancel asked for
before the work begins applies to it at its first batch.

The :class:`FrameWatch` ends a job failed when the code it runs in (a
``fit`` frame, a hand-written loop's function) is left by an exception that
no hook saw; a return leaves the job as it is.
"""

from __future__ import annotations

import asyncio
import dis
import logging
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any, Callable

from .context import JobContext
from .job import Job
from .state import JobState

log = logging.getLogger("cnnlive")


class FitCancelled(asyncio.CancelledError):
    """Raised from an attached job's safe point after cancel or halt."""


async def _not_run(ctx: Any) -> None:  # the work of an attached job runs in its caller
    return None


class AttachedContext(JobContext):
    """The :class:`~cnnlive.jobs.reporter.Reporter` of an attached job: a
    JobContext whose stop flag, ending and kept result live on the AttachedJob."""

    def __init__(self, job: "AttachedJob") -> None:
        super().__init__(job)
        self.stopping = job.stop_flag

    @property
    def end_request(self) -> str | None:
        return self._job.end_request

    def keep(self, result: Any) -> None:
        self._job.kept = result

    def poll(self) -> bool:
        """Raise FitCancelled after cancel/halt (ending the job first); wait
        while paused; True once a stop was requested."""
        self._job._gate.wait_sync()  # paused: woken by resume, stop, cancel or halt
        end = self._job.end_request
        if end in ("cancel", "halt"):
            self._job.finish(JobState.CANCELLED if end == "cancel" else JobState.STOPPED, end,
                             "cancelled at a batch" if end == "cancel" else "halted at a batch")
            raise FitCancelled(f"job {self._job.id} ({self._job.name}): {end} requested")
        return self._job.stop_flag.is_set()

    async def checkpoint(self) -> bool:
        await asyncio.sleep(0)
        return self.poll()


class AttachedJob(Job):
    """A Job (kind "fit" by default) whose work runs in the caller's thread."""

    attached = True  # its thread is the user's: shutdown never joins it

    def __init__(self, job_id: int, name: str, kind: str = "fit", run_dir: str | None = None) -> None:
        super().__init__(job_id, name, kind, _not_run, run_dir=run_dir)
        self.stop_flag = threading.Event()
        self.end_request: str | None = None
        self.kept: Any = None
        self.on_stop: Callable[[], None] | None = None  # e.g. set the fitting model's stop_training
        self.ctx = AttachedContext(self)
        self._finished = threading.Event()
        self._ending = False
        self._callbacks: list[Callable[[Job], None]] = []
        self._lock = threading.Lock()

    @property
    def result(self) -> Any:
        return self.kept

    def _release(self) -> None:
        """remove(): also drop the kept result and the fit's stop hook."""
        super()._release()
        self.kept, self.on_stop = None, None

    # -- driven by the work (caller's thread) ---------------------------------
    def begin(self) -> None:
        """The work has started."""
        self.started = time.time()
        self.thread = threading.current_thread()
        self._set_state(JobState.STOPPING if self.stop_flag.is_set() else JobState.RUNNING,
                        "stop requested before the fit; it ends after its first batch" if self.stop_flag.is_set()
                        else "pausing: the fit pauses at its next batch" if self.paused else None)

    def end_with(self, exc: BaseException | None, where: str = "the fit") -> None:
        """The work raised ``exc`` (None: an exception cnnlive did not see):
        an interrupt or a cancellation ends the job cancelled, anything else
        failed with that error."""
        if isinstance(exc, FitCancelled) and self.done:
            return
        if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
            self.finish(JobState.CANCELLED, "cancel", f"interrupted: {type(exc).__name__}")
        elif exc is None:
            self.finish(JobState.FAILED, "error", f"{where} ended with an exception")
        else:
            self.exception = exc
            self.finish(JobState.FAILED, "error", f"{type(exc).__name__}: {exc}",
                        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))

    def finish(self, state: JobState, ended_by: str, note: str | None = None, error: str | None = None) -> None:
        """The work has ended (idempotent: the first call wins)."""
        with self._lock:
            if self._ending:
                return
            self._ending = True
        frame_watch.release(self)
        with self._ctl:  # no pause can slip in between the wake-up and the final state
            self.ended_by, self.error = ended_by, error
            self.finished = time.time()
            self._unpause()
        if error:
            self.channels.publish("log", error)
        self._set_state(state, note)
        with self._lock:
            callbacks, self._callbacks = self._callbacks, []
            self._finished.set()  # last: wait() returns with the final state already set
        for fn in callbacks:
            try:
                fn(self)
            except Exception:  # noqa: BLE001 - a listener must not break the caller's fit
                log.debug("attached job %s: a done callback failed", self.id, exc_info=True)

    # -- the Job surface -----------------------------------------------------
    def _end_request(self) -> str | None:
        return self.end_request

    def stop(self, after: str | None = None) -> str:
        """Stop after the current batch (``after="epoch"``: at the end of the
        current epoch); a paused fit is woken and stops."""
        from .steering import check_stop_after

        if check_stop_after(after) is not None:
            return self._stop_after(after)
        if self.done:
            return f"job {self.id} already {self.state.value}: nothing to stop"
        first = not self.stop_flag.is_set()
        self.stop_flag.set()
        self.end_request = self.end_request or "stop"
        with self._ctl:
            self._unpause()
        if self.on_stop is not None and self.state is not JobState.PENDING:
            self.on_stop()
        if not first:
            return f"job {self.id}: stop already requested"
        if self.state is JobState.PENDING:
            return f"job {self.id}: stop requested; the fit has not begun: its next fit ends after its first batch"
        if self.state in (JobState.RUNNING, JobState.PAUSED):
            self._set_state(JobState.STOPPING, "stop requested; the fit ends after the current batch")
        return f"job {self.id}: stop requested"

    def _end_now_or_later(self, what: str) -> str:
        if self.done:
            return f"job {self.id} already {self.state.value}: nothing to {what}"
        self.end_request = what
        with self._ctl:
            self._unpause()
        if self.state is JobState.PENDING:  # the fit has not begun: its first batch ends it
            return (f"job {self.id}: {what} requested; the fit has not begun: its next fit ends at its first "
                    "batch and raises FitCancelled")
        return f"job {self.id}: {what} requested; the fit ends at its next batch"

    def cancel(self) -> str:
        return self._end_now_or_later("cancel")

    def halt(self) -> str:
        return self._end_now_or_later("halt")

    def wait(self, timeout: float | None = None) -> JobState:
        self._finished.wait(timeout)
        return self.state

    def add_done_callback(self, fn: Callable[[Job], None]) -> None:
        with self._lock:
            if not self._finished.is_set():
                self._callbacks.append(fn)
                return
        fn(self)


#: How often the frame watch looks whether the code an attached job runs in still runs.
WATCH_EVERY_S = 0.2
_RETURNS = {dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap}


def _on_stack(top: FrameType | None, frame: FrameType) -> bool:
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


def _returned(frame: FrameType) -> bool:
    """True when a frame that left the stack returned (its last instruction
    was a return), False when an exception unwound it."""
    try:
        return frame.f_code.co_code[frame.f_lasti] in _RETURNS
    except (IndexError, ValueError):
        return False


def _raised_through(frame: FrameType, current: Any, also: tuple[FrameType, ...] = ()) -> BaseException | None:
    """The exception that unwound ``frame``: the thread's current one, or the
    last one an interactive shell showed (``sys.last_value``), if its
    traceback passes through ``frame`` or one of ``also`` (the fit's caller:
    Keras filters the ``fit`` frame out of its tracebacks)."""
    for exc in (current[1] if isinstance(current, tuple) else current, getattr(sys, "last_exc", None),
                getattr(sys, "last_value", None)):
        tb = getattr(exc, "__traceback__", None)
        while tb is not None:
            if tb.tb_frame is frame or any(tb.tb_frame is f for f in also):
                return exc
            tb = tb.tb_next
    return None


class FrameWatch:
    """Ends an attached job when the code it runs in (an own ``fit``, the
    function of a hand-written loop) was left by an exception that no hook of
    cnnlive saw: one daemon thread looks every :data:`WATCH_EVERY_S` seconds
    whether each anchored frame is still on its thread's stack."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anchors: dict[int, tuple[AttachedJob, int, FrameType, str, tuple[FrameType, ...]]] = {}
        self._thread: threading.Thread | None = None

    def anchor(self, job: "AttachedJob", frame: FrameType, where: str, also: tuple[FrameType, ...] = (),
               keep: bool = False) -> None:
        """Watch ``frame`` (running in this thread) for ``job``; an exception
        whose traceback passes through it or ``also`` fails the job. ``keep``:
        an anchor the job has that is still on this thread's stack stays (a
        loop's outermost frame is watched, not the helper calling a hook)."""
        tid = threading.get_ident()
        with self._lock:
            old = self._anchors.get(job.id)
            if keep and old is not None and old[0] is job and old[1] == tid and _on_stack(sys._getframe(1), old[2]):
                return
            self._anchors[job.id] = (job, tid, frame, where, also)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cnnlive-attached-watch", daemon=True)
                self._thread.start()

    def release(self, job: "AttachedJob") -> None:
        with self._lock:
            self._anchors.pop(job.id, None)

    def check(self) -> None:
        """One look at every anchor (the thread's loop body)."""
        with self._lock:
            items = list(self._anchors.values())
        if not items:
            return
        frames, excs = sys._current_frames(), sys._current_exceptions()
        for job, tid, frame, where, also in items:
            if not job.done and _on_stack(frames.get(tid), frame):
                continue
            with self._lock:
                if self._anchors.get(job.id, (None,))[0] is job and self._anchors[job.id][2] is frame:
                    del self._anchors[job.id]
            if job.done or _returned(frame):
                continue  # ended, or a hand-written loop's function returned: its next hook anchors again
            job.end_with(_raised_through(frame, excs.get(tid), also), where)
        del frames

    def _run(self) -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            self.check()
            with self._lock:
                if not self._anchors:
                    self._thread = None
                    return


#: The process's watch of attached jobs' frames.
frame_watch = FrameWatch()


def attach(name: str, kind: str = "fit", run_dir: str | None = None) -> AttachedJob:
    """Register a new attached job with the process's JobManager."""
    from .manager import manager

    job = manager().register(lambda job_id: AttachedJob(job_id, name, kind, run_dir))
    assert isinstance(job, AttachedJob)
    return job


__all__ = ["AttachedContext", "AttachedJob", "FitCancelled", "FrameWatch", "attach", "frame_watch"]
