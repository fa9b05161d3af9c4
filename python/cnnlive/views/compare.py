"""One figure overlaying the epoch history of running jobs and saved runs:
one panel per metric, one colour per source, solid for training and dashed
for validation. Running jobs' lines update live through the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Sequence

import numpy as np

from ..events import STEP, Channels
from ..events.watch import Watch, as_watch
from .live import renderer
from .view import View


@dataclass
class Saved:
    """A saved run's epoch history (``{metric: [values]}``, epochs 1..n)."""

    label: str
    history: dict[str, list[float]]


class _GroupChannels(Channels):
    """Channels whose version moves when any member publishes."""

    def __init__(self, members: Sequence[Watch]) -> None:
        self._members = list(members)
        self._own = 0
        super().__init__()

    @property
    def version(self) -> int:  # type: ignore[override]
        return self._own + sum(w.channels.version for w in self._members)

    @version.setter
    def version(self, value: int) -> None:
        self._own = value

    def subscribe(self, notify: Any) -> Any:
        """``notify(channel)`` after a publish on this group or any member."""
        stops = [super().subscribe(notify)] + [w.channels.subscribe(notify) for w in self._members]

        def unsubscribe() -> None:
            for stop in stops:
                stop()

        return unsubscribe


class GroupState(str, Enum):
    """The state of a group: running while any member runs (values as JobState's)."""

    RUNNING = "running"
    COMPLETED = "completed"


class GroupWatch:
    """A read-only watch over several watches, for the renderer: it runs
    while any member runs; its channel version is the sum of theirs."""

    kind = "compare"
    id = 0
    progress_fraction = None
    result = None

    def __init__(self, members: Sequence[Any], name: str = "compare") -> None:
        self.members: list[Watch] = [as_watch(m) for m in members]
        self.name = name
        self.channels = _GroupChannels(self.members)

    @property
    def done(self) -> bool:
        return all(w.done for w in self.members)

    @property
    def state(self) -> GroupState:
        return GroupState.COMPLETED if self.done else GroupState.RUNNING

    @property
    def elapsed(self) -> float:
        return max((w.elapsed for w in self.members), default=0.0)


class _Range:
    """Axis limits that only grow, in steps of a quarter of the range."""

    def __init__(self, lo: float | None = None, hi: float | None = None) -> None:
        self.lo, self.hi = lo, hi

    def grow(self, values: np.ndarray) -> bool:
        values = values[np.isfinite(values)]
        if not len(values):
            return False
        lo, hi = float(values.min()), float(values.max())
        if self.lo is not None and self.hi is not None and lo >= self.lo and hi <= self.hi:
            return False
        new_lo = lo if self.lo is None else min(self.lo, lo)
        new_hi = hi if self.hi is None else max(self.hi, hi)
        pad = 0.25 * ((new_hi - new_lo) or abs(new_hi) or 1.0)
        self.lo = new_lo if self.lo is not None and lo >= self.lo else new_lo - pad
        if new_lo >= 0:  # non-negative data (losses, rates): the axis starts at 0
            self.lo = 0.0
        self.hi = new_hi if self.hi is not None and hi <= self.hi else new_hi + pad
        return True


def _job_label(watch: Watch) -> str:
    return f"job {watch.id} {watch.name}"


