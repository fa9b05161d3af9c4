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

from .frames import fast_png, sparse_png

log = logging.getLogger("cnnlive")

#: ipympl versions whose private members below were read and tested (min inclusive, max exclusive)
IPYMPL_CHECKED = ((0, 9), (0, 11))
#: seconds between refreshes of the picture saved with the notebook while no front end has answered
SAVED_PICTURE_EVERY = 2.0
#: seconds between whole ipympl frames (the frames between carry only the areas that changed)
FULL_FRAME_EVERY = 5.0
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


def _pixel_spans(boxes: list[Any], h: int, w: int) -> list[tuple[int, int, int, int]]:
    """Display boxes (y grows upwards) as pixel rows and columns (row0, row1, col0, col1)."""
    return [(max(0, int(h - b.y1)), min(h, int(np.ceil(h - b.y0))), max(0, int(b.x0)), min(w, int(np.ceil(b.x1))))
            for b in boxes]


class _SentPixels:
    """What an ipympl front end was sent: the pixels of the last frame, and
    per area the box of pixels that changed since the whole frame before
    the last one.

    Each diff frame carries all of those boxes, not only this frame's
    changes: ipympl's view replaces an image that is still loading when the
    next one comes, so a frame can be lost, and the next one repairs it; a
    lost whole frame too, since the boxes reach back one whole frame more. A
    whole frame every few seconds keeps the boxes small."""

    def __init__(self) -> None:
        self.pixels: np.ndarray | None = None
        self.changed: dict[tuple[int, int, int, int], tuple[int, int, int, int]] = {}
        self.before: list[tuple[int, int, int, int]] = []  # changed before the last whole frame
        self.now: list[tuple[int, int, int, int]] = []  # changed by the last diff

    def whole(self, rgba: np.ndarray) -> None:
        self.pixels = rgba.copy()
        self.before, self.changed = list(self.changed.values()), {}

    def diff(self, rgba: np.ndarray, areas: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
        """Note which pixels of ``areas`` changed; the boxes to send (see the
        class), or none when nothing changed now."""
        assert self.pixels is not None
        self.now = []
        for area in areas:
            r0, r1, c0, c1 = area
            if r0 >= r1 or c0 >= c1:
                continue
            moved = (rgba[r0:r1, c0:c1].view(np.uint32) != self.pixels[r0:r1, c0:c1].view(np.uint32))[..., 0]
            rows, cols = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
            if not rows.size:
                continue
            box = (r0 + int(rows[0]), r0 + int(rows[-1]) + 1, c0 + int(cols[0]), c0 + int(cols[-1]) + 1)
            self.now.append(box)
            self.pixels[box[0]:box[1], box[2]:box[3]] = rgba[box[0]:box[1], box[2]:box[3]]
            old = self.changed.get(area)
            self.changed[area] = box if old is None else (
                min(old[0], box[0]), max(old[1], box[1]), min(old[2], box[2]), max(old[3], box[3]))
        return self.before + list(self.changed.values()) if self.now else []


def png_frame(rgba: np.ndarray, sent: _SentPixels, whole: bool, boxes: list[Any] | None) -> tuple[str, bytes | None]:
    """The pixels ``rgba`` as a PNG frame for ipympl's front end and its mode:
    all of it ("full"), or ("diff") the pixels changed within ``boxes`` (the
    areas drawn; None: anywhere) since the last whole frames
    (:class:`_SentPixels`), everything else transparent, cut after the last
    change (the front end draws a diff at the top left at its own size); no
    frame when no pixel changed."""
    h, w = rgba.shape[:2]
    if whole or sent.pixels is None or sent.pixels.shape != rgba.shape:
        sent.whole(rgba)
        return "full", fast_png(rgba)
    rects = sent.diff(rgba, [(0, h, 0, w)] if boxes is None else _pixel_spans(boxes, h, w))
    if not rects:
        return "diff", None
    if any(rgba[r0:r1, c0:c1, 3].min() < 255 for r0, r1, c0, c1 in rects):
        return png_frame(rgba, sent, True, None)  # see-through pixels would blend into the old ones
    return "diff", sparse_png(rgba, rects)


def rgba_frame(rgba: np.ndarray, sent: _SentPixels, whole: bool, boxes: list[Any] | None) -> Any:
    """The pixels ``rgba`` for a desktop window's buffer: ``("full", all
    bytes)``, or ``("rects", [(row0, row1, col0, col1, bytes), ...])`` of the
    pixels changed within ``boxes`` since the last frame; None when none did."""
    h, w = rgba.shape[:2]
    if whole or sent.pixels is None or sent.pixels.shape != rgba.shape:
        sent.whole(rgba)
        return "full", rgba.tobytes()
    sent.diff(rgba, [(0, h, 0, w)] if boxes is None else _pixel_spans(boxes, h, w))
    rects = [(r0, r1, c0, c1, rgba[r0:r1, c0:c1].tobytes()) for r0, r1, c0, c1 in sent.now]
    return ("rects", rects) if rects else None


def _ipympl_frame(canvas: Any, sent: _SentPixels, whole: bool, boxes: list[Any] | None) -> tuple[str, bytes | None]:
    """The canvas as a PNG frame (:func:`png_frame`), made ready to send. Uses
    ipympl's private ``_force_full`` (set when a new view asks for a refresh
    or after a resize) and ``_last_buff`` (what ipympl's own diffs start
    from), checked for ipympl 0.9 and 0.10, and WebAgg's public
    ``set_image_mode``."""
    rgba = np.asarray(canvas.get_renderer().buffer_rgba())
    mode, frame = png_frame(rgba, sent, whole or canvas._force_full, boxes)
    if frame is None:
        return mode, None
    canvas._force_full = False
    canvas.set_image_mode(mode)
    assert sent.pixels is not None
    canvas._last_buff = sent.pixels.view(np.uint32).reshape(rgba.shape[:2])
    return mode, frame


def forward_ipympl_frame(canvas: Any, mode: str, frame: bytes) -> None:
    """Send a frame drawn elsewhere (:mod:`.offload`) through ipympl's comm.
    ipympl's own next draw (a resize) starts from a whole frame: its
    ``_last_buff`` is not what the front end shows."""
    canvas.set_image_mode(mode)
    canvas._last_buff = np.empty((0, 0))
    canvas.send_binary(frame)


def put_pixels(canvas: Any, kind: str, pixels: Any) -> None:
    """Copy pixels drawn elsewhere (:mod:`.offload`, kind ``"full"`` or
    ``"rects"``) into a desktop canvas's Agg buffer and show them (public
    ``blit``; the GUI thread only)."""
    from matplotlib.transforms import Bbox

    buffer = np.asarray(canvas.get_renderer().buffer_rgba())
    h, w = buffer.shape[:2]
    rects = [(0, h, 0, w, pixels)] if kind == "full" else pixels
    for r0, r1, c0, c1, data in rects:
        buffer[r0:r1, c0:c1] = np.frombuffer(data, np.uint8).reshape(r1 - r0, c1 - c0, 4)
        canvas.blit(Bbox.from_extents(c0, h - r1, c1, h - r0))


def ipympl_wants_whole(canvas: Any) -> bool:
    """Whether a new front-end view asked for a whole frame (ipympl's ``_force_full``); clears it."""
    wanted = bool(getattr(canvas, "_force_full", False))
    if wanted:
        canvas._force_full = False
    return wanted


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
    - ``"png"``, ``"rgba"``: in the helper process (:mod:`.offload`), each
      frame is kept in ``frame`` for the kernel to forward: as ipympl wants it,
      ``(mode, png)``, or for a desktop window, the pixels changed since the
      last frame (``("full", whole buffer)`` or ``("rects", [(row0, row1,
      col0, col1, bytes), ...])``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._saved_at = self._full_at = -1e9
        self._sent = _SentPixels()
        self.frame: Any = None  # kinds "png", "rgba": the last frame made
        self.whole_next = False  # kinds "png", "rgba": the next frame is a whole one

    def _whole_due(self, full: bool) -> bool:
        """Whether this PNG frame is a whole one: a full draw, asked for, or every few seconds."""
        whole = full or self.whole_next or time.monotonic() - self._full_at >= FULL_FRAME_EVERY
        self.whole_next = False
        return whole

    def _note(self, mode: str) -> None:
        if mode == "full":
            self._full_at = time.monotonic()

    def forget_sent(self) -> None:
        """The screen shows pixels sent by someone else: the next frame is a whole one."""
        self._sent = _SentPixels()

    @property
    def on_gui_thread(self) -> bool:
        return self.kind == "gui"

    def draw_full(self, canvas: Any) -> None:
        """Draw the whole figure (not yet on screen for ipympl)."""
        if self.kind == "gui":
            canvas.draw()
        else:
            _agg_draw(canvas)

    def present(self, canvas: Any, fig: Any, full: bool, boxes: list[Any] | None = None) -> None:
        """Bring the drawn buffer to the screen; ``boxes``: only these areas
        changed (a desktop window copies just them, ipympl sends just them;
        still a whole frame every few seconds)."""
        if boxes is not None and not boxes:
            return
        if self.kind == "png":
            mode, png = png_frame(np.asarray(canvas.get_renderer().buffer_rgba()), self._sent,
                                  self._whole_due(full), boxes)
            self._note(mode)
            self.frame = None if png is None else (mode, png)
        elif self.kind == "rgba":  # a window needs no periodic whole frame: it loses none
            self.frame = rgba_frame(np.asarray(canvas.get_renderer().buffer_rgba()), self._sent,
                                    full or self.whole_next, boxes)
            self.whole_next = False
        elif self.kind == "ipympl-binary":
            mode, frame = _ipympl_frame(canvas, self._sent, self._whole_due(full), boxes)
            self._note(mode)
            if frame is None:
                return
            if getattr(canvas, "syncing_data_url", False):
                # no front end has said "initialized" yet (it may never: nbconvert, papermill, or the
                # kernel is busy): ipympl's send_binary would re-encode the whole figure for the saved
                # picture with every frame, so send the frame as it does and refresh that picture now and then
                canvas.send({"data": '{"type": "binary"}'}, buffers=[frame])
                self._keep_saved_picture(canvas, mode == "full")
            else:
                canvas.send_binary(frame)
        elif self.kind == "ipympl-refresh":
            manager = getattr(canvas, "manager", None)
            if manager is not None:
                manager.refresh_all()
        elif self.kind == "gui":
            for box in [fig.bbox] if boxes is None else boxes:
                canvas.blit(box)

    def _keep_saved_picture(self, canvas: Any, full: bool) -> None:
        """Refresh the picture saved with the notebook (ipympl's ``_data_url``)
        on full frames and at most every few seconds otherwise."""
        now = time.monotonic()
        if not full and now - self._saved_at < SAVED_PICTURE_EVERY:
            return
        self._saved_at = now
        png = fast_png(np.asarray(canvas.get_renderer().buffer_rgba()))
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


def ipympl_display_now(fig: Any) -> bool:
    """Take ``fig`` off ipympl's list of figures to display after the running
    cell, so that the caller displays it now, once; False when that cannot
    be done (ipympl will display it after the cell).

    In interactive mode ipympl queues every pyplot figure it creates and
    displays the queue from IPython's ``post_execute`` hook (private
    ``_Backend_ipympl._to_show``, checked for 0.9 and 0.10): a live figure
    would stay out of sight while its cell blocks (``job.wait()``, ``fit``),
    and displaying it as well would show it twice."""
    import matplotlib

    if not matplotlib.is_interactive():
        return True
    if _ipympl_checked():
        try:
            from ipympl.backend_nbagg import _Backend_ipympl

            if fig in _Backend_ipympl._to_show:
                _Backend_ipympl._to_show.remove(fig)
            return True
        except (ImportError, AttributeError, ValueError):
            pass
    return False


def start_gui_timer(canvas: Any, interval_ms: int, callback: Callable[[], Any]) -> Any:
    """A repeating timer on the backend's own event loop (public API)."""
    timer = canvas.new_timer(interval=max(1, int(interval_ms)))
    timer.add_callback(callback)
    timer.start()
    return timer
