"""A neutral registry for GPU memory probes: engines (which know TensorFlow)
register one, views (which must not import TensorFlow) call them."""

from __future__ import annotations

from typing import Any, Callable

GpuProbe = Callable[[], "list[dict[str, Any]]"]
_probes: list[GpuProbe] = []


def register_gpu_probe(probe: GpuProbe) -> None:
    if probe not in _probes:
        _probes.append(probe)


def gpu_memory() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for probe in list(_probes):
        try:
            out.extend(probe())
        except Exception:  # noqa: BLE001
            continue
    return out
