"""Live figures fed by background jobs.

Jobs only publish; one renderer thread updates each figure at a capped rate
(default 5 Hz). One lock per figure covers artist updates and drawing, so
ipympl's own draw requests (possibly on another thread) never see a
half-updated figure. With ipympl the renderer draws in its thread and pushes
the image (``canvas.draw()`` then the manager's ``refresh_all()``); with a
desktop backend it flushes the GUI events; with Agg figures can be saved.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from ..jobs import Job
from .frames import as_image_array
from .resources import ResourceMeter

DEFAULT_FPS = 5.0


def _backend() -> str:
    import matplotlib

    return matplotlib.get_backend().lower()


def _smooth(values: list[float], k: int = 20) -> np.ndarray:
    v = np.asarray(values, float)
    if len(v) < 2:
        return v
    out = np.empty_like(v)
    acc = v[0]
    alpha = 2.0 / (k + 1)
    for i, x in enumerate(v):
        acc = alpha * x + (1 - alpha) * acc
        out[i] = acc
    return out


class View:
    """A figure bound to a job; ``update`` reads the job's channels."""

    def __init__(self, job: Job, fig: Any) -> None:
        self.job, self.fig = job, fig
        self.lock = threading.RLock()
        self.version = -1
        self.closed = False
        self.frames = 0
        fig.canvas.mpl_connect("close_event", lambda _e: setattr(self, "closed", True))
        self._meter = ResourceMeter()

    def update(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def resources_text(self) -> str:
        r = self._meter.sample()
        gpu = "".join(f" · {g['name']} {g['used_mb']:.0f} MB" for g in r["gpus"])
        return f"CPU {r['cpu_percent']:.0f}% · RAM {r['rss_mb']:.0f} MB{gpu}"

    def render(self) -> None:
        """Update artists and draw, under the figure's lock."""
        with self.lock:
            self.update()
            canvas = self.fig.canvas
            canvas.draw()
            manager = getattr(canvas, "manager", None)
            if manager is not None and hasattr(manager, "refresh_all"):
                manager.refresh_all()  # ipympl: push the new image to the front end
            elif "agg" not in _backend() or _backend().startswith(("qt", "tk", "gtk", "wx", "macosx")):
                canvas.flush_events()  # desktop backends: the seeds' flush workaround
        self.frames += 1


class TrainingDashboard(View):
    """Loss and accuracy per batch (raw and smoothed) and per epoch with
    validation, learning rate, samples/s, and a resource line."""

    def __init__(self, job: Job) -> None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(9, 5.5))
        super().__init__(job, fig)
        (self.ax_loss, self.ax_acc), (self.ax_lr, self.ax_speed) = axes
        self.lines: dict[str, Any] = {}
        for ax, key, label in ((self.ax_loss, "loss", "loss"), (self.ax_acc, "accuracy", "accuracy")):
            self.lines[f"b_{key}"], = ax.plot([], [], lw=0.6, alpha=0.35, label="batch")
            self.lines[f"s_{key}"], = ax.plot([], [], lw=1.4, label="batch (smoothed)")
            self.lines[f"e_{key}"], = ax.plot([], [], "o-", lw=1.2, label="epoch")
            self.lines[f"v_{key}"], = ax.plot([], [], "s--", lw=1.2, label="validation")
            ax.set_title(label, fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.legend(fontsize=7)
        self.lines["lr"], = self.ax_lr.plot([], [], lw=1.2)
        self.ax_lr.set_title("learning rate", fontsize=9)
        self.lines["speed"], = self.ax_speed.plot([], [], lw=0.8)
        self.ax_speed.set_title("samples / s", fontsize=9)
        self.status = fig.text(0.01, 0.005, "", fontsize=8)
        fig.tight_layout(rect=(0, 0.03, 1, 1))

    def update(self) -> None:
        batch, epoch = self.job.channels.history("batch"), self.job.channels.history("epoch")
        steps = int(self.job.result.epochs_done) if hasattr(self.job.result, "epochs_done") else 0
        n = len(batch.get("loss", []))
        per_epoch = max(1, n // max(1, len(epoch.get("step", [])) or 1)) if n else 1
        x = np.arange(n) / per_epoch if n else np.array([])
        if "epoch" in batch and len(batch["epoch"]) == n and n:
            e = np.asarray(batch["epoch"])
            frac = np.zeros(n)
            for ep in np.unique(e):
                idx = np.flatnonzero(e == ep)
                frac[idx] = ep + (np.arange(len(idx)) + 1) / max(len(idx), 1)
            x = frac
        for key in ("loss", "accuracy"):
            raw = batch.get(key, [])
            self.lines[f"b_{key}"].set_data(x[: len(raw)], raw)
            self.lines[f"s_{key}"].set_data(x[: len(raw)], _smooth(raw))
            ex = epoch.get("step", [])
            self.lines[f"e_{key}"].set_data(ex[: len(epoch.get(key, []))], epoch.get(key, []))
            self.lines[f"v_{key}"].set_data(ex[: len(epoch.get(f"val_{key}", []))], epoch.get(f"val_{key}", []))
        self.lines["lr"].set_data(x[: len(batch.get("lr", []))], batch.get("lr", []))
        self.lines["speed"].set_data(x[: len(batch.get("samples_per_s", []))], _smooth(batch.get("samples_per_s", [])))
        for ax in (self.ax_loss, self.ax_acc, self.ax_lr, self.ax_speed):
            ax.relim()
            ax.autoscale_view()
        frac = self.job.progress_fraction
        self.status.set_text(f"job {self.job.id} {self.job.name}: {self.job.state.value}"
                             f"{'' if frac is None else f' · {100 * frac:.0f}%'} · epochs {steps} · "
                             f"{self.resources_text()}")


class ImageView(View):
    """The latest published image, plain and contrast-enhanced side by side."""

    def __init__(self, job: Job, cmap: str = "gray") -> None:
        import matplotlib.pyplot as plt

        fig, (self.ax_plain, self.ax_contrast) = plt.subplots(1, 2, figsize=(9, 4.6))
        super().__init__(job, fig)
        self.cmap = cmap
        blank = np.zeros((2, 2))
        self.im_plain = self.ax_plain.imshow(blank, cmap=cmap)
        self.im_contrast = self.ax_contrast.imshow(blank, cmap=cmap)
        for ax, label in ((self.ax_plain, "plain"), (self.ax_contrast, "contrast")):
            ax.set_title(label, fontsize=9)
            ax.axis("off")
        self.status = fig.text(0.01, 0.01, "", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))

    def update(self) -> None:
        from ..views.frames import to_uint8

        value = self.job.channels.latest("images")
        if value is not None:
            arr, caption = as_image_array(value)
            plain = to_uint8(arr)
            enhanced = to_uint8(arr, contrast=2.0)
            for im, data in ((self.im_plain, plain), (self.im_contrast, enhanced)):
                im.set_data(data)
                im.set_extent((-0.5, data.shape[1] - 0.5, data.shape[0] - 0.5, -0.5))
                im.set_clim(0, 255)
            self.ax_plain.set_title(f"{caption} (plain)", fontsize=9)
        frac = self.job.progress_fraction
        self.status.set_text(f"job {self.job.id} {self.job.name}: {self.job.state.value}"
                             f"{'' if frac is None else f' · {100 * frac:.0f}%'} · {self.resources_text()}")


class Renderer:
    """One thread that renders all live views at most ``fps`` times a second."""

    def __init__(self, fps: float = DEFAULT_FPS) -> None:
        self.fps = fps
        self.views: list[View] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, view: View) -> None:
        with self._lock:
            self.views.append(view)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="cnnlive-render", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            t0 = time.monotonic()
            with self._lock:
                views = list(self.views)
            if not views:
                return
            for view in views:
                self.render_once(view)
            time.sleep(max(0.0, 1.0 / self.fps - (time.monotonic() - t0)))

    def render_once(self, view: View) -> None:
        version = (view.job.channels.version, view.job.state)
        finished = view.job.done
        if view.closed:
            self._drop(view)
            return
        if version != view.version:
            view.version = version
            try:
                view.render()
            except Exception:  # noqa: BLE001 - a broken figure stops rendering, never the job
                self._drop(view)
                return
        if finished and version == view.version:
            self._drop(view)

    def _drop(self, view: View) -> None:
        with self._lock:
            if view in self.views:
                self.views.remove(view)


