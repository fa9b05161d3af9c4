"""Rate-capped transport of job state to the JupyterLab side panel.

Jobs publish as fast as they like; one thread here looks at each job's
channels every ``tick`` seconds and sends at most ``rate_hz`` updates per job
per second (latest value wins; the loss history goes as one sparkline).
Images go as PNG bytes in the comm message's buffers. It reads jobs only
through a read-only source (:class:`~cnnlive.events.watch.WatchSource`, the
JobManager in a kernel) and their watches; requests from the panel are
carried out by the surfaces layer, not here.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Callable

from ..events.channels import metric_items
from ..events.watch import Watch, WatchSource, as_watch
from .frames import to_png
from .resources import ResourceMeter

log = logging.getLogger("cnnlive")
Send = Callable[[dict, list], None]
SPARK_POINTS = 100
LOG_LINES = 8


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _sparkline(job: Watch) -> list[float]:
    for scope in ("batch", "epoch"):
        for key in ("loss", "activation", "objective"):
            values = job.channels.values(key, scope)
            if values:
                step = max(1, math.ceil(len(values) / SPARK_POINTS))
                return [float(v) for v in values[::step][-SPARK_POINTS:] if _finite(v)]
    return []


def _own_twins(job: Watch, metrics: dict[str, Any]) -> set[str]:
    """Names a user metric took from cnnlive's series (training keeps its own
    as ``cnnlive_<name>``). Each twin the latest point lacks (an epoch's row
    has no batch time) is added from the batch history, so the panel can
    always tell the user's metric (plain name) from cnnlive's."""
    taken = set()
    for name in job.channels.names("batch"):
        if name.startswith("cnnlive_"):
            taken.add(name[len("cnnlive_"):])
            if name not in metrics:
                last = job.channels.last(name)
                if last is not None:
                    metrics[name] = last
    return taken


def _epoch(metrics: dict[str, Any], result: Any = None, key: str = "epoch") -> dict[str, Any] | None:
    """Epoch (1-based) and total from Keras-style metrics ``epoch`` (or
    ``key``) and ``epochs``; without ``epochs``, the total of the kept
    training result (it follows ``job.adjust(epochs=)``)."""
    current, total = metrics.get(key), metrics.get("epochs")
    if not _finite(current) or current < 0:
        return None
    if not _finite(total):
        total = getattr(result, "epochs_total", None)
    return {"current": int(current) + 1, "total": int(total) if _finite(total) and total >= 1 else None}


def _snapshots(result: Any) -> dict[str, Any] | None:
    """How many snapshots an OIP result keeps (its timeline) and the newest's
    label; None for results without a timeline."""
    count = getattr(result, "snapshot_count", None)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return None
    return {"count": count, "newest": str(getattr(result, "snapshot_newest", ""))[:200]}


def card(source: Any) -> dict[str, Any]:
    """The panel's view of one job (a protocol ``Card``); ``source``: its watch."""
    job = as_watch(source)
    metrics = metric_items(job.channels.latest("metrics") or {})
    status = job.channels.latest("status") or {}
    frac = job.progress_fraction
    result = job.result
    own_epoch = "cnnlive_epoch" if "epoch" in _own_twins(job, metrics) else "epoch"  # the card's epoch
    if own_epoch not in metrics:  # an epoch's row carries no epoch (a job paused at the boundary): the last batch's
        last = job.channels.last(own_epoch)
        metrics = metrics if last is None else {**metrics, own_epoch: last}
    epoch = _epoch(metrics, result, own_epoch)
    snapshots = _snapshots(result)
    return {
        "id": job.id,
        "name": job.name,
        "kind": job.kind,
        "state": job.state.value,
        "progress": None if frac is None else round(frac, 4),
        "elapsed": round(job.elapsed, 2),
        "metrics": {k: float(v) for k, v in metrics.items() if _finite(v) and k not in (own_epoch, "epochs")},
        "sparkline": _sparkline(job),
        "log_tail": [line[:300] for line in job.channels.log_lines(LOG_LINES)],
        "note": status.get("note") if isinstance(status, dict) else None,
        **({"epoch": epoch} if epoch else {}),
        **({"snapshots": snapshots} if snapshots else {}),
    }