class CompareView(View):
    """Overlay of the epoch histories of jobs (their watches) and saved runs."""

    def __init__(self, sources: Sequence[Any], metrics: Sequence[str]) -> None:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        self.sources: list[Watch | Saved] = [s if isinstance(s, Saved) else as_watch(s) for s in sources]
        self.metrics = list(metrics)
        watches = [s for s in self.sources if not isinstance(s, Saved)]
        from .layout import columns, figure_inches, grid_positions, row_counts

        width = figure_inches(None)[0]  # the dashboard's width and grid: no empty slots
        rows = len(row_counts(len(self.metrics), columns(width)))
        inches = (width, 2.5 * rows + 0.5)
        with plt.ioff():  # shown once, by show_compare (ipympl would show an interactive figure again)
            fig = plt.figure(figsize=inches)
        super().__init__(GroupWatch(watches), fig)
        self.axes = {m: fig.add_axes(rect) for m, rect in
                     zip(self.metrics, grid_positions(len(self.metrics), inches, top=0.02, bottom=0.3))}
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        self.lines: dict[tuple[int, str, str], Any] = {}
        for i, source in enumerate(self.sources):
            label = source.label if isinstance(source, Saved) else _job_label(source)
            color = colors[i % len(colors)]
            for metric, ax in self.axes.items():
                for key, style in ((metric, "-"), (f"val_{metric}", "--")):
                    line, = ax.plot([], [], style, marker="o", ms=3, lw=1.3, color=color,
                                    label=label if key == metric else None)
                    self.lines[(i, metric, key)] = line
                    if not isinstance(source, Saved):
                        self.animate(line)
        for metric, ax in self.axes.items():
            ax.set_title(metric, fontsize=9)
            ax.tick_params(labelsize=7)
            if metric in self.metrics[-row_counts(len(self.metrics), columns(width))[-1]:]:
                ax.set_xlabel("epoch", fontsize=8)  # under the last row only: never into a title
            ax.set_xlim(0.5, 1.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        first = next(iter(self.axes.values()))
        first.legend(fontsize=7, loc="best", title="solid: train · dashed: validation", title_fontsize=7)
        self.x_range = _Range(0.5, 1.5)
        self.y_ranges = {m: _Range(0.0, 1.02) if "acc" in m else _Range() for m in self.metrics}
        self.status = fig.text(0.01, 0.005, "", fontsize=8)
        if self.animated:  # live sources: the status line changes with them, drawn like their lines
            self.animate(self.status)
        self.update()

    def series(self, i: int, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of one metric key of source ``i``."""
        source = self.sources[i]
        if isinstance(source, Saved):
            values = np.asarray(source.history.get(key, []), float)
            return np.arange(1, len(values) + 1, dtype=float), values
        hist = source.channels.history("epoch")
        values = np.asarray(hist.get(key, []), float)
        x = np.asarray(hist.get(STEP, []), float)[: len(values)]
        return x, values[: len(x)]

    def update(self) -> bool:
        changed = False
        for (i, metric, key), line in self.lines.items():
            x, y = self.series(i, key)
            line.set_data(x, y)
            if len(x):
                changed |= self.x_range.grow(np.r_[x, 0.5])
                changed |= self.y_ranges[metric].grow(y)
        if changed:
            for metric, ax in self.axes.items():
                ax.set_xlim(self.x_range.lo, self.x_range.hi)
                r = self.y_ranges[metric]
                if r.lo is not None:
                    ax.set_ylim(r.lo, r.hi)
        group = self.watch
        running = [w for w in group.members if not w.done]
        self.status.set_text(f"{len(self.sources)} sources · {len(running)} running" if group.members else
                             f"{len(self.sources)} saved runs")
        if group.done and self.animated:  # final frame: everything static, so later redraws keep the lines
            for artist in self.animated:
                artist.set_animated(False)
            self.animated = []
            return True
        return changed

    def save(self, path: str, dpi: int = 110) -> str:
        """Save the figure with every line drawn."""
        with self.lock:
            self.update()
            for artist in self.animated:
                artist.set_animated(False)
            self.fig.savefig(path, dpi=dpi)
            for artist in self.animated:
                artist.set_animated(True)
            self._background = None
        return path


def show_compare(view: CompareView) -> CompareView:
    """Display the figure here and let the renderer update it while jobs run."""
    import matplotlib

    backend = matplotlib.get_backend().lower()
    live = not view.watch.done
    if "ipympl" in backend or "widget" in backend:
        from IPython.display import display

        display(view.canvas)
    elif "inline" in backend:
        import matplotlib.pyplot as plt
        from IPython.display import display

        with view.lock:
            view.update()
            for artist in view.animated:
                artist.set_animated(False)
        display(view.fig)
        plt.close(view.fig)
        return view
    elif backend.startswith(("qt", "tk", "gtk", "wx", "macosx")):
        view.fig.show()
    if live:
        renderer().add(view)
    else:
        with view.lock:
            view.update()
    return view


__all__ = ["CompareView", "GroupState", "GroupWatch", "Saved", "show_compare"]
