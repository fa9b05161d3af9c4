"""Live figures fed by background jobs: the training dashboard, the latest
image, the renderer thread and ``show``.

Jobs only publish; views pull the latest state at a capped rate (default
5 Hz) through a read-only watch of the job (:class:`~cnnlive.events.watch.Watch`):
a view never holds or steers a Job. ipympl and Agg figures are drawn by one
renderer thread, under one lock per figure that ipympl's own draws take too; desktop windows (Tk, Qt,
GTK) are drawn only on their GUI thread, by a timer of the backend's own
event loop. The frame machinery is :class:`~.view.View`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from ..config import config
from ..events.channels import STEP
from ..events.watch import Watch, as_watch
from . import compat
from .frames import as_image_array, to_uint8
from .resources import ResourceGraphs
from .view import View

DEFAULT_FPS = 5.0
log = logging.getLogger("cnnlive")


def _smooth(values: list[float], k: int = 20) -> np.ndarray:
    """Exponential moving average (span ``k``; the value before the first is
    taken as the first): a convolution with the EMA's weights, cut where they
    fall below 1e-6, so a NaN after the first value only spoils the points it
    still weighs in."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return v
    decay = 1.0 - 2.0 / (k + 1)
    taps = min(len(v), int(np.ceil(np.log(1e-6) / np.log(decay))))
    out = np.convolve(v, (1.0 - decay) * decay ** np.arange(taps))[: len(v)]
    return out + v[0] * decay ** np.arange(1, len(v) + 1)


