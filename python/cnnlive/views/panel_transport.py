"""Rate-capped transport of job state to the JupyterLab side panel.

Jobs publish as fast as they like; one thread here looks at each job's
channels every ``tick`` seconds and sends at most ``rate_hz`` updates per job
per second (latest value wins; the loss history goes as one sparkline).
Images go as PNG bytes in the comm message's buffers.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable

from ..jobs import Job, JobManager
from .frames import to_png
from .resources import ResourceMeter

Send = Callable[[dict, list], None]
SPARK_POINTS = 100
LOG_LINES = 8


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _sparkline(job: Job) -> list[float]:
    for scope in ("batch", "epoch"):
        for key in ("loss", "activation", "objective"):
            values = job.channels.values(key, scope)
            if values:
                step = max(1, math.ceil(len(values) / SPARK_POINTS))
                return [float(v) for v in values[::step][-SPARK_POINTS:] if _finite(v)]
    return []


def _epoch(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Epoch (1-based) and total from Keras-style metrics ``epoch``/``epochs``."""
    current, total = metrics.get("epoch"), metrics.get("epochs")
    if not _finite(current) or current < 0:
        return None
    return {"current": int(current) + 1, "total": int(total) if _finite(total) and total >= 1 else None}


def card(job: Job) -> dict[str, Any]:
    """The panel's view of one job (a protocol ``Card``)."""
    metrics = job.channels.latest("metrics") or {}
    status = job.channels.latest("status") or {}
    frac = job.progress_fraction
    epoch = _epoch(metrics)
    return {
        "id": job.id,
        "name": job.name,
        "kind": job.kind,
        "state": job.state.value,
        "progress": None if frac is None else round(frac, 4),
        "elapsed": round(job.elapsed, 2),
        "metrics": {k: float(v) for k, v in metrics.items() if _finite(v) and k != "step"},
        "sparkline": _sparkline(job),
        "log_tail": [line[:300] for line in job.channels.log_lines(LOG_LINES)],
        "note": status.get("note") if isinstance(status, dict) else None,
        **({"epoch": epoch} if epoch else {}),
    }


class PanelTransport:
    """Sends job cards to the panel at a capped rate on its own thread."""

    def __init__(self, manager: JobManager, send: Send, rate_hz: float = 10.0,
                 tick: float = 0.02, resources_period: float = 2.0) -> None:
        self.manager, self.send = manager, send
        self.min_interval = 1.0 / rate_hz
        self.tick, self.resources_period = tick, resources_period
        self._sent_version: dict[int, tuple] = {}
        self._sent_at: dict[int, float] = {}
        self._image_stamp: dict[int, float | None] = {}
        self._known: set[int] = set()
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

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump()
            except Exception:  # noqa: BLE001 - never let the transport die
                pass
            self._wake.wait(self.tick)
            self._wake.clear()

    def _emit(self, msg: dict, buffers: list | None = None) -> None:
        self.sent_messages += 1
        self.send(msg, buffers or [])

    def snapshot(self) -> dict[str, Any]:
        """A full snapshot message (also resets what counts as sent)."""
        jobs = self.manager.list()
        now = time.monotonic()
        for job in jobs:
            self._sent_version[job.id] = (job.channels.version, job.state)
            self._sent_at[job.id] = now
        self._known = {j.id for j in jobs}
        return {"type": "snapshot", "jobs": [card(j) for j in jobs]}

    def pump(self, now: float | None = None) -> int:
        """Send what changed and is due; returns the number of messages sent."""
        now = time.monotonic() if now is None else now
        sent = 0
        jobs = self.manager.list()
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
            msg: dict[str, Any] = {"type": "job", "job": card(job)}
            buffers: list[bytes] = []
            stamp = job.channels.stamp("images")
            if stamp is not None and stamp != self._image_stamp.get(job.id):
                self._image_stamp[job.id] = stamp
                try:
                    png, w, h, caption = to_png(job.channels.latest("images"))
                    msg["image"] = {"buffer": 0, "width": w, "height": h, "caption": caption}
                    buffers.append(png)
                except (ValueError, TypeError):
                    pass
            self._emit(msg, buffers)
            sent += 1
        if now >= self._next_resources:
            self._next_resources = now + self.resources_period
            self._emit({"type": "resources", **self._meter.sample()})
            sent += 1
        return sent
