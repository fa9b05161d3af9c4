"""The job's control lock."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger("cnnlive")

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


__all__ = ["ControlLock"]
