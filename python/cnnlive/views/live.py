"""Live figures fed by background jobs.

Jobs only publish; views pull the latest state at a capped rate (default
5 Hz). ipympl and Agg figures are drawn by one renderer thread, under one
lock per figure that ipympl's own draws take too; desktop windows (Tk, Qt,
GTK) are drawn only on their GUI thread, by a timer of the backend's own
event loop. How frames reach the screen is chosen per figure in
:mod:`.compat`, which holds every workaround for ipympl internals.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from ..config import config
from ..jobs import Job
from . import compat
from .frames import as_image_array, to_uint8
from .resources import ResourceGraphs, ResourceHistory

DEFAULT_FPS = 5.0
log = logging.getLogger("cnnlive")


def _smooth(values: list[float], k: int = 20) -> np.ndarray:
    """Exponential moving average (vectorized)."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return v
    from scipy.signal import lfilter

    alpha = 2.0 / (k + 1)
    out, _ = lfilter([alpha], [1, alpha - 1], v, zi=[v[0] * (1 - alpha)])
    return out


def _thin(x: np.ndarray, y: Any, most: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` evenly spaced points of a line (drawing cost)."""
    y = np.asarray(y, float)
    n = min(len(x), len(y))
    step = max(1, int(np.ceil(n / most)))
    idx = np.arange(0, n, step)
    if n and idx[-1] != n - 1:
        idx = np.r_[idx, n - 1]
    return np.asarray(x[:n])[idx], y[:n][idx]


def _grow(limit: float, value: float, factor: float = 1.5) -> float:
    """A limit that only grows, in steps, so axes rarely need a full redraw."""
    return limit if value <= limit else max(value * factor, 1e-12)


class View:
    """A figure bound to a job; ``update`` reads the job's channels.

    How frames reach the screen is chosen once, here (:mod:`.compat`). The
    renderer thread (ipympl, Agg) or a timer on the GUI's own event loop
    (desktop backends) calls :meth:`step`."""

    def __init__(self, job: Job, fig: Any) -> None:
        self.job, self.fig = job, fig
        self.lock = threading.RLock()
        # our own handle on the canvas (printing swaps fig.canvas for a moment)
        self.canvas = fig.canvas
        compat.lock_draws(self.canvas, self.lock)
        self.push = compat.frame_push(self.canvas)
        self.version: Any = -1
        self.closed = False
        self.frames = 0
        self.animated: list[Any] = []
        self.timer: Any = None
        self._background: Any = None
        self._pixels: dict[int, tuple[str, Any]] = {}
        self._own_draw = False
        self._reported = False
        fig.canvas.mpl_connect("close_event", lambda _e: setattr(self, "closed", True))
        fig.canvas.mpl_connect("draw_event", self._on_draw)
        self.resources = ResourceHistory()

    def _on_draw(self, _event: Any) -> None:
        """A draw we did not make (resize, expose, ipympl's own request)
        dropped the animated artists and may change the size: redo a full frame."""
        if not self._own_draw:
            self._background = None
            self.version = -1

    def update(self) -> bool:  # pragma: no cover - overridden
        """Update artists from the job; True when the axes need a full redraw."""
        raise NotImplementedError

    def resources_text(self) -> str:
        self.resources.sample()
        return self.resources.text()

    def render(self) -> None:
        """Update artists and draw, under the figure's lock. When the axes did
        not change (``update`` returns False) only the animated artists are
        redrawn over a cached background (blitting)."""
        with self.lock:
            full = self.update() or self._background is None
            canvas = self.canvas
            if full:
                self._own_draw = True
                try:
                    self.push.draw_full(canvas)
                finally:
                    self._own_draw = False
                self._background = canvas.copy_from_bbox(self.fig.bbox)
            else:
                canvas.restore_region(self._background)
            for artist in self.animated:
                self._draw_animated(canvas, artist, full)
            self.push.present(canvas, self.fig, full)
        self.frames += 1

    def _draw_animated(self, canvas: Any, artist: Any, full: bool) -> None:
        """Draw one animated artist over the background. A figure-level text
        (the status line) whose text did not change is copied back from the
        pixels of its last drawing: rendering text costs more than the lines."""
        if artist.axes is not None:
            artist.axes.draw_artist(artist)
            return
        text = artist.get_text() if hasattr(artist, "get_text") else None
        cached = self._pixels.get(id(artist))
        if text is not None and not full and cached is not None and cached[0] == text:
            canvas.restore_region(cached[1])
            return
        self.fig.draw_artist(artist)
        if text is not None:
            box = artist.get_window_extent(canvas.get_renderer()).padded(2)
            from matplotlib.transforms import Bbox

            box = Bbox.intersection(box, self.fig.bbox)
            if box is not None and box.width > 0 and box.height > 0:
                self._pixels[id(artist)] = (text, canvas.copy_from_bbox(box))

    def animate(self, *artists: Any) -> None:
        """Mark artists that change every frame (drawn over the background)."""
        for a in artists:
            a.set_animated(True)
            self.animated.append(a)

    def finish(self) -> None:
        """The job has ended: one last full frame with every artist in it, so
        later redraws by the backend (resize, expose) keep the lines."""
        with self.lock:
            for artist in self.animated:
                artist.set_animated(False)
            self.animated = []
            self._background = None
            self.render()

    def step(self) -> bool:
        """Render if the job changed since the last frame; False when this
        view is done (closed, broken, or its job ended and was drawn)."""
        if self.closed:
            return False
        version = (self.job.channels.version, self.job.state)
        finished = self.job.done
        try:
            if version != self.version:
                self.version = version
                self.render()
            if finished and version == self.version:
                self.finish()
                return False
        except Exception as exc:  # noqa: BLE001 - a broken figure stops itself, never the job or other figures
            self.report_broken(exc)
            return False
        return True

    def report_broken(self, exc: BaseException) -> None:
        """Say once (logging and the job's log) that this figure stopped."""
        if self._reported:
            return
        self._reported = True
        log.error("live figure of job %s stopped", self.job.id, exc_info=exc)
        self.job.channels.publish("log", f"live figure stopped: {type(exc).__name__}: {exc}\n")

    def tick(self) -> None:
        """The GUI timer's callback (desktop backends, on the GUI thread)."""
        if not self.step() and self.timer is not None:
            self.timer.stop()


class TrainingDashboard(View):
    """Loss and accuracy per batch (raw and smoothed) and per epoch with
    validation, learning rate, samples/s, and a resource line. Axis limits
    only grow, in steps, so most frames just blit the lines."""

    def __init__(self, job: Job) -> None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(9, 6.6))
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
        self.ax_acc.legend(fontsize=7, loc="lower right")
        self.lines["lr"], = self.ax_lr.plot([], [], lw=1.2)
        self.ax_lr.set_title("learning rate", fontsize=9)
        self.ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        self.lines["speed"], = self.ax_speed.plot([], [], lw=0.8)
        self.ax_speed.set_title("samples / s", fontsize=9)
        self.status = fig.text(0.01, 0.005, "", fontsize=8)
        self.animate(*self.lines.values(), self.status)
        self.limits = {"x": 1.0, "loss": 1e-12, "lr": 1e-12, "speed": 1e-12}
        self.ax_acc.set_ylim(0, 1.02)
        for ax in (self.ax_loss, self.ax_acc, self.ax_lr, self.ax_speed):
            ax.set_xlim(0, 1)
        fig.tight_layout(rect=(0, 0.2, 1, 1))
        # resources over time (i14): kernel CPU, RAM, GPU memory in a strip above the status line
        self.graphs = ResourceGraphs(fig, (0.0, 0.065, 1.0, 0.085), self.resources)
        self.animate(*self.graphs.lines)

    def fit_limits(self) -> None:
        """Tight limits for a saved picture (live frames use growing ones)."""
        for key in ("x", "loss", "lr", "speed"):
            self.limits[key] = 1e-12
        self.update()
        x = max(self.limits["x"] / 2.0, 1e-12)
        for ax in (self.ax_loss, self.ax_lr, self.ax_speed):
            ax.relim()
            ax.set_autoscaley_on(True)
            ax.autoscale_view(scalex=False)
            ax.set_ylim(bottom=0)
        for ax in (self.ax_loss, self.ax_acc, self.ax_lr, self.ax_speed):
            ax.set_xlim(0, ax.dataLim.x1 if ax.dataLim.x1 > 0 else x)
        for artist in self.animated:  # a saved picture shows everything
            artist.set_animated(False)
        self._background = None

    def _x(self, batch: dict[str, list[float]], n: int) -> np.ndarray:
        """Fractional epoch of each batch point."""
        e = np.asarray(batch.get("epoch", []), float)
        if len(e) != n or not n:
            return np.arange(n, dtype=float)
        starts = np.r_[0, np.flatnonzero(np.diff(e)) + 1]
        counts = np.diff(np.r_[starts, n])
        idx = np.arange(n) - np.repeat(starts, counts)
        return e + (idx + 1) / np.repeat(counts, counts)

    def update(self) -> bool:
        batch, epoch = self.job.channels.history("batch"), self.job.channels.history("epoch")
        n = len(batch.get("loss", []))
        x = self._x(batch, n)
        ex = epoch.get("step", [])
        for key in ("loss", "accuracy"):
            raw = batch.get(key, [])
            self.lines[f"b_{key}"].set_data(*_thin(x, raw))
            self.lines[f"s_{key}"].set_data(*_thin(x, _smooth(raw)))
            self.lines[f"e_{key}"].set_data(ex[: len(epoch.get(key, []))], epoch.get(key, []))
            self.lines[f"v_{key}"].set_data(ex[: len(epoch.get(f"val_{key}", []))], epoch.get(f"val_{key}", []))
        self.lines["lr"].set_data(*_thin(x, batch.get("lr", [])))
        speed = _smooth(batch.get("samples_per_s", []))
        self.lines["speed"].set_data(*_thin(x, speed))
        losses = [v for v in batch.get("loss", [])[:1] + epoch.get("loss", []) + epoch.get("val_loss", [])
                  if np.isfinite(v)]
        wanted = {"x": float(x[-1]) if n else 0.0, "loss": max(losses, default=0.0),
                  "lr": max(batch.get("lr", [0.0])[:1] or [0.0]), "speed": float(speed.max()) if len(speed) else 0.0}
        changed = False
        for key, value in wanted.items():
            grown = _grow(self.limits[key], value, 2.0 if key == "x" else 1.5)
            if grown != self.limits[key]:
                self.limits[key], changed = grown, True
        if changed:
            for ax in (self.ax_loss, self.ax_acc, self.ax_lr, self.ax_speed):
                ax.set_xlim(0, self.limits["x"])
            self.ax_loss.set_ylim(0, self.limits["loss"])
            self.ax_lr.set_ylim(0, self.limits["lr"])
            self.ax_speed.set_ylim(0, self.limits["speed"])
        changed = self.graphs.update() or changed  # resources over time (i14)
        frac = self.job.progress_fraction
        done = getattr(self.job.result, "epochs_done", 0)
        self.status.set_text(f"job {self.job.id} {self.job.name}: {self.job.state.value}"
                             f"{'' if frac is None else f' · {100 * frac:.0f}%'} · epochs {done} · "
                             f"{self.resources_text()}")
        return changed


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

    def update(self) -> bool:
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
        return True


class Renderer:
    """One thread that renders all live views at most ``fps`` times a second
    (ipympl and Agg figures; desktop windows use a GUI timer instead).

    The thread exits when it has no views left. Whether it is running and the
    list of views change together under one lock, so a view added while the
    thread is deciding to exit always gets a thread that draws it."""

    def __init__(self, fps: float | None = None) -> None:
        self.fps = fps or config.fps
        self.views: list[View] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._exiting: Callable[[], None] = lambda: None  # test seam: called after deciding to exit

    def add(self, view: View) -> None:
        with self._lock:
            self.views.append(view)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="cnnlive-render", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        try:
            self._run()
        except BaseException:  # noqa: BLE001 - reported, then the thread ends
            log.exception("the cnnlive render thread died")
            with self._lock:
                views, self.views, self._thread = list(self.views), [], None
            for v in views:
                v.job.channels.publish("log", "renderer died: see logging.getLogger('cnnlive')\n")

    def _run(self) -> None:
        while True:
            t0 = time.monotonic()
            with self._lock:
                views = list(self.views)
                if not views:
                    self._thread = None
                    break
            for view in views:
                self.render_once(view)
            time.sleep(max(0.0, 1.0 / self.fps - (time.monotonic() - t0)))
        self._exiting()

    def render_once(self, view: View) -> None:
        if not view.step():
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
    """The job's live figure: a dashboard for training, the evolution for an
    OIP search, the stages for a dream, the latest image otherwise."""
    if job.kind == "train":
        return TrainingDashboard(job)
    if job.kind in ("oip", "dream"):
        from .analysis import DreamView, OIPView

        return OIPView(job) if job.kind == "oip" else DreamView(job)
    return ImageView(job)


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def show(job: Job, fps: float | None = None) -> View:
    """Create the job's figure here (main thread), display it once, render it live.

    Each call makes a new figure (a second ``job.plot()`` gives a second live
    view). ipympl frames are drawn by the renderer thread; desktop windows
    (Tk, Qt, GTK) by a timer on their own event loop, so only the GUI thread
    touches them; the inline backend gets a snapshot."""
    import matplotlib

    view = make_view(job)
    job.views.append(view)
    backend = matplotlib.get_backend().lower()
    if "inline" in backend:
        print("cnnlive: the inline backend shows a snapshot only; run %matplotlib widget for live plots "
              f"(job.plot() shows the current state of job {job.id}).")
        with view.lock:
            view.update()
        _display(view.fig)
        import matplotlib.pyplot as plt

        plt.close(view.fig)
        return view
    rate = fps or config.fps
    if view.push.kind.startswith("ipympl"):
        if not compat.ipympl_shows_at_cell_end(view.fig):
            _display(view.canvas)
    elif view.push.on_gui_thread:
        manager = getattr(view.canvas, "manager", None)
        if manager is not None and not matplotlib.is_interactive():
            manager.show()
        view.timer = compat.start_gui_timer(view.canvas, 1000.0 / rate, view.tick)
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
            if isinstance(view, TrainingDashboard):
                view.fit_limits()
            path = os.path.join(folder, f"job{job.id}-{job.kind}-{i}.png")
            view.fig.savefig(path, dpi=110)
            for artist in view.animated:  # back to live blitting
                artist.set_animated(True)
            view._background = None
        paths.append(path)
    return paths