def _thin(x: np.ndarray, y: Any, most: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` evenly spaced points of a line (drawing a line costs
    time in proportion to its points)."""
    y = np.asarray(y, float)
    n = min(len(x), len(y))
    step = max(1, int(np.ceil(n / most)))
    idx = np.arange(0, n, step)
    if n and idx[-1] != n - 1:
        idx = np.r_[idx, n - 1]
    return np.asarray(x[:n])[idx], y[:n][idx]


def figure_inches(size: tuple[float, float] | None, dpi: float = 100.0) -> tuple[float, float]:
    """A live figure's size in inches: ``size`` as given, else
    ``config.figure_width`` pixels wide (fits the output area of a notebook
    with both of JupyterLab's sidebars open) and 4:5 as high."""
    if size is not None:
        if (len(size) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                                      for v in size)):
            raise ValueError(f"size must be (width, height) in inches, both > 0, got {size!r}")
        return float(size[0]), float(size[1])
    width = config.figure_width / dpi
    return width, max(4.4, 0.8 * width)


def row_counts(n: int, cols: int) -> list[int]:
    """``n`` panels in rows of at most ``cols``, as even as can be, fuller rows
    first (5 in 3 columns: 3 + 2), so no grid slot stays empty."""
    rows = max(1, -(-n // max(1, cols)))
    return [n // rows + (1 if r < n % rows else 0) for r in range(rows)]


def columns(width: float) -> int:
    """Panels per row in a figure ``width`` inches wide: as many of at least
    2.3 in as fit, at most 3."""
    return max(1, min(3, int((width - 0.5) // 2.3)))


def grid_positions(n: int, inches: tuple[float, float], top: float = 0.0,
                   bottom: float = 0.0) -> list[tuple[float, float, float, float]]:
    """Axes rectangles (figure fractions) for ``n`` panels that fill the
    figure between ``top`` and ``bottom`` inches: rows of equal height, each
    row's panels of equal width, room for titles above and tick labels
    below each axes, an x label under the last row only (:func:`columns`)."""
    width, height = inches
    counts = row_counts(n, columns(width))
    left, right, gap = 0.55, 0.15, 0.6  # y tick labels left of each axes
    title, ticks, xlabel = 0.26, 0.22, 0.2
    rows = len(counts)
    cell = (height - top - bottom - xlabel) / rows
    out = []
    for r, k in enumerate(counts):
        h = max(0.3, cell - title - ticks)
        y = height - top - title - r * cell - h
        w = max(0.3, (width - left - right - (k - 1) * gap) / k)
        for c in range(k):
            out.append(((left + c * (w + gap)) / width, y / height, w / width, h / height))
    return out


def x_limit(value: float, planned: float | None = None) -> float:
    """The x axis' end for data reaching ``value``: the next of 1, 1.25, 1.5,
    2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) at or above it, so it grows
    in steps and depends only on the data; at most the ``planned`` end."""
    value = max(float(value), 1e-9)
    scale = 10.0 ** np.floor(np.log10(value))
    end = next(scale * k for k in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if scale * k >= value - 1e-12)
    if planned is not None and value <= planned:
        end = min(end, planned)
    return max(float(end), 1.0)


def _grow(limit: float, value: float, factor: float = 1.5) -> float:
    """A limit that only grows, in steps, so axes rarely need a full redraw."""
    return limit if value <= limit else max(value * factor, 1e-12)


#: cnnlive's own series (drawn apart, or as the x axis), unless a user metric took the name (then
#: cnnlive's is ``cnnlive_<name>``); ``epochs`` is a planned total, never drawn.
OWN_SERIES = ("epoch", "lr", "batch_time", "samples_per_s", "batches_per_s")
NOT_METRICS = (STEP, "epochs")


def own_key(history: dict[str, list[float]], name: str) -> str:
    """Where cnnlive's own series ``name`` is: ``cnnlive_<name>`` when a user
    metric has that name (the training callback moves its own one there)."""
    return f"cnnlive_{name}" if f"cnnlive_{name}" in history else name


def metric_names(batch: dict[str, list[float]], epoch: dict[str, list[float]]) -> list[str]:
    """Metrics the logs carry, ``val_`` twins folded in: loss first, then in
    order of appearance (a user metric named like one of cnnlive's series
    included, cnnlive's own ``cnnlive_*`` series not)."""
    names: list[str] = []
    for key in list(batch) + list(epoch):
        base = key[4:] if key.startswith("val_") else key
        own = base in OWN_SERIES and f"cnnlive_{base}" not in batch and f"cnnlive_{base}" not in epoch
        if key not in NOT_METRICS and not own and not base.startswith("cnnlive_") and base not in names:
            names.append(base)
    return sorted(names, key=lambda k: (k != "loss", names.index(k)))


class TrainingDashboard(View):
    """One axis per metric the logs carry (``loss``, ``top3``, ``auc``, ...;
    up to four): per batch (raw and smoothed) and per epoch, with its ``val_``
    twin on the same axis; plus learning rate and samples/s (or batches/s)
    where known, and a resource line. The axes are made once (a 2x3 grid) and
    only named, shown or hidden later: an axis is never removed while a
    backend may be drawing the figure. Limits only grow, in steps, so most
    frames just blit the lines."""

    MAX_METRICS = 4

    #: inches at the bottom for the resource strip (title, axes) and the status line
    STRIP = 1.05

    def __init__(self, source: Any, size: tuple[float, float] | None = None) -> None:
        import matplotlib.pyplot as plt

        fig, grid = plt.subplots(2, 3, figsize=figure_inches(size))
        super().__init__(source, fig)
        self._laid_out: tuple[Any, ...] = ()
        self.slots = list(grid.flat)
        self.slot_names: list[str | None] = [None] * len(self.slots)
        self.slot_lines: list[dict[str, Any]] = []
        for i, ax in enumerate(self.slots):
            ax.tick_params(labelsize=7)
            ax.set_xlim(0, 1)
            if i < self.MAX_METRICS:
                lines = {kind: ax.plot([], [], *style, lw=lw, alpha=alpha, label=label)[0]
                         for kind, style, lw, alpha, label in (
                             ("b", (), 0.6, 0.35, "batch"), ("s", (), 1.4, 1.0, "batch (smoothed)"),
                             ("e", ("o-",), 1.2, 1.0, "epoch"), ("v", ("s--",), 1.2, 1.0, "validation"))}
            else:
                lines = {"line": ax.plot([], [], lw=1.2 if i == self.MAX_METRICS else 0.8)[0]}
            self.slot_lines.append(lines)
            self.animate(*lines.values())
            ax.set_visible(False)
        self.slots[0].legend(fontsize=7, loc="best")
        from matplotlib.ticker import EngFormatter, FuncFormatter

        # 0.001 on each tick, not an offset text over the axes' title
        self.slots[self.MAX_METRICS].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))

        self.slots[self.MAX_METRICS + 1].yaxis.set_major_formatter(EngFormatter(sep=""))  # 16k, not 16000
        self.lines: dict[str, Any] = {}
        self.axes: dict[str, Any] = {}
        self.panels: list[str] = []
        self.limits: dict[str, float] = {"x": 1.0}
        self.status = fig.text(0.01, 0.005, "", fontsize=8)
        self.animate(self.status)
        # resources over time: kernel CPU, RAM, GPU memory in a strip above the status line
        self.graphs = ResourceGraphs(fig, self._strip_rect(), self.resources)
        self.animate(*self.graphs.lines)
        self._name_slots(["loss"], [])

    def _strip_rect(self) -> tuple[float, float, float, float]:
        height = self.fig.get_size_inches()[1]
        return (0.0, 0.3 / height, 1.0, 0.5 / height)

    def layout(self) -> bool:
        """Place the shown axes in a grid without empty slots (for the
        figure's present size); True when anything moved."""
        shown = [ax for ax, name in zip(self.slots, self.slot_names) if name is not None]
        key = (tuple(self.fig.get_size_inches()), tuple(id(ax) for ax in shown))
        if key == self._laid_out:
            return False
        self._laid_out = key
        for ax, rect in zip(shown, grid_positions(len(shown), key[0], top=0.02, bottom=self.STRIP)):
            ax.set_position(rect)
        rows = row_counts(len(shown), columns(key[0][0]))
        last = shown[len(shown) - rows[-1]:] if shown else []
        for ax in shown:  # the x label under the last row only: never into a title below
            ax.set_xlabel("epoch" if ax in last else "", fontsize=8)
        x0, y0, w, h = self._strip_rect()
        for i, ax in enumerate(self.graphs.axes):
            ax.set_position((x0 + i * w / 3 + 0.45 / key[0][0], y0, w / 3 - 0.6 / key[0][0], h))
        self._background = None
        return True

    def _name_slots(self, metrics: list[str], extra: list[str]) -> None:
        """Give the fixed axes their metrics; hide the unused ones."""
        names = metrics + [None] * (self.MAX_METRICS - len(metrics)) + [
            next((k for k in extra if k in ("lr", "cnnlive_lr")), None), "speed" if "speed" in extra else None]
        self.lines, self.axes = {}, {}
        for i, (ax, name) in enumerate(zip(self.slots, names)):
            if name != self.slot_names[i]:
                for line in self.slot_lines[i].values():
                    line.set_data([], [])
                own = i >= self.MAX_METRICS  # cnnlive's rate and speed slots; a user's metric keeps its name
                ax.set_title({"lr": "learning rate", "cnnlive_lr": "learning rate", "speed": "samples / s"}.get(
                    name or "", name or "") if own else name or "", fontsize=9)
                ax.set_visible(name is not None)
                self.slot_names[i] = name
                if name is not None:
                    self.limits[name] = 1e-12
            if name is None:
                continue
            self.axes[name] = ax
            if i < self.MAX_METRICS:
                self.lines.update({f"{k}_{name}": line for k, line in self.slot_lines[i].items()})
            else:
                self.lines[name] = self.slot_lines[i]["line"]
        self.panels = metrics + extra
        self._background = None
        if hasattr(self, "graphs"):
            self.layout()

    def fit_limits(self) -> None:
        """Tight limits for a saved picture (live frames use growing ones)."""
        for key in self.limits:
            self.limits[key] = 1e-12
        self.update()
        x = max(self.limits["x"] / 2.0, 1e-12)
        for key, ax in self.axes.items():
            ax.relim()
            ax.set_autoscaley_on(True)
            ax.autoscale_view(scalex=False)
            if self.limits.get(key, 1e-12) >= 0:
                ax.set_ylim(bottom=min(0.0, ax.dataLim.y0))
            ax.set_xlim(0, ax.dataLim.x1 if ax.dataLim.x1 > 0 else x)
        for artist in self.animated:  # a saved picture shows everything
            artist.set_animated(False)
        self._background = None

    def _x(self, batch: dict[str, list[float]], n: int) -> np.ndarray:
        """Fractional epoch of each batch point."""
        e = np.asarray(batch.get(own_key(batch, "epoch"), []), float)
        if len(e) != n or not n:
            return np.arange(n, dtype=float)
        starts = np.r_[0, np.flatnonzero(np.diff(e)) + 1]
        counts = np.diff(np.r_[starts, n])
        idx = np.arange(n) - np.repeat(starts, counts)
        return e + (idx + 1) / np.repeat(counts, counts)

    def has_data(self) -> bool:
        return self.watch.channels.latest("metrics") is not None

    def _speed_key(self, batch: dict[str, list[float]]) -> str | None:
        return next((own_key(batch, k) for k in ("samples_per_s", "batches_per_s") if batch.get(own_key(batch, k))),
                    None)

    def update(self) -> bool | list[Any]:
        batch, epoch = self.watch.channels.history("batch"), self.watch.channels.history("epoch")
        metrics = metric_names(batch, epoch)[: self.MAX_METRICS] or ["loss"]
        speed_key = self._speed_key(batch)
        lr_key = own_key(batch, "lr")  # also the panel's name: "cnnlive_lr" beside a user metric "lr"
        extra = [k for k, known in ((lr_key, any(np.isfinite(batch.get(lr_key, [np.nan])))),
                                    ("speed", speed_key is not None)) if known]
        changed = False
        if metrics + extra != self.panels:
            self._name_slots(metrics, extra)
            changed = True
        n = len(batch.get(STEP, []))
        x = self._x(batch, n)
        ex = epoch.get(STEP, [])
        wanted: dict[str, float] = {"x": float(x[-1]) if n else 0.0}
        # about a point per pixel column for the raw batch values, one per two for smooth lines
        column = max(50, int(self.slots[0].bbox.width))
        for key in metrics:
            raw = batch.get(key, [])
            self.lines[f"b_{key}"].set_data(*_thin(x[-len(raw):] if raw else x[:0], raw, column))
            self.lines[f"s_{key}"].set_data(*_thin(x[-len(raw):] if raw else x[:0], _smooth(raw), column // 2))
            ev, vv = epoch.get(key, []), epoch.get(f"val_{key}", [])
            self.lines[f"e_{key}"].set_data(ex[: len(ev)], ev)
            self.lines[f"v_{key}"].set_data(ex[: len(vv)], vv)
            values = [v for v in raw[:1] + raw[-1:] + ev + vv if np.isfinite(v)]
            wanted[key] = max(values, default=0.0)
        if lr_key in extra:
            self.lines[lr_key].set_data(*_thin(x, batch.get(lr_key, []), column // 2))
            wanted[lr_key] = max([v for v in batch.get(lr_key, [])[:1] if np.isfinite(v)] or [0.0])
        if speed_key is not None:
            speed = _smooth(batch.get(speed_key, []))
            self.lines["speed"].set_data(*_thin(x, speed, column // 2))
            title = speed_key.removeprefix("cnnlive_").replace("_per_s", " / s")
            if self.axes["speed"].get_title() != title:
                self.axes["speed"].set_title(title, fontsize=9)
            recent = batch.get(speed_key, [])[-25:]  # the warm speed, before the average has caught up
            wanted["speed"] = max(float(speed.max()) if len(speed) else 0.0, float(np.median(recent)) if recent else 0.0)
        total = getattr(self.watch.result, "epochs_total", None)  # training's plan, steering included
        if total is None:
            total = (self.watch.channels.latest("metrics") or {}).get("epochs")
        planned = isinstance(total, (int, float)) and total >= 1
        moved: set[str] = set()
        for key, value in wanted.items():
            if key == "x":  # x follows the data, never past the planned end (in the status line)
                grown = x_limit(value, float(total) if planned else None)
            elif key in metrics and 0.0 <= value <= 1.0 and self.limits.get(key, 0.0) <= 1.02:
                grown = 1.02  # accuracy-like metrics: a fixed 0..1 axis until they leave it
            else:
                grown = _grow(self.limits.get(key, 1e-12), value, 2.0 if key == "x" else 1.5)
            if grown != self.limits.get(key):
                self.limits[key] = grown
                moved.add(key)
        dirty = []
        for key, ax in self.axes.items():
            if "x" in moved or key in moved:
                ax.set_xlim(0, self.limits["x"])
                ax.set_ylim(0, self.limits.get(key, 1.0))
                dirty.append(ax)
        dirty += self.graphs.update()
        if self.layout():
            changed = True
        self.set_status(f" · epoch {len(ex)}" + (f" of {total:g}" if planned else ""))
        return changed or dirty


class ImageView(View):
    """The latest published image, plain and contrast-enhanced side by side."""

    def __init__(self, source: Any, cmap: str = "gray") -> None:
        import matplotlib.pyplot as plt

        fig, (self.ax_plain, self.ax_contrast) = plt.subplots(1, 2, figsize=(9, 4.6))
        super().__init__(source, fig)
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
        value = self.watch.channels.latest("images")
        if value is not None:
            arr, caption = as_image_array(value)
            plain = to_uint8(arr)
            enhanced = to_uint8(arr, contrast=2.0)
            for im, data in ((self.im_plain, plain), (self.im_contrast, enhanced)):
                im.set_data(data)
                im.set_extent((-0.5, data.shape[1] - 0.5, data.shape[0] - 0.5, -0.5))
                im.set_clim(0, 255)
            self.ax_plain.set_title(f"{caption} (plain)", fontsize=9)
        self.set_status()
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
                v.watch.channels.publish("log", "renderer died: see logging.getLogger('cnnlive')\n")

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


def make_view(watch: Watch, size: tuple[float, float] | None = None) -> View:
    """The job's live figure: a dashboard for training, the evolution for an
    OIP search, the stages for a dream, the latest image otherwise
    (``size``: the dashboard's inches, :func:`figure_inches`)."""
    if watch.kind in ("train", "fit"):
        return TrainingDashboard(watch, size)
    if watch.kind in ("oip", "dream"):
        from .analysis import DreamView, OIPView

        return OIPView(watch) if watch.kind == "oip" else DreamView(watch)
    return ImageView(watch)


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def _offload(view: View) -> None:
    """Let the helper process draw a live dashboard (:mod:`.offload`)."""
    if config.render_process and view.push.kind in ("ipympl-binary", "gui") and isinstance(view, TrainingDashboard):
        from . import offload

        process = offload.helper()
        if process is not None:
            view.twin = offload.Twin(view, process)


def show(source: Any, fps: float | None = None, size: tuple[float, float] | None = None) -> View:
    """Create the job's figure here (main thread), display it once, render it
    live. ``source``: the job's watch (``job.plot()`` passes ``job.watch()``
    and keeps the returned view in ``job.views``).

    Each call makes a new figure (a second ``job.plot()`` gives a second live
    view). ipympl frames are drawn by the renderer thread; desktop windows
    (Tk, Qt, GTK) by a timer on their own event loop, so only the GUI thread
    touches them; the inline backend gets a snapshot."""
    import matplotlib

    watch = as_watch(source)
    view = make_view(watch, size)
    backend = matplotlib.get_backend().lower()
    if "inline" in backend:
        print("cnnlive: the inline backend shows a snapshot only; run %matplotlib widget for live plots "
              f"(job.plot() shows the current state of job {watch.id}).")
        with view.lock:
            view.update()
        _display(view.fig)
        import matplotlib.pyplot as plt

        plt.close(view.fig)
        return view
    rate = fps or config.fps
    if view.push.kind.startswith("ipympl"):
        if compat.ipympl_display_now(view.fig):  # now, not after the cell: it may block (wait, fit)
            _display(view.canvas)
        _offload(view)
    elif view.push.on_gui_thread:
        manager = getattr(view.canvas, "manager", None)
        if manager is not None and not matplotlib.is_interactive():
            manager.show()
        _offload(view)
        view.timer = compat.start_gui_timer(view.canvas, 1000.0 / rate, view.tick)
        return view
    if fps:
        renderer().fps = fps
    renderer().add(view)
    return view


def save_plots(source: Any, views: list[View], folder: str) -> list[str]:
    """Write the job's figures ``views`` (or a fresh one) as PNG files."""
    import os

    watch = as_watch(source)
    os.makedirs(folder, exist_ok=True)
    views = list(views) or [make_view(watch)]
    paths = []
    for i, view in enumerate(views):
        with view.lock:
            view.update()
            if isinstance(view, TrainingDashboard):
                view.fit_limits()
            path = os.path.join(folder, f"job{watch.id}-{watch.kind}-{i}.png")
            view.fig.savefig(path, dpi=110)
            for artist in view.animated:  # back to live blitting
                artist.set_animated(True)
            view._background = None
        paths.append(path)
    return paths

