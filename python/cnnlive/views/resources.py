"""CPU, RAM and GPU memory of the kernel process (the seeds' overview)."""

from __future__ import annotations

import os
from typing import Any, Callable

GpuProbe = Callable[[], "list[dict[str, Any]]"]
_gpu_probes: list[GpuProbe] = []


def register_gpu_probe(probe: GpuProbe) -> None:
    """Engines register a probe that lists GPUs as dicts with name, used_mb,
    total_mb; views stay free of TensorFlow."""
    if probe not in _gpu_probes:
        _gpu_probes.append(probe)


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
        gpus: list[dict[str, Any]] = []
        for probe in list(_gpu_probes):
            try:
                gpus.extend(probe())
            except Exception:  # noqa: BLE001
                continue
        return {"cpu_percent": round(cpu, 1), "rss_mb": round(rss, 1), "gpus": gpus}