_renderer: Renderer | None = None


def renderer() -> Renderer:
    global _renderer
    if _renderer is None:
        _renderer = Renderer()
    return _renderer


def make_view(job: Job) -> View:
    return TrainingDashboard(job) if job.kind == "train" else ImageView(job)


def show(job: Job, fps: float | None = None) -> View:
    """Create the job's figure here (main thread), display it, render it live."""
    view = make_view(job)
    job.views.append(view)
    backend = _backend()
    if "ipympl" in backend or "widget" in backend:
        from IPython.display import display

        display(view.fig.canvas)
    elif "inline" in backend:
        print("cnnlive: the inline backend shows a snapshot only; run %matplotlib widget for live plots "
              f"(job.plot() shows the current state of job {job.id}).")
        with view.lock:
            view.update()
        from IPython.display import display

        display(view.fig)
        import matplotlib.pyplot as plt

        plt.close(view.fig)
        return view
    if fps:
        renderer().fps = fps
    renderer().add(view)
    return view


def save_plots(job: Job, folder: str) -> list[str]:
    """Write the job's figures (or a fresh one) as PNG files."""
    import os

    os.makedirs(folder, exist_ok=True)
    views = job.views or [make_view(job)]
    paths = []
    for i, view in enumerate(views):
        with view.lock:
            view.update()
            path = os.path.join(folder, f"job{job.id}-{job.kind}-{i}.png")
            view.fig.savefig(path, dpi=110)
        paths.append(path)
    return paths
