"""The frame machinery every live figure shares: a :class:`View` is a
figure bound to a job's read-only watch that redraws as little as it can.

A frame redraws only the areas whose animated artists changed (restored from
a cached background), or, when ``update`` reports axes whose limits moved,
only those axes into the background; a full draw happens at the start, when
the layout changes, after a resize or a backend's own draw, and at the end.
How frames reach the screen is chosen per figure in :mod:`.compat`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..events.watch import Watch, as_watch
from . import compat
from .resources import ResourceHistory

log = logging.getLogger("cnnlive")


def _overlap(a: Any, b: Any) -> bool:
    """Whether two boxes share pixels (touching edges do not count)."""
    from matplotlib.transforms import Bbox

    both = Bbox.intersection(a, b)
    return both is not None and both.width > 0 and both.height > 0


#: how long the first frame waits for the job's first data (s): the laid-out,
#: empty axes show within a second of ``plot=True`` even when the job is slow to start
FIRST_FRAME_WAIT = 0.3

class View:
    """A figure bound to a job's read-only watch; ``update`` reads its channels.
    ``source`` is a watch, or anything that gives one (``job.watch()``).

    How frames reach the screen is chosen once, here (:mod:`.compat`). The
    renderer thread (ipympl, Agg) or a timer on the GUI's own event loop
    (desktop backends) calls :meth:`step`."""

    def __init__(self, source: Any, fig: Any) -> None:
        self.watch: Watch = as_watch(source)
        self.fig = fig
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
        self._extents: dict[Any, Any] = {}
        self._areas: dict[Any, Any] = {}
        self._born = time.monotonic()
        self._size: Any = None
        self._status_state: Any = None
        self._status_at = 0.0
        self._own_draw = False
        self._reported = False
        self.twin: Any = None  # set by show(): the helper process draws the frames (.offload)
        self._drawn_elsewhere = False
        fig.canvas.mpl_connect("close_event", lambda _e: setattr(self, "closed", True))
        fig.canvas.mpl_connect("draw_event", self._on_draw)
        self.resources = ResourceHistory()

    def _on_draw(self, _event: Any) -> None:
        """A draw we did not make (resize, expose, ipympl's own request)
        dropped the animated artists and may change the size: redo a full frame."""
        if not self._own_draw:
            self._background = None
            self.version = -1
            twin = self.twin
            if twin is not None:
                twin.want_whole()

    @property
    def job(self) -> Watch:
        """The watch (older name; a view never holds the Job itself)."""
        return self.watch

    def update(self) -> bool | list[Any]:  # pragma: no cover - overridden
        """Update artists from the job. True when the whole figure needs a
        full redraw, a list of axes when only those changed (limits, titles),
        False or an empty list when only the animated artists changed. A
        change to anything else that is not reported here is not drawn."""
        raise NotImplementedError

    def has_data(self) -> bool:
        """Whether the job has published what this figure shows."""
        return True

    def resources_text(self) -> str:
        self.resources.sample()
        return self.resources.text()

    def set_status(self, detail: str = "") -> None:
        """Write the status line (``self.status``): job, state, progress,
        ``detail`` and resources; at most once a second unless the state
        changed, since drawing new text costs more than the lines."""
        state = self.watch.state.value
        now = time.monotonic()
        if state == self._status_state and now - self._status_at < 1.0:
            return
        self._status_state, self._status_at = state, now
        frac = self.watch.progress_fraction
        self.status.set_text(f"job {self.watch.id} {self.watch.name}: {state}"
                             f"{'' if frac is None else f' · {100 * frac:.0f}%'}{detail} · {self.resources_text()}")

    def render(self) -> None:
        """Update artists and draw, under the figure's lock. Only the axes
        whose limits or titles changed are redrawn into the cached background;
        the animated artists go over it (blitting)."""
        with self.lock:
            # what changes here is drawn here: keep pyplot from asking the backend
            # for a second, full draw (interactive mode calls draw_idle on every change)
            callback, self.fig.stale_callback = self.fig.stale_callback, None
            try:
                self._draw_frame()
            finally:
                self.fig.stale_callback = callback
                self.fig.stale = False
        self.frames += 1

    def _draw_frame(self) -> None:
        """Redraw what changed: a full frame, some axes into the background,
        or only the areas of changed animated artists."""
        changed = self.update()
        canvas = self.canvas
        size = (canvas.get_width_height(physical=True), self.fig.dpi)  # a resize or a new pixel ratio
        full = (changed is True or self._background is None or size != self._size
                or any(ax not in self._extents for ax in changed or ()))
        if full:
            self._size = size
            self._own_draw = True
            try:
                self.push.draw_full(canvas)
            finally:
                self._own_draw = False
            renderer = canvas.get_renderer()
            self._extents = {ax: ax.get_tightbbox(renderer) for ax in self.fig.axes if ax.get_visible()}
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        elif not changed and (boxes := self._blit_areas(canvas)) is not None:
            self.push.present(canvas, self.fig, False, boxes)
            return
        else:
            canvas.restore_region(self._background)
            if changed:
                self._redraw_axes(canvas, list(changed))
        self._copy_areas(canvas)
        for artist in self.animated:
            self._draw_animated(canvas, artist, full)
        self.push.present(canvas, self.fig, full)

    def _copy_areas(self, canvas: Any) -> None:
        """Keep the background pixels of each animated area (the canvas holds
        the bare background now): an axes, to which its lines are clipped, or
        the full-width strip of a figure-level text."""
        from matplotlib.transforms import Bbox

        self._areas = {}
        for artist in self.animated:
            key = artist.axes if artist.axes is not None else artist
            if key in self._areas or (key is not artist and not key.get_visible()):
                continue  # a hidden axes (a dashboard's unused slot) has no area on screen
            if key is artist:
                if not artist.get_text():
                    continue
                ext = artist.get_window_extent(canvas.get_renderer())
                box = Bbox([[0, ext.y0 - 3], [self.fig.bbox.width, ext.y1 + 3]])
            else:
                box = key.bbox
            box = box.frozen()
            if any(_overlap(box, other) for _, other in self._areas.values()):
                self._areas = {}  # areas that overlap (insets, twin axes): frames restore the whole background
                return
            self._areas[key] = (canvas.copy_from_bbox(box), box)

    def _blit_areas(self, canvas: Any) -> list[Any] | None:
        """Restore and redraw only the areas whose animated artists changed
        (matplotlib marks them stale); the rest of the last frame stays. The
        boxes drawn, or None when this cannot be done here (a text with no
        extent yet)."""
        dirty: dict[Any, list[Any]] = {}
        for artist in self.animated:
            key = artist.axes if artist.axes is not None else artist
            if key not in self._areas:
                return None
            dirty.setdefault(key, []).append(artist)
        dirty = {k: arts for k, arts in dirty.items()
                 if any(a.stale for a in arts) and (k not in self.fig.axes or k.get_visible())}
        for key, artists in dirty.items():
            canvas.restore_region(self._areas[key][0])
            for artist in artists:
                if artist.axes is not None:
                    artist.axes.draw_artist(artist)
                else:
                    self.fig.draw_artist(artist)
        return [self._areas[key][1] for key in dirty]

    def _redraw_axes(self, canvas: Any, axes: list[Any]) -> None:
        """Redraw some axes into the background: clear the pixels they cover
        (old and new labels) and draw them again. Axes whose labels reach into
        that area are redrawn too. A full frame costs ten times more."""
        from matplotlib.patches import Rectangle
        from matplotlib.transforms import Bbox, IdentityTransform

        renderer = canvas.get_renderer()
        others = [a for a in self.fig.axes if a.get_visible() and a in self._extents]
        old = dict(self._extents)
        todo: list[Any] = []
        boxes: list[Any] = []
        queue = [a for a in axes if a in old]
        while queue:
            ax = queue.pop()
            if ax in todo:
                continue
            todo.append(ax)
            self._extents[ax] = ax.get_tightbbox(renderer)
            box = Bbox.union([old[ax], self._extents[ax]]).padded(2)
            boxes.append(box)
            queue += [a for a in others if a not in todo and Bbox.intersection(box, old[a]) is not None]
        for box in boxes:
            clip = Bbox.intersection(box, self.fig.bbox)
            if clip is None:
                continue
            patch = Rectangle((clip.x0, clip.y0), clip.width, clip.height, transform=IdentityTransform(),
                              facecolor=self.fig.get_facecolor(), edgecolor="none", linewidth=0)
            patch.set_figure(self.fig)
            patch.draw(renderer)
        for ax in self.fig.axes:  # in the order of a full draw: a later axes covers an earlier one
            if ax in todo:
                ax.draw(renderer)
        self._background = canvas.copy_from_bbox(self.fig.bbox)

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
            self._drop_twin()
            return False
        version = (self.watch.channels.version, self.watch.state)
        finished = self.watch.done
        if (not self.frames and not finished and not self.has_data()
                and time.monotonic() < self._born + FIRST_FRAME_WAIT):
            return True  # the first frame waits a little for data: a figure drawn twice costs a frame each
        try:
            if self.twin is not None and not finished:
                if self.twin.tick(version != self.version):
                    self.version, self._drawn_elsewhere = version, True
                    return True
                self.twin.want_whole()  # the next picture the helper draws follows one drawn here
                if self.twin.dropped or self.twin.helper.failed:
                    self._drop_twin()
            if finished:
                self._drop_twin()
            if self._drawn_elsewhere:  # the screen shows the helper's frames: start from a whole one
                self._drawn_elsewhere, self._background = False, None
                self.push.forget_sent()
            if version != self.version:
                self.version = version
                self.render()
            if finished and version == self.version:
                self.finish()
                return False
        except Exception as exc:  # noqa: BLE001 - a broken figure stops itself, never the job or other figures
            self.report_broken(exc)
            self._drop_twin()
            return False
        return True

    def _drop_twin(self) -> None:
        if self.twin is not None:
            self.twin.close()
            self.twin = None

    def report_broken(self, exc: BaseException) -> None:
        """Say once (logging and the job's log) that this figure stopped."""
        if self._reported:
            return
        self._reported = True
        log.error("live figure of job %s stopped", self.watch.id, exc_info=exc)
        self.watch.channels.publish("log", f"live figure stopped: {type(exc).__name__}: {exc}\n")

    def tick(self) -> None:
        """The GUI timer's callback (desktop backends, on the GUI thread)."""
        if not self.step() and self.timer is not None:
            self.timer.stop()
