"""CPU, RAM and GPU memory of the kernel (the seeds' overview), as numbers
and as small live graphs with a short history.

GPU memory: the whole device's used and total memory from NVML
(``nvidia-ml-py``, the ``[gpu]`` extra) when it loads; otherwise the
per-process figures of the probes that engines register (TensorFlow's
allocator, total unknown)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Any

from ..events.gpu import gpu_memory

log = logging.getLogger("cnnlive")
_nvml_lock = threading.Lock()
_nvml: Any = None  # the pynvml module once initialised, False when unavailable


def _nvml_module() -> Any:
    global _nvml
    with _nvml_lock:
        if _nvml is None:
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml = pynvml
            except Exception as exc:  # noqa: BLE001 - not installed, no driver, no GPU
                log.debug("NVML not available: %s", exc)
                _nvml = False
        return _nvml


def nvml_memory() -> list[dict[str, Any]] | None:
    """Used and total memory of every GPU from NVML, or None without NVML."""
    nv = _nvml_module()
    if not nv:
        return None
    try:
        out = []
        for i in range(nv.nvmlDeviceGetCount()):
            info = nv.nvmlDeviceGetMemoryInfo(nv.nvmlDeviceGetHandleByIndex(i))
            out.append({"name": f"GPU:{i}", "used_mb": info.used / 2**20, "total_mb": info.total / 2**20})
        return out
    except Exception as exc:  # noqa: BLE001
        log.debug("NVML query failed: %s", exc)
        return None


class ResourceMeter:
    """Samples the current process; cheap enough to call a few times a second."""

    def __init__(self) -> None:
        try:
            import psutil

            self._proc = psutil.Process(os.getpid())
            self._proc.cpu_percent(None)
        except Exception as exc:  # noqa: BLE001 - psutil missing or not permitted
            log.debug("no process meter: %s", exc)
            self._proc = None

    def sample(self) -> dict[str, Any]:
        cpu = rss = 0.0
        if self._proc is not None:
            try:
                cpu = float(self._proc.cpu_percent(None))
                rss = self._proc.memory_info().rss / 2**20
            except Exception as exc:  # noqa: BLE001
                log.debug("process meter failed: %s", exc)
        gpus = nvml_memory()
        if gpus is None:
            gpus = gpu_memory()
        return {"cpu_percent": round(cpu, 1), "rss_mb": round(rss, 1), "gpus": gpus}


class ResourceHistory:
    """The last ``keep`` samples, at most one per ``every`` seconds."""

    def __init__(self, keep: int = 240, every: float = 1.0, meter: ResourceMeter | None = None) -> None:
        self.meter = meter or ResourceMeter()
        self.every = every
        self.t: deque[float] = deque(maxlen=keep)
        self.cpu: deque[float] = deque(maxlen=keep)
        self.ram: deque[float] = deque(maxlen=keep)
        self.gpu: deque[float] = deque(maxlen=keep)
        self.gpu_total: float | None = None
        self.latest: dict[str, Any] = {"cpu_percent": 0.0, "rss_mb": 0.0, "gpus": []}
        self._t0 = time.monotonic()

    def sample(self) -> bool:
        """Take a sample if ``every`` has passed; True when one was added."""
        now = time.monotonic() - self._t0
        if self.t and now - self.t[-1] < self.every:
            return False
        r = self.meter.sample()
        self.latest = r
        self.t.append(now)
        self.cpu.append(r["cpu_percent"])
        self.ram.append(r["rss_mb"])
        self.gpu.append(sum(g["used_mb"] for g in r["gpus"]))
        totals = [g.get("total_mb") for g in r["gpus"]]
        self.gpu_total = sum(totals) if totals and all(totals) else None
        return True

    def state(self) -> dict[str, Any]:
        """The samples so far, their clock and the latest one (for a copy elsewhere: :meth:`restore`)."""
        return {"age": time.monotonic() - self._t0, "latest": self.latest, "gpu_total": self.gpu_total,
                "series": [list(d) for d in (self.t, self.cpu, self.ram, self.gpu)]}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from another history's :meth:`state` (same clock, same samples)."""
        self._t0 = time.monotonic() - state["age"]
        self.latest, self.gpu_total = state["latest"], state["gpu_total"]
        for mine, theirs in zip((self.t, self.cpu, self.ram, self.gpu), state["series"]):
            mine.clear()
            mine.extend(theirs)

    def text(self) -> str:
        r = self.latest
        gpu = "".join(f" · {g['name']} {g['used_mb']:.0f}"
                      + (f"/{g['total_mb']:.0f}" if g.get("total_mb") else "") + " MB" for g in r["gpus"])
        return f"CPU {r['cpu_percent']:.0f}% · RAM {r['rss_mb']:.0f} MB{gpu}"


class ResourceGraphs:
    """Three small axes (CPU %, RAM MB, GPU MB) in a figure, fed by a
    :class:`ResourceHistory`; y limits only grow, so most frames blit."""

    def __init__(self, fig: Any, rect: tuple[float, float, float, float], history: ResourceHistory | None = None):
        self.history = history or ResourceHistory()
        x0, y0, width, height = rect
        w = width / 3
        self.axes, self.lines, self.limits = [], [], [100.0, 1.0, 1.0]
        for i, label in enumerate(("kernel CPU %", "kernel RAM MB", "GPU memory MB")):
            ax = fig.add_axes((x0 + i * w + 0.04, y0, w - 0.07, height))
            ax.set_title(label, fontsize=7, pad=2)
            ax.tick_params(labelsize=6, length=2)
            ax.set_xticks([])
            line, = ax.plot([], [], lw=1.0, color=("#1f77b4", "#2ca02c", "#9467bd")[i])
            self.axes.append(ax)
            self.lines.append(line)
        self._no_gpu = False
        self.window = max(1.0, self.history.every * (self.history.t.maxlen or 240))
        for ax, top in zip(self.axes, self.limits):
            ax.set_xlim(0, min(30.0, self.window))
            ax.set_ylim(0, top)

    def update(self) -> list[Any]:
        """Refresh the lines; the axes whose limits or title changed (to redraw)."""
        h = self.history
        if not h.sample() and self.lines[0].get_xdata() is not None and len(self.lines[0].get_xdata()):
            return []  # no new sample: lines unchanged (and not redrawn)
        t = list(h.t)
        changed: list[Any] = []
        if t and not h.latest["gpus"] and not self._no_gpu:
            self._no_gpu = True
            self.axes[2].set_title("GPU memory MB (no GPU seen)", fontsize=7, pad=2)
            changed.append(self.axes[2])
        t_max = t[-1] if t else 0.0
        for i, (line, series) in enumerate(zip(self.lines, (h.cpu, h.ram, h.gpu))):
            line.set_data(t, list(series))
            top = max(series, default=0.0)
            if i == 2 and h.gpu_total:
                top = h.gpu_total
            if top > self.limits[i] or (i == 2 and h.gpu_total and self.limits[i] != h.gpu_total):
                self.limits[i] = top if (i == 2 and h.gpu_total) else max(top * 1.3, 1.0)
                self.axes[i].set_ylim(0, self.limits[i])
                changed.append(self.axes[i])
            lo, hi = self.axes[i].get_xlim()
            if t_max > hi:  # double the span up to the window, then slide by a quarter
                if lo == 0 and 2 * hi <= self.window:
                    self.axes[i].set_xlim(0, 2 * hi)
                else:
                    self.axes[i].set_xlim(t_max - 0.75 * self.window, t_max + 0.25 * self.window)
                changed.append(self.axes[i])
        return list(dict.fromkeys(changed))
