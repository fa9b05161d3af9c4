"""The training dashboard: one axis per metric the logs carry, learning
rate and speed, and a resource line."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..events.channels import STEP
from ..events.watch import RATE_KEYS
from .layout import _grow, _smooth, _thin, columns, figure_inches, grid_positions, row_counts, x_limit
from .resources import ResourceGraphs
from .view import View


#: cnnlive's own series (drawn apart, or as the x axis), unless a user metric took the name (then
#: cnnlive's is ``cnnlive_<name>``); ``epochs`` is a planned total, never drawn.
OWN_SERIES = ("epoch", "lr", "batch_time", "samples_per_s", "batches_per_s")
NOT_METRICS = (STEP, "epochs")


def own_key(history: dict[str, list[float]], name: str) -> str:
    """Where cnnlive's own series ``name`` is: ``cnnlive_<name>`` when a user
    metric has that name (the training callback moves its own one there)."""
    return f"cnnlive_{name}" if f"cnnlive_{name}" in history else name


def rate_keys(latest: Any, batch: dict[str, list[float]]) -> list[str]:
    """The training's learning-rate series: those its metrics row names
    (:data:`~cnnlive.events.watch.RATE_KEYS`; one per optimizer), else
    cnnlive's ``lr``."""
    named = latest.get(RATE_KEYS) if isinstance(latest, dict) else None
    return [k for k in named.split(",") if k] if isinstance(named, str) else [own_key(batch, "lr")]


def metric_names(batch: dict[str, list[float]], epoch: dict[str, list[float]],
                 rates: list[str] | None = None) -> list[str]:
    """Metrics the logs carry, ``val_`` twins folded in: loss first, then in
    order of appearance (a user metric named like one of cnnlive's series
    included, cnnlive's own ``cnnlive_*`` series and learning ``rates`` not;
    given the rates, an "lr" not among them is the user's)."""
    names: list[str] = []
    for key in list(batch) + list(epoch):
        if rates is not None and key in rates:
            continue
        base = key[4:] if key.startswith("val_") else key
        own = (base in OWN_SERIES and f"cnnlive_{base}" not in batch and f"cnnlive_{base}" not in epoch
               and not (base == "lr" and rates is not None and "lr" not in rates))  # an "lr" not a rate: the user's
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
        self.rate_lines: list[Any] = [self.slot_lines[self.MAX_METRICS]["line"]]  # one per optimizer
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
        """Give the fixed axes their metrics; hide the unused ones. ``extra``:
        the learning rates (all in one axis, named by the first) and "speed"."""
        rates = [k for k in extra if k != "speed"]
        names = metrics + [None] * (self.MAX_METRICS - len(metrics)) + [
            rates[0] if rates else None, "speed" if "speed" in extra else None]
        self.lines, self.axes = {}, {}
        for i, (ax, name) in enumerate(zip(self.slots, names)):
            if name != self.slot_names[i]:
                for line in self.slot_lines[i].values():
                    line.set_data([], [])
                own = i >= self.MAX_METRICS  # cnnlive's rate and speed slots; a user's metric keeps its name
                ax.set_title(("learning rate" if i == self.MAX_METRICS else "samples / s") if own and name
                             else name or "", fontsize=9)
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
        self._rate_lines(rates)
        self.panels = metrics + extra
        self._background = None
        if hasattr(self, "graphs"):
            self.layout()

    def _rate_lines(self, rates: list[str]) -> None:
        """One line per learning rate in the rate axis (a legend for several)."""
        ax = self.slots[self.MAX_METRICS]
        while len(self.rate_lines) < len(rates):
            line = ax.plot([], [], lw=1.2)[0]
            self.animate(line)
            self.rate_lines.append(line)
        for i, line in enumerate(self.rate_lines):
            if i >= len(rates):
                line.set_data([], [])
                line.set_label("_hidden")
            else:
                self.lines[rates[i]] = line
                line.set_label(rates[i].removeprefix("cnnlive_").removeprefix("lr_") if len(rates) > 1 else "lr")
        legend = ax.get_legend()
        if len(rates) > 1:
            ax.legend(handles=self.rate_lines[: len(rates)], fontsize=7, loc="best")
        elif legend is not None:
            legend.remove()

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
        named = rate_keys(self.watch.channels.latest("metrics"), batch)  # "cnnlive_lr" beside a user metric "lr"
        metrics = metric_names(batch, epoch, named)[: self.MAX_METRICS] or ["loss"]
        rates = [k for k in named if any(np.isfinite(batch.get(k, [np.nan])))]
        speed_key = self._speed_key(batch)
        extra = rates + (["speed"] if speed_key is not None else [])
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
        for key in rates:  # one axis, named by the first rate, limited by the highest
            values = batch[key]
            m = min(n, len(values))  # the newest points of a series that began later
            self.lines[key].set_data(*_thin(x[n - m:], values[len(values) - m:], column // 2))
        if rates:
            wanted[rates[0]] = max([v for k in rates for v in batch[k][:1] + batch[k][-1:] if np.isfinite(v)] or [0.0])
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


__all__ = ["NOT_METRICS", "TrainingDashboard", "metric_names", "own_key", "rate_keys"]
