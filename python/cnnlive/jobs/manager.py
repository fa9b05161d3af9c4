"""The JobManager: starts, lists and ends background jobs."""

from __future__ import annotations

import atexit
import inspect
import itertools
import logging
import threading
import time
from typing import Any, Callable, Coroutine

from .job import Job, check_stop_timeout
from .runfolder import run_folder
from .state import FINISHED, JobRunningError, JobState, UnknownJobError
from .text import Table

log = logging.getLogger("cnnlive")

try:  # IPython's BackgroundJobManager keeps the threads, as in the seed
    from IPython.lib.backgroundjobs import BackgroundJobManager
except ImportError:  # pragma: no cover - plain Python without IPython
    BackgroundJobManager = None  # type: ignore[assignment,misc]


def _in_ipython() -> bool:
    """IPython's BackgroundJobManager needs a running IPython shell."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    return get_ipython() is not None


def default_runs_root() -> str:
    from ..config import config

    return config.runs_folder()


def _forget_background(bg: Any, thread: Any) -> None:
    """Drop a finished thread from IPython's BackgroundJobManager.

    Its own ``remove()`` leaves the job in ``all`` and in the report lists
    (IPython 8 and 9, ``IPython/lib/backgroundjobs.py``), and the thread holds
    ``Job._run`` and so the job: clear every container that can hold it.
    """
    if bg is None or thread is None:
        return
    table = getattr(bg, "all", None)
    num = getattr(thread, "num", None)
    if isinstance(table, dict) and table.get(num) is thread:
        del table[num]
    for name in ("_running", "_completed", "_dead", "_comp_report", "_dead_report"):
        seq = getattr(bg, name, None)
        if isinstance(seq, list):
            seq[:] = [j for j in seq if j is not thread]


class JobManager:
    """Owns all jobs of this process. Thread-safe."""

    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._bg = BackgroundJobManager() if BackgroundJobManager else None
        self._listeners: list[Callable[[str, Job], None]] = []
        self.runs_root: str | None = None
        self._shut_down = False

    # -- starting --------------------------------------------------------
    def start(
        self,
        coro_fn: Callable[..., Coroutine[Any, Any, Any]],
        *args: Any,
        name: str | None = None,
        kind: str = "custom",
        stop_timeout: float | None = None,
        run_dir: str | None = None,
        **kwargs: Any,
    ) -> Job:
        """Run ``coro_fn(ctx, *args, **kwargs)`` in a new background thread
        with its own asyncio loop; return the Job at once. ``stop_timeout``:
        seconds of grace after ``stop()`` before the work is cancelled
        (default ``cnnlive.config.stop_timeout``)."""
        stop_timeout = check_stop_timeout(stop_timeout)
        if not inspect.iscoroutinefunction(coro_fn):
            what = getattr(coro_fn, "__name__", type(coro_fn).__name__)
            raise TypeError(
                f"jobs.start needs an 'async def' function taking ctx first; "
                f"{what!r} is not a coroutine function"
            )
        with self._lock:
            job_id = next(self._ids)
        name = name or getattr(coro_fn, "__name__", "job")
        if run_dir is None:
            run_dir = run_folder(self.runs_root or default_runs_root(), name, job_id)  # made, never taken
        job = Job(job_id, name, kind, coro_fn, args, kwargs, run_dir=run_dir, stop_timeout=stop_timeout)
        with self._lock:
            self._jobs[job_id] = job
        job.add_done_callback(lambda j: self._notify("finished", j))
        self._notify("started", job)
        if self._bg is not None and _in_ipython():
            with self._lock:  # BackgroundJobManager itself is not thread-safe
                job.thread = self._bg.new(job._run, daemon=True)
        else:
            job.thread = threading.Thread(target=job._run, name=f"cnnlive-{job_id}", daemon=True)
            job.thread.start()
        return job

    def register(self, make: Callable[[int], Job]) -> Job:
        """Add a job whose work runs elsewhere (``make(job_id)`` builds it,
        e.g. an attached own-fit job); it is listed and announced like others."""
        with self._lock:
            job_id = next(self._ids)
        job = make(job_id)
        with self._lock:
            self._jobs[job_id] = job
        job.add_done_callback(lambda j: self._notify("finished", j))
        self._notify("started", job)
        return job

    # -- looking up --------------------------------------------------------
    def get(self, job_id: int | Job) -> Job:
        """The job with this id (or the job itself)."""
        if isinstance(job_id, Job):
            return job_id
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, int) else None
            if job is None and isinstance(job_id, str) and job_id.isdigit():
                job = self._jobs.get(int(job_id))
            known = sorted(self._jobs)
        if job is None:
            ids = ", ".join(map(str, known)) or "none"
            raise UnknownJobError(f"unknown job id {job_id!r}; known ids: {ids}")
        return job

    def list(self) -> list[Job]:
        with self._lock:
            return [self._jobs[k] for k in sorted(self._jobs)]

    # -- ending -----------------------------------------------------------
    def stop(self, job_id: int | Job, after: str | None = None) -> str:
        return self.get(job_id).stop(after=after) if after is not None else self.get(job_id).stop()

    def pause(self, job_id: int | Job) -> str:
        return self.get(job_id).pause()

    def resume(self, job_id: int | Job) -> str:
        return self.get(job_id).resume()

    def adjust(self, job_id: int | Job, learning_rate: float | None = None, epochs: int | None = None) -> str:
        return self.get(job_id).adjust(learning_rate=learning_rate, epochs=epochs)

    def cancel(self, job_id: int | Job) -> str:
        return self.get(job_id).cancel()

    def halt(self, job_id: int | Job) -> str:
        return self.get(job_id).halt()

    def remove(self, job_id: int | Job) -> Job:
        """Forget a finished job; a running job raises JobRunningError.

        Drops every reference cnnlive and IPython's BackgroundJobManager hold
        on the job, and the job's own references to its result, kept partial
        result, views and error frames, so a removed training job's model can
        be freed. Variables of your own (``job``, ``model``, ``result``) still
        hold what they hold."""
        job = self.get(job_id)
        if not job.done:
            raise JobRunningError(
                f"job {job.id} is {job.state.value}; stop or cancel it before removing it"
            )
        with self._lock:
            self._jobs.pop(job.id, None)
            _forget_background(self._bg, job.thread)
        job._release()
        self._notify("removed", job)
        return job

    def stop_all(self, timeout: float | None = 5.0, cancel_after: bool = True) -> list[Job]:
        """Stop every running job; cancel those still running after ``timeout``
        seconds (in all), then wait up to ``timeout`` again."""
        running = [j for j in self.list() if not j.done]
        for job in running:
            job.stop()
        _wait_all(running, timeout)
        if cancel_after:
            late = [j for j in running if not j.done]
            for job in late:
                job.cancel()
            _wait_all(late, timeout)
        return running

    def shutdown(self, timeout: float | None = None) -> list[Job]:
        """Kernel shutdown or restart: stop every job (grace), cancel, then
        halt what is left, and join the threads, all within ``timeout``
        seconds (default ``cnnlive.config.shutdown_timeout``). Never hangs;
        returns the jobs whose threads still run (sync code that never yields)."""
        from ..config import config

        budget = float(config.shutdown_timeout if timeout is None else timeout)
        if self._shut_down:  # again at exit after the kernel's shutdown: do not wait twice
            budget = min(budget, 0.2)
        self._shut_down = True
        t0 = time.monotonic()
        running = [j for j in self.list() if not j.done]
        for job in running:
            job.stop()
        _wait_all(running, 0.6 * budget)
        for how, share in (("cancel", 0.8), ("halt", 0.9)):
            late = [j for j in running if not j.done]
            for job in late:
                getattr(job, how)()
            _wait_all(late, max(0.0, t0 + share * budget - time.monotonic()))
        alive, own = [], []
        for job in self.list():
            thread = job.thread
            if getattr(job, "attached", False):  # an own fit runs in the user's thread: never join it
                if not job.done and job.started is not None:
                    own.append(job)
                continue
            if thread is threading.current_thread():
                continue
            if thread is not None and thread.is_alive() and job.done:  # finishing: join it
                thread.join(max(0.0, t0 + budget - time.monotonic()))
            if thread is not None and thread.is_alive():  # stuck in sync code: a daemon, never joined
                alive.append(job)
        if alive:
            log.warning("cnnlive shutdown: %d job thread(s) still run sync code that cannot be interrupted: %s",
                        len(alive), ", ".join(str(j.id) for j in alive))
        if own:  # the user's own code: it ends when that code returns
            log.warning("cnnlive shutdown: %d own fit(s) or loop(s) still run in their caller's thread: %s",
                        len(own), ", ".join(str(j.id) for j in own))
        return alive + own

    # -- reporting ------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        out = []
        for job in self.list():
            frac = job.progress_fraction
            out.append({
                "id": job.id, "name": job.name, "kind": job.kind, "state": job.state.value,
                "progress": "" if frac is None else f"{100 * frac:.0f}%",
                "elapsed": f"{job.elapsed:.1f}s",
                "reason": (getattr(job.result, "reason", None) or "") if job.done else "",  # why it ended early
            })
        return out

    def status(self, file: Any = None) -> Table:
        """A table of all jobs (text, and HTML in a notebook); printed only
        to ``file`` when given (a cell's last line shows it once)."""
        rows = self.rows()
        cols = ["id", "name", "kind", "state", "progress", "elapsed"]
        if not rows:
            text = "No cnnlive jobs."
        else:
            cols = ["id", "name", "kind", "state", "progress", "elapsed"]
            cols += ["reason"] if any(r["reason"] for r in rows) else []
            widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
            line = lambda r: "  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip()  # noqa: E731
            text = "\n".join([line({c: c for c in cols})] + [line(r) for r in rows])
        if file is not None:
            print(text, file=file)
        return Table(text, cols if rows else (), rows)

    # -- listeners (panel transport, widgets) -----------------------------------
    def subscribe(self, fn: Callable[[str, Job], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._listeners:
                    self._listeners.remove(fn)

        return unsubscribe

    def _notify(self, event: str, job: Job) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(event, job)
            except Exception as exc:  # noqa: BLE001 - a broken view must not break jobs
                log.warning("cnnlive: a job listener failed on %r for job %s", event, job.id, exc_info=True)
                job.channels.publish("log", f"a job listener failed: {type(exc).__name__}: {exc}\n")


def _wait_all(jobs: list[Job], timeout: float | None) -> None:
    """Wait for all ``jobs`` with one deadline (None: no limit)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for job in jobs:
        job.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def manager() -> JobManager:
    """The process-wide JobManager."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager()
            atexit.register(_manager.shutdown)
        return _manager


__all__ = ["JobManager", "manager", "FINISHED", "JobState"]
