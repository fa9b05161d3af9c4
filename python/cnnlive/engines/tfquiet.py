"""TensorFlow's start-up noise kept out of cells, whoever imports it; this
module does not import TensorFlow.

TensorFlow's C++ side writes to file descriptor 2 while it loads and finds
its devices (absl's "All log messages before absl::InitializeLog() ...",
the oneDNN note, "Could not find cuda drivers", "failed call to cuInit"
without a GPU); in a kernel that lands in whatever cell runs. :func:`quiet`
runs a block with fd 2 pointed at a temporary file and sends what was written
to ``logging.getLogger("cnnlive.tensorflow")`` (and to the job's log when a
job thread imports). :func:`install` (run by ``import cnnlive``) adds an
import hook so that the user's own ``import tensorflow`` (or ``import keras``)
goes the same way: the import, then the device discovery that logs cuInit.
A ``TF_CPP_MIN_LOG_LEVEL`` the user set before the import is kept; an import
that fails raises as usual, its captured text logged at ERROR and added to
the exception's notes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

log = logging.getLogger("cnnlive.tensorflow")
# Quiet unless the user configures logging: without any handler on the way to
# the root, Python's last-resort handler would print warnings into the cell.
log.addHandler(logging.NullHandler())

#: TensorFlow's C++ log level when the user set none: warnings and errors of
#: the C++ side still reach ``cnnlive.tensorflow``, INFO lines are not made
DEFAULT_CPP_LEVEL = "2"


def default_cpp_level() -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL`` unless the user did."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_CPP_LEVEL)


@contextmanager
def quiet() -> Iterator[list[str]]:
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


def route_python_logs() -> None:
    """TensorFlow's and absl's Python loggers go to ``cnnlive.tensorflow``
    only (TensorFlow's own stream handler, which prints to stdout in an
    interactive session, is taken off; the retracing warning used it)."""
    for name in ("tensorflow", "absl"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler:
                logger.removeHandler(handler)
        if not any(isinstance(h, _Forward) for h in logger.handlers):
            logger.addHandler(_Forward())
        logger.propagate = False


def discover_devices(tf: Any) -> None:
    """Device discovery logs too (cuInit); run it while fd 2 is captured."""
    try:
        tf.config.list_physical_devices()
    except Exception as exc:  # noqa: BLE001 - a broken driver must not break the import
        log.warning("TensorFlow device discovery failed: %s", exc)


def _note_failure(exc: BaseException, captured: list[str]) -> None:
    """A failed import: what TensorFlow wrote is shown with the error."""
    if captured:
        log.error("importing TensorFlow failed: %s\n%s", exc, "\n".join(captured))
        if hasattr(exc, "add_note"):
            exc.add_note("\n".join(captured))


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` inside :func:`quiet`."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        default_cpp_level()
        with quiet() as captured:
            try:
                self._loader.exec_module(module)
                discover_devices(module)
            except BaseException as exc:
                _note_failure(exc, captured)
                raise
        route_python_logs()

    def __getattr__(self, name: str) -> Any:  # e.g. get_resource_reader, is_package
        return getattr(self._loader, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders and wraps its loader."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        if fullname != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _QuietFinder) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install() -> bool:
    """Hook the first import of ``tensorflow`` (the user's or cnnlive's);
    False when TensorFlow is loaded already (then only its Python loggers
    are routed)."""
    if "tensorflow" in sys.modules:
        route_python_logs()
        return False
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
    return True


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]


__all__ = ["install", "log", "quiet", "route_python_logs", "uninstall"]
