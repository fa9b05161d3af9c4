"""Channels carry what a job publishes to whoever watches it.

Views and the panel transport *pull* at their own rate: they read the latest
value of a channel (latest wins) and the metric history, which is kept
complete up to a cap and then down-sampled by two, so a job that runs for
days holds at most ``cap`` points per series.

A metrics dict is ``{name: number}``. cnnlive's publishers put a point's x
position under :data:`STEP` (``"__step__"``) and its scope (``"batch"`` or
``"epoch"``) under :data:`SCOPE` (``"__scope__"``), so every other key,
``step`` and ``scope`` included, is a metric. A dict without them (older
publishers, ``ctx.publish("metrics", {"loss": l, "step": i})``) gives its
position and scope as ``step`` and ``scope``, as before.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable

CHANNELS = ("status", "metrics", "images", "log")
#: Reserved keys of a metrics dict: the point's x position and its scope (never metrics).
STEP, SCOPE = "__step__", "__scope__"


def point(values: dict[str, Any], step: float, scope: str = "batch") -> dict[str, Any]:
    """A metrics dict to publish: ``values`` (any names) at ``step`` in ``scope``."""
    return {**values, STEP: step, SCOPE: scope}


def metric_items(value: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a published dict, without its position and scope
    (:data:`STEP`/:data:`SCOPE`, or ``step``/``scope`` in a dict without them)."""
    reserved = (STEP, SCOPE) if STEP in value or SCOPE in value else ("step", "scope")
    return {k: v for k, v in value.items() if k not in reserved}


class MetricHistory:
    """Series of (step, value) per metric name, bounded by down-sampling.
    Steps and values are kept in separate lists, so a reader copies a
    series without building a tuple per point."""

    def __init__(self, cap: int = 4000) -> None:
        if cap < 4:
            raise ValueError(f"cap must be >= 4, got {cap}")
        self.cap = cap
        self._steps: dict[str, list[float]] = {}
        self._values: dict[str, list[float]] = {}
        self._stride: dict[str, int] = {}
        self._seen: dict[str, int] = {}

    def add(self, name: str, step: float, value: float) -> None:
        seen = self._seen.get(name, 0)
        self._seen[name] = seen + 1
        stride = self._stride.get(name, 1)
        if seen % stride:
            return
        steps = self._steps.setdefault(name, [])
        values = self._values.setdefault(name, [])
        steps.append(float(step))
        values.append(float(value))
        if len(values) > self.cap:
            del steps[1::2], values[1::2]
            self._stride[name] = stride * 2

    def series(self, name: str) -> list[tuple[float, float]]:
        return list(zip(self._steps.get(name, ()), self._values.get(name, ())))

    def values(self, name: str) -> list[float]:
        """A copy of one series' values."""
        return list(self._values.get(name, ()))

    def steps(self, name: str) -> list[float]:
        """A copy of one series' steps."""
        return list(self._steps.get(name, ()))

    def names(self) -> list[str]:
        return list(self._values)

    def count(self, name: str) -> int:
        """How many points were offered for ``name`` (before down-sampling)."""
        return self._seen.get(name, 0)

    def changes(self, marks: dict[str, tuple[int, int]]) -> dict[str, tuple[bool, list[float], list[float]]]:
        """What each series gained since ``marks`` (``{name: (stride, length)}``
        as last sent, updated here): ``(False, new steps, new values)``, or
        ``(True, all steps, all values)`` for a series new or down-sampled
        since. For a copy elsewhere (:meth:`apply`)."""
        out: dict[str, tuple[bool, list[float], list[float]]] = {}
        for name, values in self._values.items():
            steps, stride, old = self._steps[name], self._stride.get(name, 1), marks.get(name)
            if old is None or old[0] != stride or old[1] > len(values):
                out[name] = (True, list(steps), list(values))
            elif old[1] < len(values):
                out[name] = (False, steps[old[1]:], values[old[1]:])
            marks[name] = (stride, len(values))
        return out

    def apply(self, changes: dict[str, tuple[bool, list[float], list[float]]]) -> None:
        """Take the :meth:`changes` of another history (a copy of it, no down-sampling here)."""
        for name, (reset, steps, values) in changes.items():
            if reset or name not in self._values:
                self._steps[name], self._values[name] = list(steps), list(values)
            else:
                self._steps[name].extend(steps)
                self._values[name].extend(values)


