"""Every workaround for ipympl internals, in one place.

Each piece names the upstream issue it works around and is guarded by the
ipympl versions it was checked against; outside that range cnnlive falls back
to public matplotlib API (slower or less robust, never broken). How a figure
is pushed to the screen is chosen once, when the figure is made
(:func:`frame_push`), not probed on every frame.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from .frames import fast_png

log = logging.getLogger("cnnlive")

#: ipympl versions whose private members below were read and tested (min inclusive, max exclusive)
IPYMPL_CHECKED = ((0, 9), (0, 11))
#: seconds between refreshes of the picture saved with the notebook while no front end draws the figure
SAVED_PICTURE_EVERY = 2.0
#: backends whose windows only their GUI thread may touch
DESKTOP_PREFIXES = ("qt", "tk", "gtk", "wx", "macosx")


def ipympl_version() -> tuple[int, ...] | None:
    try:
        from ipympl import version_info
    except ImportError:
        return None
    return tuple(int(v) for v in version_info[:2] if str(v).isdigit())


def _ipympl_checked() -> bool:
    v = ipympl_version()
    return v is not None and IPYMPL_CHECKED[0] <= v < IPYMPL_CHECKED[1]


def is_ipympl(canvas: Any) -> bool:
    return type(canvas).__module__.startswith("ipympl")


def is_desktop(canvas: Any) -> bool:
    """A canvas of a GUI toolkit (Tk, Qt, GTK, wx, macOS)."""
    module = type(canvas).__module__.rsplit(".", 1)[-1].lower()  # e.g. backend_tkagg, backend_qtagg
    return module.startswith("backend_") and module[len("backend_"):].startswith(DESKTOP_PREFIXES)


def lock_draws(canvas: Any, lock: threading.RLock) -> None:
    """Make the backend's own draws take the figure's lock.

    Works around matplotlib/ipympl#610: with ipykernel >= 7, ipympl answers the
    front end's draw and resize requests on a comm subshell thread, concurrently
    with whatever thread updates the artists; matplotlib is not thread-safe.
    Wrapping the bound ``draw`` of this one canvas is the only hook ipympl
    offers. Harmless on other backends (an RLock on one thread)."""
    backend_draw = canvas.draw

    def locked_draw(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return backend_draw(*args, **kwargs)

    canvas.draw = locked_draw


def _agg_draw(canvas: Any) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg.draw(canvas)


def _ipympl_frame(canvas: Any) -> bytes | None:
    """The canvas as a fast PNG: only the pixels changed since the last frame
    (transparent elsewhere) when the front end can take a diff, else all;
    None when no pixel changed.

    Uses ipympl's private ``_last_buff`` (the last frame it knows the front end
    has; also what it builds the saved ``_data_url`` from) and ``_force_full``
    (set by ipympl when a new view asks for a refresh or after a resize),
    both checked for ipympl 0.9 and 0.10, and WebAgg's public
    ``set_image_mode``. Encoding a mostly transparent diff is several times
    cheaper than a full frame. A diff is cut after its last changed row and
    column: the front end draws it at the top left corner at its own size."""
    rgba = np.asarray(canvas.get_renderer().buffer_rgba())
    current = rgba.view(np.uint32).reshape(rgba.shape[:2])
    last = getattr(canvas, "_last_buff", None)
    if canvas._force_full or last is None or getattr(last, "shape", None) != current.shape:
        mode, out = "full", rgba
        canvas._force_full = False
    else:
        mode = "diff"
        changed = current != last
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if not len(rows):
            return None
        r, c = rows[-1] + 1, cols[-1] + 1
        out = np.where(changed[:r, :c], current[:r, :c], np.uint32(0)).view(np.uint8).reshape(r, c, 4)
    canvas.set_image_mode(mode)
    canvas._last_buff = current.copy()
    return fast_png(out)


class FramePush:
    """How one figure's frames reach the screen; made by :func:`frame_push`.

    ``kind`` is one of:

    - ``"ipympl-binary"``: draw with Agg in the renderer thread and send a full
      PNG frame through the widget's comm (``send_binary``). Works around
      matplotlib/ipympl#258 and #290: a figure updated from code running while
      the front end has not answered ipympl's draw requests stays blank.
    - ``"ipympl-refresh"``: ipympl outside the checked versions: public
      ``canvas.draw()`` then ``manager.refresh_all()``.
    - ``"gui"``: a desktop backend. Frames are made only on the GUI thread, by
      a timer of the backend's own event loop (``canvas.new_timer``).
    - ``"agg"``: no screen (Agg, inline); draws into the buffer for saving.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._saved_at = -1e9

    @property
    def on_gui_thread(self) -> bool:
        return self.kind == "gui"

    def draw_full(self, canvas: Any) -> None:
        """Draw the whole figure (not yet on screen for ipympl)."""
        if self.kind == "gui":
            canvas.draw()
        else:
            _agg_draw(canvas)

    def wants_frame(self, canvas: Any) -> bool:
        """Whether a frame now would be seen: not while an ipympl figure has no
        front end, except for the saved picture every few seconds."""
        if self.kind == "ipympl-binary" and getattr(canvas, "syncing_data_url", False):
            return time.monotonic() - self._saved_at >= SAVED_PICTURE_EVERY
        return True

    def present(self, canvas: Any, fig: Any, full: bool, boxes: list[Any] | None = None) -> None:
        """Bring the drawn buffer to the screen; ``boxes``: only these areas
        changed (a desktop window copies just them)."""
        if boxes is not None and not boxes:
            return
        if self.kind == "ipympl-binary":
            if getattr(canvas, "syncing_data_url", False):
                self._keep_saved_picture(canvas, full)
                return
            # ipympl's own next frame diffs against ``_last_buff``, which now holds ours
            frame = _ipympl_frame(canvas)
            if frame is not None:
                canvas.send_binary(frame)
        elif self.kind == "ipympl-refresh":
            manager = getattr(canvas, "manager", None)
            if manager is not None:
                manager.refresh_all()
        elif self.kind == "gui":
            for box in [fig.bbox] if boxes is None else boxes:
                canvas.blit(box)


    def _keep_saved_picture(self, canvas: Any, full: bool) -> None:
        """No front end has drawn the figure yet (nbconvert, papermill, a
        notebook not open in a browser): nobody would draw a frame, so keep
        only the picture saved with the notebook fresh, every few seconds and
        on full frames (the last frame is one).

        ipympl keeps ``syncing_data_url`` true until its front end sends
        "initialized", and meanwhile re-encodes and sends the whole figure on
        every ``send_binary`` (ipympl 0.9, 0.10), several times the cost of our frame."""
        now = time.monotonic()
        if not full and now - self._saved_at < SAVED_PICTURE_EVERY:
            return
        self._saved_at = now
        png = fast_png(np.asarray(canvas.get_renderer().buffer_rgba()))
        canvas._force_full = True  # the first frame a front end gets is a whole one
        canvas._data_url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def frame_push(canvas: Any) -> FramePush:
    """Choose, once per figure, how its frames are pushed."""
    if is_ipympl(canvas):
        ok = _ipympl_checked() and all(hasattr(canvas, a) for a in
                                         ("send_binary", "_force_full", "set_image_mode", "get_renderer",
                                          "syncing_data_url", "_data_url"))
        if not ok:
            log.info("ipympl %s is outside the checked versions %s; live figures use draw + refresh_all",
                     ipympl_version(), IPYMPL_CHECKED)
        return FramePush("ipympl-binary" if ok else "ipympl-refresh")
    if is_desktop(canvas):
        return FramePush("gui")
    return FramePush("agg")


def ipympl_shows_at_cell_end(fig: Any) -> bool:
    """True when ipympl will display ``fig`` itself after the running cell.

    In interactive mode ipympl queues every pyplot figure it creates and
    displays the queue from IPython's ``post_execute`` hook (private
    ``_Backend_ipympl._to_show``, checked for 0.9 and 0.10). Displaying the
    canvas as well shows the figure twice."""
    import matplotlib

    if not matplotlib.is_interactive():
        return False
    if _ipympl_checked():
        try:
            from ipympl.backend_nbagg import _Backend_ipympl

            return fig in _Backend_ipympl._to_show
        except (ImportError, AttributeError):
            pass
    return True


def start_gui_timer(canvas: Any, interval_ms: int, callback: Callable[[], Any]) -> Any:
    """A repeating timer on the backend's own event loop (public API)."""
    timer = canvas.new_timer(interval=max(1, int(interval_ms)))
    timer.add_callback(callback)
    timer.start()
    return timer
