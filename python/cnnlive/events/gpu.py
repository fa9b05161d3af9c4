"""A neutral registry for GPU memory probes: engines (which know TensorFlow)
register one, views (which must not import TensorFlow) call them."""

from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger("cnnlive")

GpuProbe = Callable[[], "list[dict[str, Any]]"]
_probes: list[GpuProbe] = []
_failed: set[int] = set()


def register_gpu_probe(probe: GpuProbe) -> None:
    if probe not in _probes:
        _probes.append(probe)


def gpu_memory() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for probe in list(_probes):
        try:
            out.extend(probe())
        except Exception:  # noqa: BLE001 - one broken probe must not hide the others; said once per probe
            if id(probe) not in _failed:
                _failed.add(id(probe))
                log.warning("cnnlive: GPU memory probe %r failed", probe, exc_info=True)
            continue
    return out
