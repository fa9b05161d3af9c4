"""Route what a job thread prints to the job's log instead of the cell that
happens to be running. One router per stream is installed on first use; it
looks up the writing thread and falls back to the original stream."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Protocol


class _Sink(Protocol):
    def write(self, text: str) -> int: ...


class _ThreadRouter:
    """A stand-in for sys.stdout/sys.stderr that routes by thread."""

    def __init__(self, original: Any) -> None:
        self._original = original
        self._sinks: dict[int, _Sink] = {}

    def _target(self) -> Any:
        return self._sinks.get(threading.get_ident(), self._original)

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        target = self._target()
        if hasattr(target, "flush"):
            target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


_lock = threading.Lock()


def _router(name: str) -> _ThreadRouter:
    with _lock:
        stream = getattr(sys, name)
        if not isinstance(stream, _ThreadRouter):
            stream = _ThreadRouter(stream)
            setattr(sys, name, stream)
        return stream


@contextmanager
def capture_output(sink: _Sink) -> Iterator[None]:
    """Send this thread's stdout and stderr to ``sink`` while inside."""
    routers = [_router("stdout"), _router("stderr")]
    ident = threading.get_ident()
    for r in routers:
        r._sinks[ident] = sink
    try:
        yield
    finally:
        for r in routers:
            r._sinks.pop(ident, None)