class Channels:
    """The four channels of one job. All methods are thread-safe."""

    def __init__(self, metric_cap: int = 4000, log_lines: int = 2000) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, Any] = {}
        self._stamp: dict[str, float] = {}
        self.version = 0
        self.batch = MetricHistory(metric_cap)
        self.epoch = MetricHistory(metric_cap)
        self._log: deque[str] = deque(maxlen=log_lines)
        self._partial = ""
        self._listeners: list[Callable[[str], None]] = []

    def publish(self, channel: str, value: Any, notify: bool = True) -> None:
        """Publish ``value`` on ``channel`` (one of :data:`CHANNELS`);
        ``notify=False``: the caller calls :meth:`notify` later."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; valid: {', '.join(CHANNELS)}")
        with self._lock:
            if channel == "metrics":
                self._add_metrics(value)
            elif channel == "log":
                self._add_log(str(value))
                value = self._log[-1] if self._log else ""
            self._latest[channel] = value
            self._stamp[channel] = time.monotonic()
            self.version += 1
        if notify:
            self.notify(channel)

    def notify(self, channel: str) -> None:
        """Call the listeners for ``channel`` (outside this object's lock)."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(channel)

    def _add_metrics(self, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise TypeError("metrics must be a dict of name -> number")
        envelope = STEP in value or SCOPE in value
        scope = value.get(SCOPE if envelope else "scope", "batch")
        history = self.epoch if scope == "epoch" else self.batch
        step = value.get(STEP if envelope else "step", history.count(STEP))
        history.add(STEP, step, step)
        for name, number in metric_items(value).items():
            if name != STEP and isinstance(number, (int, float)):
                history.add(name, step, number)

    def _add_log(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        self._log.extend(lines)

    def write(self, text: str) -> int:
        """File-like entry point used for captured ``print`` output."""
        if text:
            self.publish("log", text)
        return len(text)

    def latest(self, channel: str, default: Any = None) -> Any:
        with self._lock:
            return self._latest.get(channel, default)

    def stamp(self, channel: str) -> float | None:
        """Monotonic time of the last publish on ``channel``."""
        with self._lock:
            return self._stamp.get(channel)

    def log_lines(self, last: int | None = None) -> list[str]:
        with self._lock:
            lines = list(self._log) + ([self._partial] if self._partial else [])
        return lines if last is None else lines[-last:]

    def history(self, scope: str = "batch") -> dict[str, list[float]]:
        """Metric history as ``{name: [values]}`` plus the x positions under
        :data:`STEP` (a metric named ``step`` is one like any other)."""
        with self._lock:
            source = self.epoch if scope == "epoch" else self.batch
            out = {STEP: source.steps(STEP)}
            for name in source.names():
                if name != STEP:
                    out[name] = source.values(name)
        return out

    def last(self, name: str, scope: str = "batch") -> float | None:
        """The newest kept value of one metric (None: none yet)."""
        with self._lock:
            values = (self.epoch if scope == "epoch" else self.batch)._values.get(name)
            return values[-1] if values else None

    def names(self, scope: str = "batch") -> list[str]:
        """The metric names of one scope's history (without :data:`STEP`)."""
        with self._lock:
            source = self.epoch if scope == "epoch" else self.batch
            return [n for n in source.names() if n != STEP]

    def values(self, name: str, scope: str = "batch") -> list[float]:
        """One metric's (down-sampled) values, without copying the others."""
        with self._lock:
            source = self.epoch if scope == "epoch" else self.batch
            return source.values(name)

    def changes(self, marks: dict[str, dict[str, tuple[int, int]]]) -> dict[str, Any]:
        """What the metric histories gained since ``marks`` (updated here),
        with the latest metrics: for a copy of these channels in another
        process (:meth:`apply`)."""
        with self._lock:
            latest = self._latest.get("metrics")
            if latest is not None:  # what a view reads of it (plain values: anything else may not pickle)
                latest = {k: v for k, v in latest.items() if isinstance(v, (int, float, str, bool))}
            return {"batch": self.batch.changes(marks.setdefault("batch", {})),
                    "epoch": self.epoch.changes(marks.setdefault("epoch", {})), "metrics": latest}

    def apply(self, changes: dict[str, Any]) -> None:
        """Take :meth:`changes` of other channels (a copy that only views read)."""
        with self._lock:
            self.batch.apply(changes["batch"])
            self.epoch.apply(changes["epoch"])
            if changes["metrics"] is not None:
                self._latest["metrics"] = changes["metrics"]
            self.version += 1

    def subscribe(self, notify: Callable[[str], None]) -> Callable[[], None]:
        """Call ``notify(channel)`` after each publish; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(notify)

        def unsubscribe() -> None:
            with self._lock:
                if notify in self._listeners:
                    self._listeners.remove(notify)

        return unsubscribe
