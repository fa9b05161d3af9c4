"""CPU, RAM and GPU memory of the kernel process (the seeds' overview)."""

from __future__ import annotations

import os
from typing import Any

from ..events.gpu import gpu_memory


class ResourceMeter:
    """Samples the current process; cheap enough to call a few times a second."""

    def __init__(self) -> None:
        try:
            import psutil

            self._proc = psutil.Process(os.getpid())
            self._proc.cpu_percent(None)
        except Exception:  # noqa: BLE001 - psutil missing or not permitted
            self._proc = None

    def sample(self) -> dict[str, Any]:
        cpu = rss = 0.0
        if self._proc is not None:
            try:
                cpu = float(self._proc.cpu_percent(None))
                rss = self._proc.memory_info().rss / 2**20
            except Exception:  # noqa: BLE001
                pass
        gpus = gpu_memory()
        return {"cpu_percent": round(cpu, 1), "rss_mb": round(rss, 1), "gpus": gpus}
