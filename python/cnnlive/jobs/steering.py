"""Steering a running job: the pause gate its safe points wait at, and the
requests a training engine reads at its batch and epoch boundaries.

The job sets these from any thread; the work reads them at its safe points
(``ctx.poll()`` / ``ctx.checkpoint()``, a training callback's batch and
epoch hooks). Nothing here imports an engine.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from typing import Any

log = logging.getLogger("cnnlive")

#: Job kinds that train a model (``cl.train`` and an own ``fit`` with LiveCallback).
TRAINING_KINDS = ("train", "fit")
#: Values of ``job.stop(after=...)``: None ends at the next safe point.
STOP_AFTER = (None, "epoch")


class PauseGate:
    """Open while the work may run; closed while the job is paused.

    Sync safe points block in :meth:`wait_sync` (a threading event), async
    ones await :meth:`wait`; :meth:`open` wakes both."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        #: Set while the work waits at a safe point (the pause has taken hold).
        self.holding = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        #: Called (in the work's thread) when the work starts to rest at the gate.
        self.on_hold: Any = None

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._event = loop, asyncio.Event()

    def is_open(self) -> bool:
        return self._open.is_set()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        """Let the work go on (thread-safe, idempotent)."""
        self._open.set()
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop closed between the check and the call
                log.debug("pause gate opened after the job's loop closed")

    def _hold(self) -> None:
        if self.on_hold is not None:  # first: whoever waits on holding sees the state "paused"
            self.on_hold()
        self.holding.set()

    def wait_sync(self) -> bool:
        """Block while closed; True when it had to wait."""
        if self._open.is_set():
            return False
        self._hold()
        try:
            self._open.wait()
        finally:
            self.holding.clear()
        return True

    async def wait(self) -> bool:
        """(job loop) Wait while closed; True when it had to wait."""
        waited = False
        while not self._open.is_set():
            if self._event is None:  # not bound to a loop: fall back to the sync wait
                return self.wait_sync()
            self._event.clear()
            if self._open.is_set():  # opened between the check and the clear
                break
            waited = True
            self._hold()
            try:
                await self._event.wait()
            finally:
                self.holding.clear()
        return waited


class Steering:
    """What a training engine is asked to change; written by the job, read by
    the engine (:class:`cnnlive.engines.training.callback.LiveCallback`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._learning_rate: float | None = None
        #: Total epochs this run should train (None: as given to fit/train).
        self.epochs: int | None = None
        #: "epoch": end at the end of the current epoch.
        self.stop_after: str | None = None
        #: Reported by the engine: epochs finished so far in this run.
        self.epochs_done = 0
        #: Reported by the engine: the most epochs this run can reach (an own fit
        #: cannot go beyond the epochs given to fit); None: no limit.
        self.max_epochs: int | None = None

    def request_learning_rate(self, value: float) -> None:
        with self._lock:
            self._learning_rate = value

    def take_learning_rate(self) -> float | None:
        """The learning rate asked for since the last call (once), or None."""
        with self._lock:
            value, self._learning_rate = self._learning_rate, None
        return value

    @property
    def pending_learning_rate(self) -> float | None:
        return self._learning_rate


def check_learning_rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0, got {value!r}")
    return float(value)


def check_epochs(value: Any, done: int, most: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {value!r}")
    if value < done:
        raise ValueError(f"epochs={value} is below the {done} epoch(s) already done; "
                         f"give a number >= {done}")
    if most is not None and value > most:
        raise ValueError(f"epochs={value} is more than this fit can run: an own model.fit ends after the "
                         f"{most} epoch(s) given to fit; give a number from {done} to {most}")
    return value


def check_stop_after(after: Any) -> str | None:
    if after not in STOP_AFTER:
        raise ValueError(f"unknown stop after={after!r}; valid: None (the next safe point), 'epoch' "
                         "(the end of the current epoch, training jobs only)")
    return after


__all__ = ["STOP_AFTER", "TRAINING_KINDS", "PauseGate", "Steering", "check_epochs", "check_learning_rate",
           "check_stop_after"]
