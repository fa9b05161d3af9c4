"""Kernel-side defaults, read from ``CNNLIVE_*`` environment variables and
changeable at run time through ``cnnlive.config``.

| setting        | variable               | default            |
|----------------|------------------------|--------------------|
| ``runs_root``  | ``CNNLIVE_RUNS``       | ``./cnnlive-runs`` |
| ``stop_timeout`` | ``CNNLIVE_STOP_TIMEOUT`` | ``5.0`` s (grace after ``stop()``) |
| ``fps``        | ``CNNLIVE_FPS``        | ``5.0`` frames/s of live figures |
| ``panel_rate`` | ``CNNLIVE_PANEL_RATE`` | ``10.0`` panel updates/s per job |
| ``shutdown_timeout`` | ``CNNLIVE_SHUTDOWN_TIMEOUT`` | ``1.5`` s to end all jobs at kernel shutdown (jupyter_client sends SIGTERM 2.5 s after its shutdown request) |
| ``oip_snapshot_mb`` | ``CNNLIVE_OIP_SNAPSHOT_MB`` | ``64.0`` MB of OIP snapshots kept per search (timeline) |
| ``render_process`` | ``CNNLIVE_RENDER_PROCESS`` | ``True``: a helper process at lower priority draws live dashboards, ipympl and desktop (``0`` draws them in the kernel) |
| ``figure_width`` | ``CNNLIVE_FIGURE_WIDTH`` | ``580`` px: width of live figures (fits a notebook with both JupyterLab sidebars open at 1280 px; ``job.plot(size=(w, h))`` in inches for one figure) |
| ``max_steps`` | ``CNNLIVE_MAX_STEPS`` | none; caps the gradient steps of an OIP search and of each dream stage (fast tests) |

This module imports nothing heavy; every layer may read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any


def _number_env(name: str, default: Any, kind: type = float) -> Any:
    """``kind(os.environ[name])`` when set and non-empty (it must be > 0), else ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {raw!r}")
    return value


def _flag_env(name: str, default: bool) -> bool:
    """``os.environ[name]`` as a yes/no (1/0, true/false, yes/no, on/off), else ``default``."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={raw!r} is not one of 1/0, true/false, yes/no, on/off")


@dataclass
class Config:
    """Process-wide defaults; set attributes to change them for new jobs."""

    runs_root: str | None = None
    stop_timeout: float = 5.0
    fps: float = 5.0
    panel_rate: float = 10.0
    shutdown_timeout: float = 1.5
    oip_snapshot_mb: float = 64.0
    max_steps: int | None = None
    render_process: bool = True
    figure_width: float = 580.0

    @classmethod
    def from_env(cls) -> "Config":
        return cls(
            runs_root=os.environ.get("CNNLIVE_RUNS") or None,
            stop_timeout=_number_env("CNNLIVE_STOP_TIMEOUT", 5.0),
            fps=_number_env("CNNLIVE_FPS", 5.0),
            panel_rate=_number_env("CNNLIVE_PANEL_RATE", 10.0),
            shutdown_timeout=_number_env("CNNLIVE_SHUTDOWN_TIMEOUT", 1.5),
            oip_snapshot_mb=_number_env("CNNLIVE_OIP_SNAPSHOT_MB", 64.0),
            max_steps=_number_env("CNNLIVE_MAX_STEPS", None, int),
            render_process=_flag_env("CNNLIVE_RENDER_PROCESS", True),
            figure_width=_number_env("CNNLIVE_FIGURE_WIDTH", 580.0),
        )

    def runs_folder(self) -> str:
        """The runs folder in force now (``runs_root`` or ./cnnlive-runs)."""
        return self.runs_root or os.path.join(os.getcwd(), "cnnlive-runs")

    def __setattr__(self, name: str, value: Any) -> None:
        known = [f.name for f in fields(self)]
        if name not in known:
            raise AttributeError(f"unknown cnnlive setting {name!r}; settings: {', '.join(known)}")
        if name in ("stop_timeout", "fps", "panel_rate", "shutdown_timeout", "oip_snapshot_mb",
                                                                              "figure_width") and (
                not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0):
            raise ValueError(f"cnnlive.config.{name} must be a number > 0, got {value!r}")
        if name == "max_steps" and value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise ValueError(f"cnnlive.config.max_steps must be None or a whole number > 0, got {value!r}")
        if name == "render_process" and not isinstance(value, bool):
            raise ValueError(f"cnnlive.config.render_process must be True or False, got {value!r}")
        object.__setattr__(self, name, value)

    def capped_steps(self, steps: int) -> int:
        """``steps``, at most ``max_steps`` (when set)."""
        return steps if self.max_steps is None else min(steps, self.max_steps)


config = Config.from_env()

__all__ = ["Config", "config"]
