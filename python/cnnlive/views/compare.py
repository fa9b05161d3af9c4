"""One figure overlaying the epoch history of running jobs and saved runs:
one panel per metric, one colour per source, solid for training and dashed
for validation. Running jobs' lines update live through the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..events import Channels
from ..jobs import Job, JobState
from .live import View, renderer


@dataclass
class Saved:
    """A saved run's epoch history (``{metric: [values]}``, epochs 1..n)."""

    label: str
    history: dict[str, list[float]]


class _GroupChannels(Channels):
    """Channels whose version moves when any member job publishes."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self._jobs = list(jobs)
        self._own = 0
        super().__init__()

    @property
    def version(self) -> int:  # type: ignore[override]
        return self._own + sum(j.channels.version for j in self._jobs)

    @version.setter
    def version(self, value: int) -> None:
        self._own = value

    def subscribe(self, notify: Any) -> Any:
        """``notify(channel)`` after a publish on this group or any member job."""
        stops = [super().subscribe(notify)] + [j.channels.subscribe(notify) for j in self._jobs]

        def unsubscribe() -> None:
            for stop in stops:
                stop()

        return unsubscribe


class JobGroup:
    """Job-like handle over several jobs for the renderer: it runs while any
    member runs; its channel version is the sum of theirs."""

    kind = "compare"

    def __init__(self, jobs: Sequence[Job], name: str = "compare") -> None:
        self.jobs = list(jobs)
        self.id = 0
        self.name = name
        self.channels = _GroupChannels(self.jobs)
        self.views: list[Any] = []
        self.progress_fraction = None

    @property
    def done(self) -> bool:
        return all(j.done for j in self.jobs)

    @property
    def state(self) -> JobState:
        return JobState.COMPLETED if self.done else JobState.RUNNING


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


def _job_label(job: Job) -> str:
    return f"job {job.id} {job.name}"


class CompareView(View):
    """Overlay of the epoch histories of jobs and saved runs."""

    def __init__(self, sources: Sequence[Job | Saved], metrics: Sequence[str]) -> None:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        self.sources, self.metrics = list(sources), list(metrics)
        jobs = [s for s in self.sources if isinstance(s, Job)]
        cols = min(3, len(self.metrics))
        rows = int(np.ceil(len(self.metrics) / cols))
        with plt.ioff():  # shown once, by show_compare (ipympl would show an interactive figure again)
            fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows + 0.4), squeeze=False)
        super().__init__(JobGroup(jobs), fig)
        self.axes = dict(zip(self.metrics, axes.flat))
        for ax in list(axes.flat)[len(self.metrics):]:
            ax.axis("off")
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        self.lines: dict[tuple[int, str, str], Any] = {}
        for i, source in enumerate(self.sources):
            label = _job_label(source) if isinstance(source, Job) else source.label
            color = colors[i % len(colors)]
            for metric, ax in self.axes.items():
                for key, style in ((metric, "-"), (f"val_{metric}", "--")):
                    line, = ax.plot([], [], style, marker="o", ms=3, lw=1.3, color=color,
                                    label=label if key == metric else None)
                    self.lines[(i, metric, key)] = line
                    if isinstance(source, Job):
                        self.animate(line)
        for metric, ax in self.axes.items():
            ax.set_title(metric, fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.set_xlim(0.5, 1.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        first = next(iter(self.axes.values()))
        first.legend(fontsize=7, loc="best", title="solid: train · dashed: validation", title_fontsize=7)
        self.x_range = _Range(0.5, 1.5)
        self.y_ranges = {m: _Range(0.0, 1.02) if "acc" in m else _Range() for m in self.metrics}
        self.status = fig.text(0.01, 0.005, "", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        self.update()

    def series(self, i: int, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of one metric key of source ``i``."""
        source = self.sources[i]
        if isinstance(source, Job):
            hist = source.channels.history("epoch")
            values = np.asarray(hist.get(key, []), float)
            x = np.asarray(hist.get("step", []), float)[: len(values)]
            return x, values[: len(x)]
        values = np.asarray(source.history.get(key, []), float)
        return np.arange(1, len(values) + 1, dtype=float), values

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
        group = self.job
        running = [j for j in group.jobs if not j.done]
        self.status.set_text(f"{len(self.sources)} sources · {len(running)} running" if group.jobs else
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
    live = not view.job.done
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


__all__ = ["CompareView", "JobGroup", "Saved", "show_compare"]
