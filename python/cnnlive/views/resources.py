"""CPU, RAM and GPU memory of the kernel process (the seeds' overview)."""

from __future__ import annotations

import logging
import os
from typing import Any

from ..events.gpu import gpu_memory

log = logging.getLogger("cnnlive")


class ResourceMeter:
    """Samples the current process; cheap enough to call a few times a second."""

    def __init__(self) -> None:
        try:
            import psutil

            self._proc = psutil.Process(os.getpid())
            self._proc.cpu_percent(None)
        except Exception:  # noqa: BLE001 - psutil missing or not permitted
            log.info("cnnlive: CPU/RAM of the kernel are not available", exc_info=True)
            self._proc = None

    def sample(self) -> dict[str, Any]:
        cpu = rss = 0.0
        if self._proc is not None:
            try:
                cpu = float(self._proc.cpu_percent(None))
                rss = self._proc.memory_info().rss / 2**20
            except Exception:  # noqa: BLE001 - e.g. permission denied: show zeros
                log.debug("cnnlive: sampling CPU/RAM failed", exc_info=True)
        gpus = gpu_memory()
        return {"cpu_percent": round(cpu, 1), "rss_mb": round(rss, 1), "gpus": gpus}