class PanelTransport:
    """Sends job cards to the panel at a capped rate on its own thread.

    ``lock`` guards what was sent (pump on the transport thread, snapshots on
    the comm's thread); a snapshot is built and sent under it, so an older
    card never follows a newer snapshot. A job whose card cannot be built is
    reported once (logger ``cnnlive`` and the job's log) and skipped; the
    other cards go on."""

    def __init__(self, manager: WatchSource, send: Send, rate_hz: float = 10.0,
                 tick: float = 0.02, resources_period: float = 2.0) -> None:
        self.manager, self.send = manager, send
        self.min_interval = 1.0 / rate_hz
        self.tick, self.resources_period = tick, resources_period
        self.lock = threading.RLock()
        self._sent_version: dict[int, tuple] = {}
        self._sent_at: dict[int, float] = {}
        self._image_stamp: dict[int, float | None] = {}
        self._known: set[int] = set()
        self._reported: set[tuple[int, str]] = set()
        self._last_loop_error = ""
        self._meter = ResourceMeter()
        self._next_resources = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent_messages = 0

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="cnnlive-panel", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 1.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Look at the jobs now instead of at the next tick."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump()
            except Exception as exc:  # noqa: BLE001 - never let the transport die; say so once per error
                text = f"{type(exc).__name__}: {exc}"
                if text != self._last_loop_error:
                    self._last_loop_error = text
                    log.warning("cnnlive panel transport: %s", text, exc_info=True)
            self._wake.wait(self.tick)
            self._wake.clear()

    def _watches(self) -> list[Watch]:
        return [as_watch(j) for j in self.manager.list()]

    def _emit(self, msg: dict, buffers: list | None = None) -> None:
        self.sent_messages += 1
        self.send(msg, buffers or [])

    def _report(self, job: Watch, what: str, exc: BaseException) -> None:
        """Report a failure for one job once: logger and the job's log."""
        if (job.id, what) in self._reported:
            return
        self._reported.add((job.id, what))
        log.warning("cnnlive panel: the %s of job %s failed; the other cards go on", what, job.id, exc_info=exc)
        job.channels.publish("log", f"panel: the {what} of this job failed ({type(exc).__name__}: {exc}); "
                                    "the other cards go on\n")

    def _cards(self, jobs: list[Watch]) -> list[dict[str, Any]]:
        cards = []
        for job in jobs:
            try:
                cards.append(card(job))
            except Exception as exc:  # noqa: BLE001 - one broken card never stops the others
                self._report(job, "card", exc)
        return cards

    def snapshot(self) -> dict[str, Any]:
        """A full snapshot message (also resets what counts as sent)."""
        with self.lock:
            jobs = self._watches()
            now = time.monotonic()
            for job in jobs:
                self._sent_version[job.id] = (job.channels.version, job.state)
                self._sent_at[job.id] = now
            self._known = {j.id for j in jobs}
            return {"type": "snapshot", "jobs": self._cards(jobs)}

    def send_snapshot(self, send: Callable[[dict], Any]) -> None:
        """Build and send a snapshot under the lock (no older card can follow it)."""
        with self.lock:
            send(self.snapshot())

    def pump(self, now: float | None = None) -> int:
        """Send what changed and is due; returns the number of messages sent."""
        with self.lock:
            return self._pump(time.monotonic() if now is None else now)

    def _pump(self, now: float) -> int:
        sent = 0
        jobs = self._watches()
        ids = {j.id for j in jobs}
        for gone in self._known - ids:
            self._emit({"type": "removed", "id": gone})
            for table in (self._sent_version, self._sent_at, self._image_stamp):
                table.pop(gone, None)
            sent += 1
        self._known = ids
        for job in jobs:
            version = (job.channels.version, job.state)
            if self._sent_version.get(job.id) == version:
                continue
            finished_now = job.done and self._sent_version.get(job.id, (0, None))[1] != job.state
            if not finished_now and now - self._sent_at.get(job.id, -1e9) < self.min_interval:
                continue
            self._sent_version[job.id], self._sent_at[job.id] = version, now
            try:
                msg: dict[str, Any] = {"type": "job", "job": card(job)}
            except Exception as exc:  # noqa: BLE001 - one broken card never stops the others
                self._report(job, "card", exc)
                continue
            buffers: list[bytes] = []
            stamp = job.channels.stamp("images")
            if stamp is not None and stamp != self._image_stamp.get(job.id):
                self._image_stamp[job.id] = stamp
                try:
                    png, w, h, caption = to_png(job.channels.latest("images"))
                    msg["image"] = {"buffer": 0, "width": w, "height": h, "caption": caption}
                    buffers.append(png)
                except Exception as exc:  # noqa: BLE001 - the card goes without its image
                    self._report(job, "image", exc)
            self._emit(msg, buffers)
            sent += 1
        if now >= self._next_resources:
            self._next_resources = now + self.resources_period
            self._emit({"type": "resources", **self._meter.sample()})
            sent += 1
        return sent
