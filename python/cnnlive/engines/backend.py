"""TensorFlow/Keras import in one place, plus the GPU memory probe."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

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
