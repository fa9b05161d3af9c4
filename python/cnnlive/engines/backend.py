"""TensorFlow/Keras import in one place, plus the GPU memory probe.

The import runs inside :func:`.tfquiet.quiet`: what TensorFlow's C++ side
writes to fd 2 while it loads and finds its devices goes to
``logging.getLogger("cnnlive.tensorflow")``, and so do its Python loggers.
A ``TF_CPP_MIN_LOG_LEVEL`` the user set is kept; an import that fails raises
with the captured text.
"""

from __future__ import annotations

from typing import Any

from .tfquiet import default_cpp_level, discover_devices, install, log, quiet, route_python_logs

default_cpp_level()


def _quiet_import() -> tuple[Any, Any]:
    error: Exception | None = None
    install()  # the user's own import of TensorFlow goes the same way
    with quiet() as captured:
        try:
            import keras
            import tensorflow as tf

            discover_devices(tf)  # device discovery logs too (cuInit)
        except Exception as exc:  # noqa: BLE001 - re-raised below with what TensorFlow wrote
            error = exc
    if error is not None:
        raise ImportError(f"importing TensorFlow failed: {error}\n" + "\n".join(captured)) from error
    route_python_logs()
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
