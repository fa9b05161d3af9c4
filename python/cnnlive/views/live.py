"""Live figures fed by background jobs: the renderer thread, ``show`` and
``save_plots`` (the figures: ``dashboard.py``, ``analysis.py``; which one a
job gets: ``factory.py``).

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

from ..config import config
from ..events.watch import as_watch
from . import compat
from .dashboard import TrainingDashboard
from .factory import make_view
from .view import View

DEFAULT_FPS = 5.0
log = logging.getLogger("cnnlive")


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


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def show_once(fig: Any) -> Any:
    """An analysis figure (OIP grid, activations, exemplars) shown once, now,
    in the cell that asked, whatever the cell does after; returns ``fig``.

    With ipympl a Figure that is a cell's last value shows twice: IPython's
    printer for figures (``_reshow_nbagg_figure``) gives up on ipympl's
    manager, so IPython adds a PNG of it, and ipympl shows the widget after
    the cell. The widget is displayed here and taken off ipympl's list; as a
    value in the same cell the figure then shows nothing more, in a later
    cell its widget again (a printer for such figures; others go on to
    IPython's own)."""
    canvas = getattr(fig, "canvas", None)
    if canvas is None or not compat.is_ipympl(canvas) or not compat.ipympl_display_now(fig):
        return fig
    _display(canvas)
    fig._cnnlive_shown_in = _cell_number()
    _install_figure_printer()
    return fig


def _cell_number() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else shell.execution_count


def _install_figure_printer() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    formatter = getattr(getattr(shell, "display_formatter", None), "ipython_display_formatter", None)
    if formatter is None:
        return
    from matplotlib.figure import Figure

    previous = formatter.type_printers.get(Figure)
    if getattr(previous, "_cnnlive", False):
        return

    def print_figure(fig: Any) -> None:
        shown_in = getattr(fig, "_cnnlive_shown_in", False)
        if shown_in is False:  # not one of cnnlive's: as before
            if previous is None:
                raise NotImplementedError
            previous(fig)
        elif shown_in != _cell_number():
            _display(fig.canvas)

    print_figure._cnnlive = True  # type: ignore[attr-defined]
    formatter.for_type(Figure, print_figure)


def _first_frame(view: View) -> None:
    """Draw the laid-out, still empty figure now, in the caller (the GUI
    thread for a window), so it is not blank while the job starts; the
    renderer or the GUI timer draws the job's data from then on."""
    try:
        view.render()
    except Exception as exc:  # noqa: BLE001 - a broken figure stops itself, never the job
        view.report_broken(exc)


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
        _first_frame(view)
        _offload(view)
    elif view.push.on_gui_thread:
        manager = getattr(view.canvas, "manager", None)
        if manager is not None and not matplotlib.is_interactive():
            manager.show()
        _first_frame(view)
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
