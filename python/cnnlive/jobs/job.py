"""One background job: a thread with its own asyncio loop, a work task and a
stopper task that watches the job's stop event (the seed's design, with the
handles kept on the Job object instead of on a shared function)."""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from typing import Any, Callable, Coroutine

from ..events import Channels
from .nesting import allow_nesting
from .output import capture_output
from .state import FINISHED, JobState


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
            except RuntimeError:  # loop closed between the check and the call
                pass

    def is_set(self) -> bool:
        return self._flag.is_set()

    __bool__ = is_set

    async def wait(self) -> None:
        if self._event is None:
            raise RuntimeError("the stop event is bound when the job starts")
        await self._event.wait()


class JobContext:
    """What the work function receives as its first argument; a
    :class:`~cnnlive.jobs.reporter.Reporter`."""

    def __init__(self, job: "Job") -> None:
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
        """The strongest ending asked for so far: None, "stop", "stop-forced",
        "cancel" or "halt" (see :class:`cnnlive.jobs.reporter.Reporter`)."""
        job = self._job
        if job._halt_requested:
            return "halt"
        if job._cancel_requested:
            return "cancel"
        return "stop" if job._stop.is_set() else None

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

    async def checkpoint(self) -> bool:
        """A safe point: lets other tasks run; returns True when stopping."""
        await asyncio.sleep(0)
        return self.stopping.is_set()

    def poll(self) -> bool:
        """Sync safe point for callbacks (e.g. Keras): runs the job loop once
        (nested), raises CancelledError if the job was cancelled or halted,
        returns True when a graceful stop was requested."""
        loop = self._job._loop
        if loop is not None and loop.is_running() and self._job._nested:
            loop.run_until_complete(asyncio.sleep(0))
        if self._job._cancel_requested or self._job._halt_requested:
            raise asyncio.CancelledError("job cancelled")
        return self.stopping.is_set()


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
        self.channels = Channels()
        self.progress: tuple[float, float | None] = (0.0, None)
        self.error: str | None = None
        self.exception: BaseException | None = None
        self.ended_by: str | None = None
        self.views: list[Any] = []
        self._fn, self._args, self._kwargs = coro_fn, args, kwargs or {}
        self._stop = StopEvent()
        self._stop_timeout = stop_timeout
        self._state = JobState.PENDING
        self._state_lock = threading.Lock()
        self._done = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._work: asyncio.Task | None = None
        self._stopper: asyncio.Task | None = None
        self._nested = False
        self._cancel_requested = False
        self._halt_requested = False
        self._result: Any = None
        self._partial: Any = None
        self.thread: threading.Thread | None = None
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self._on_finish: list[Callable[["Job"], None]] = []

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
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started

    @property
    def progress_fraction(self) -> float | None:
        done, total = self.progress
        if not total:
            return None
        return max(0.0, min(1.0, done / total))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name!r} {self.kind} {self._state.value}>"

    def _set_state(self, state: JobState, note: str | None = None) -> None:
        with self._state_lock:
            if self._state in FINISHED:
                return
            self._state = state
        self.channels.publish("status", {"state": state.value, "note": note})

    # -- ending a job ---------------------------------------------------
    def stop(self) -> str:
        """Graceful stop: set the stop event; the work ends at its next safe
        point and keeps what it has. Idempotent; returns what happened."""
        if self.done:
            return f"job {self.id} already {self._state.value}: nothing to stop"
        first = not self._stop.is_set()
        self._stop.set()
        if first:
            self._set_state(JobState.STOPPING, "stop requested; waiting for the work to reach a safe point")
            return f"job {self.id}: stop requested"
        return f"job {self.id}: stop already requested"

    def cancel(self) -> str:
        """Hard stop: cancel the job's asyncio tasks through the loop's
        thread-safe call."""
        if self.done:
            return f"job {self.id} already {self._state.value}: nothing to cancel"
        self._cancel_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            for task in (self._work, self._stopper):
                if task is not None:
                    try:
                        loop.call_soon_threadsafe(task.cancel)
                    except RuntimeError:
                        pass
        return f"job {self.id}: cancel requested"

    def halt(self) -> str:
        """Stop the job's loop (the seed's second method)."""
        if self.done:
            return f"job {self.id} already {self._state.value}: nothing to halt"
        self._halt_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass
        return f"job {self.id}: loop stop requested"

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has finished (or ``timeout``); return its state."""
        self._done.wait(timeout)
        return self._state

    def log(self, last: int | None = None) -> str:
        """The job's captured output (``print`` inside the job and its log)."""
        return "\n".join(self.channels.log_lines(last))

    def plot(self, fps: float | None = None) -> Any:
        """Show the job's live figure (a dashboard for training, images else)."""
        from . import viewers

        return viewers.show(self, fps)

    def save_plots(self, folder: str) -> list[str]:
        """Write the job's figures as PNG files into ``folder``."""
        from . import viewers

        return viewers.save(self, folder)

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
        self._loop = loop
        self._stop._bind(loop)
        self.started = time.time()
        final, note = JobState.COMPLETED, None
        try:
            with capture_output(self.channels):
                if self._cancel_requested or self._halt_requested:
                    raise asyncio.CancelledError()
                self._set_state(JobState.STOPPING if self._stop.is_set() else JobState.RUNNING)
                ctx = JobContext(self)
                self._work = loop.create_task(self._fn(ctx, *self._args, **self._kwargs))
                self._stopper = loop.create_task(self._watch_stop())
                self._result = loop.run_until_complete(self._work)
        except asyncio.CancelledError:
            final = JobState.CANCELLED
        except RuntimeError as exc:
            if self._halt_requested and "stopped before" in str(exc):
                final, note = JobState.STOPPED, "loop stopped (halt)"
                self.ended_by = "halt"
            else:
                final, note = self._fail(exc)
        except BaseException as exc:  # noqa: BLE001 - the job must never kill the kernel
            final, note = self._fail(exc)
        else:
            if self._cancel_requested:
                final = JobState.CANCELLED
            elif self._stop.is_set():
                final = JobState.STOPPED
        finally:
            self._close_loop(loop)
        if final is JobState.CANCELLED:
            self.ended_by = "cancel"
        elif final is JobState.STOPPED and self.ended_by is None:
            self.ended_by = "stop"
        self.finished = time.time()
        self._set_state(final, note)
        with self._state_lock:
            callbacks, self._on_finish = self._on_finish, []
        self._done.set()
        for fn in callbacks:
            try:
                fn(self)
            except Exception:  # noqa: BLE001
                self.channels.publish("log", traceback.format_exc())

    def _fail(self, exc: BaseException) -> tuple[JobState, str]:
        self.exception = exc
        self.error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.channels.publish("log", self.error)
        return JobState.FAILED, f"{type(exc).__name__}: {exc}"

    async def _watch_stop(self) -> None:
        await self._stop.wait()
        if self._stop_timeout is not None:
            await asyncio.sleep(self._stop_timeout)
            if self._work is not None and not self._work.done():
                self._cancel_requested = True
                self._work.cancel()

    def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception:  # noqa: BLE001
            pass
        finally:
            asyncio.set_event_loop(None)
            loop.close()
