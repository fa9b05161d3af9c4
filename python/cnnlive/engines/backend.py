"""TensorFlow/Keras import in one place, plus the GPU memory probe.

TensorFlow's C++ side writes to file descriptor 2 while it loads and finds
its devices (the oneDNN note, "failed call to cuInit" without a GPU); in a
kernel that lands in whatever cell runs. The import therefore runs with fd 2
pointed at a temporary file, and what was written goes to
``logging.getLogger("cnnlive.tensorflow")`` (and to the job's log when a job
thread imports). TensorFlow's Python loggers go to the same place. A
``TF_CPP_MIN_LOG_LEVEL`` the user set is kept; an import that fails raises
with the captured text.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

log = logging.getLogger("cnnlive.tensorflow")
# Quiet unless the user configures logging: without any handler on the way to
# the root, Python's last-resort handler would print warnings into the cell.
log.addHandler(logging.NullHandler())


@contextmanager
def _fd2_to_log() -> Iterator[list[str]]:
    """Send what is written to fd 2 inside to ``log`` (INFO), line by line."""
    lines: list[str] = []
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # a closed or odd stderr
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all: nothing to capture
        yield lines
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            lines.extend(line for line in text.splitlines() if line.strip())
            for line in lines:
                log.info("%s", line)
            _to_job_log(lines)


def _to_job_log(lines: list[str]) -> None:
    """When a job thread imports, its routed stderr is the job's log."""
    sinks = getattr(sys.stderr, "_sinks", None)
    if lines and isinstance(sinks, dict) and threading.get_ident() in sinks:
        sys.stderr.write("".join(f"[tensorflow] {line}\n" for line in lines))


class _Forward(logging.Handler):
    """Re-emit TensorFlow's Python log records under ``cnnlive.tensorflow``."""

    def emit(self, record: logging.LogRecord) -> None:
        log.handle(record)


def _route_python_logs() -> None:
    for name in ("tensorflow", "absl"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _Forward) for h in logger.handlers):
            logger.addHandler(_Forward())
        logger.propagate = False


def _quiet_import() -> tuple[Any, Any]:
    error: Exception | None = None
    with _fd2_to_log() as captured:
        try:
            import keras
            import tensorflow as tf

            tf.config.list_physical_devices()  # device discovery logs too (cuInit)
        except Exception as exc:  # noqa: BLE001 - re-raised below with what TensorFlow wrote
            error = exc
    if error is not None:
        raise ImportError(f"importing TensorFlow failed: {error}\n" + "\n".join(captured)) from error
    _route_python_logs()
    return keras, tf


keras, tf = _quiet_import()

from ..events.gpu import register_gpu_probe  # noqa: E402


def _gpu_memory() -> list[dict[str, Any]]:
    out = []
    for dev in tf.config.list_logical_devices("GPU"):
        info = tf.config.experimental.get_memory_info(dev.name)
        out.append({"name": dev.name.replace("/device:", ""), "used_mb": info["current"] / 2**20,
                    "total_mb": None})
    return out


register_gpu_probe(_gpu_memory)

__all__ = ["keras", "tf"]
