"""Saved runs: what the run folders under ``cnnlive.config.runs_folder()``
hold (a training run: ``model.keras`` and ``history.json``; an OIP:
``oip.npz``/``oip.png``; a dream: ``dream.png``), as a small table.
Pure Python (no TensorFlow)."""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

NOT_METRICS = ("step", "epoch", "scope", "__step__")


@dataclass
class Run:
    """One saved run folder."""

    name: str
    id: int | None
    kind: str                      # train, oip, dream or other
    date: datetime
    path: str
    epochs: int | None = None
    best: tuple[str, float, int] | None = None   # (validation metric, best value, its epoch)
    ended: str | None = None
    history: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def folder(self) -> str:
        return os.path.basename(self.path)

    def best_text(self) -> str:
        return "" if self.best is None else f"{self.best[0]} {self.best[1]:.4g} (epoch {self.best[2]})"


def read_history(path: str) -> dict[str, Any]:
    """A history.json read tolerantly: ``{"epoch": {...}, "batch": {...},
    "ended": ..., "epochs_done": ...}``; a flat ``{metric: [values]}`` counts
    as the epoch history; unreadable files give an empty history."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, ValueError):
        return {"epoch": {}, "batch": {}, "ended": None, "epochs_done": None}
    if not isinstance(raw, dict):
        raw = {}
    epoch = raw.get("epoch") if isinstance(raw.get("epoch"), dict) else {
        k: v for k, v in raw.items() if isinstance(v, list)}
    batch = raw.get("batch") if isinstance(raw.get("batch"), dict) else {}

    def clean(table: dict) -> dict[str, list[float]]:
        out = {}
        for k, v in table.items():
            if isinstance(v, list) and all(isinstance(x, (int, float)) or x is None for x in v):
                out[str(k)] = [float("nan") if x is None else float(x) for x in v]
        return out

    done = raw.get("epochs_done")
    ended = raw.get("ended")
    return {"epoch": clean(epoch), "batch": clean(batch), "ended": ended if isinstance(ended, str) else None,
            "epochs_done": done if isinstance(done, int) and not isinstance(done, bool) and done >= 0 else None}


_CACHE: OrderedDict[str, tuple[tuple[int, int], dict[str, Any]]] = OrderedDict()
CACHE_SIZE = 256  # parsed histories kept (listing the runs folder reads each one)
_CACHE_LOCK = threading.Lock()


def cached_history(path: str) -> dict[str, Any]:
    """:func:`read_history` of ``path``, reused while the file's mtime and size
    stay the same (a small LRU cache; callers must not change the result)."""
    try:
        st = os.stat(path)
    except OSError:
        return read_history(path)
    key = (st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        hit = _CACHE.get(path)
        if hit is not None and hit[0] == key:
            _CACHE.move_to_end(path)
            return hit[1]
    history = read_history(path)
    with _CACHE_LOCK:
        _CACHE[path] = (key, history)
        _CACHE.move_to_end(path)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return history


def metric_names(history: dict[str, list[float]]) -> list[str]:
    """Metric base names of an epoch history (``val_loss`` counts as ``loss``)."""
    names: list[str] = []
    for key in history:
        if key in NOT_METRICS:
            continue
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    return names


def best_validation(history: dict[str, list[float]]) -> tuple[str, float, int] | None:
    """(metric, best value, epoch) of val_accuracy, else the first val_ metric
    (lowest for losses and errors, highest otherwise)."""
    keys = [k for k in history if k.startswith("val_") and history[k]]
    if not keys:
        return None
    key = "val_accuracy" if "val_accuracy" in keys else ("val_loss" if "val_loss" in keys else keys[0])
    values = [(v, i) for i, v in enumerate(history[key]) if v == v]
    if not values:
        return None
    lower = any(w in key for w in ("loss", "error", "mae", "mse"))
    value, i = min(values) if lower else max(values, key=lambda p: (p[0], -p[1]))
    return key, value, i + 1


def _kind(files: set[str]) -> str:
    if "model.keras" in files or ("history.json" in files and not files & {"oip.npz", "oip.png", "oip.gif"}):
        return "train"
    if files & {"oip.npz", "oip.png", "oip.gif"}:  # an every-epoch OIP: also history.json (quality per epoch)
        return "oip"
    if any(f.startswith("dream") for f in files):
        return "dream"
    return "other"


def read_run(path: str) -> Run:
    """The summary of one run folder."""
    files = set(os.listdir(path))
    match = re.fullmatch(r"(.+)-(\d+)", os.path.basename(os.path.normpath(path)))
    name, run_id = (match.group(1), int(match.group(2))) if match else (os.path.basename(path), None)
    stamps = [os.path.getmtime(os.path.join(path, f)) for f in files] or [os.path.getmtime(path)]
    run = Run(name, run_id, _kind(files), datetime.fromtimestamp(max(stamps)), os.path.abspath(path))
    if "history.json" in files:
        h = cached_history(os.path.join(path, "history.json"))
        run.history, run.ended = {k: list(v) for k, v in h["epoch"].items()}, h["ended"]
        run.epochs = h["epochs_done"] if h["epochs_done"] is not None else max(
            (len(v) for v in h["epoch"].values()), default=0)
        run.best = best_validation(h["epoch"])
    return run


class RunsTable:
    """Saved runs, newest first: ``len``, iteration, ``table[i]`` or
    ``table["name-id"]``, a text repr and an HTML table in notebooks."""

    COLUMNS = ("name", "id", "kind", "date", "epochs", "best validation", "path")

    def __init__(self, folder: str, runs: list[Run]) -> None:
        self.folder, self.runs = folder, runs

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __getitem__(self, key: int | str) -> Run:
        if isinstance(key, str):
            for run in self.runs:
                if key in (run.folder, run.path):
                    return run
            raise KeyError(f"no run {key!r} in {self.folder}; runs: {', '.join(self.names()) or 'none'}")
        return self.runs[key]

    def names(self) -> list[str]:
        return [r.folder for r in self.runs]

    def rows(self) -> list[tuple[str, ...]]:
        return [(r.name, "" if r.id is None else str(r.id), r.kind, r.date.strftime("%Y-%m-%d %H:%M:%S"),
                 "" if r.epochs is None else str(r.epochs), r.best_text(), r.path) for r in self.runs]

    def __repr__(self) -> str:
        if not self.runs:
            return f"no saved runs in {self.folder}"
        rows = [self.COLUMNS] + self.rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.COLUMNS))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        return f"{len(self.runs)} saved runs in {self.folder}\n" + "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.runs:
            return f"<p>no saved runs in <code>{html.escape(self.folder)}</code></p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in self.rows())
        return (f"<p>{len(self.runs)} saved runs in <code>{html.escape(self.folder)}</code></p>"
                f"<table class='cnnlive-runs'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def list_runs(folder: str) -> RunsTable:
    """All run folders in ``folder`` (missing folder: an empty table)."""
    runs = []
    if os.path.isdir(folder):
        for entry in os.scandir(folder):
            if entry.is_dir() and not entry.name.startswith("."):
                try:
                    runs.append(read_run(entry.path))
                except OSError:  # removed while listing
                    continue
    runs.sort(key=lambda r: r.date, reverse=True)
    return RunsTable(os.path.abspath(folder), runs)


def resolve_run(ref: Any, folder: str) -> Run:
    """A run from a Run, a path, or a folder name inside ``folder``; the
    error lists the runs found."""
    if isinstance(ref, Run):
        return ref
    path = os.fspath(ref)
    for candidate in (path, os.path.join(folder, path)):
        if os.path.isdir(candidate):
            return read_run(candidate)
    found = list_runs(folder).names()
    raise FileNotFoundError(f"no run folder {path!r} (nor in {folder}); runs found there: "
                            f"{', '.join(found) if found else 'none'}")


__all__ = ["Run", "RunsTable", "best_validation", "cached_history", "list_runs", "metric_names", "read_history", "read_run",
           "resolve_run"]
