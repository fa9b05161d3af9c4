"""Saved runs: what the run folders under ``cnnlive.config.runs_folder()``
hold (a training run: ``model.keras`` and ``history.json``; an OIP:
``oip.npz``/``oip.png``; a dream: ``dream.png``), as a small table.
Pure Python (no TensorFlow)."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, NamedTuple

from ..markup import escape
from .bounded import ByteCache, UnreadableFile, display_name, folder_problem, load_json

log = logging.getLogger("cnnlive")

#: Keys of an epoch history that are not metrics: the live channels' x positions and scope
#: (events.channels.STEP/SCOPE); "step", "epoch" and "scope" are metrics like any other.
NOT_METRICS = ("__step__", "__scope__")


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
    _history: dict[str, list[float]] | None = field(default=None, repr=False, compare=False)

    @property
    def history(self) -> dict[str, list[float]]:
        """The epoch history (``{metric: values}``), read from history.json on
        first use (through a byte-bounded cache); a copy of your own."""
        if self._history is None:
            path = os.path.join(self.path, "history.json")
            has = os.path.isfile(path)  # a training run, or an every-epoch OIP (its quality per epoch)
            self._history = {k: list(v) for k, v in epoch_history(path).items()} if has else {}
        return self._history

    @history.setter
    def history(self, value: dict[str, list[float]]) -> None:
        self._history = value

    @property
    def folder(self) -> str:
        return os.path.basename(self.path)

    def best_text(self) -> str:
        return "" if self.best is None else f"{self.best[0]} {self.best[1]:.4g} (epoch {self.best[2]})"


#: history.json files larger than this are not read (the run is listed as unreadable).
MAX_HISTORY_BYTES = 64 * 2**20
#: JSON nesting deeper than this is not parsed (cnnlive writes 3 levels).
MAX_HISTORY_DEPTH = 16
UnreadableRun = UnreadableFile  # a run folder or its history.json that cannot be read within the limits


class Unreadable(NamedTuple):
    """A folder of the runs folder left out of the list, and why."""

    folder: str          # its name (bad bytes shown as U+FFFD)
    reason: str
    date: datetime | None


def read_history(path: str) -> dict[str, Any]:
    """A history.json read tolerantly: ``{"epoch": {...}, "batch": {...},
    "ended": ..., "epochs_done": ...}``; a flat ``{metric: [values]}`` counts
    as the epoch history; unreadable files give an empty history
    (:func:`load_history` says why)."""
    try:
        return load_history(path)
    except UnreadableRun:
        return {"epoch": {}, "batch": {}, "ended": None, "epochs_done": None}


def load_history(path: str) -> dict[str, Any]:
    """:func:`read_history`, raising UnreadableRun for a missing, too large,
    too deep or malformed file."""
    raw = load_json(path, MAX_HISTORY_BYTES, MAX_HISTORY_DEPTH)
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


#: Parsed epoch histories (for comparing runs) kept at most, in bytes.
HISTORY_CACHE_BYTES = 64 * 2**20
#: Run summaries (epochs, best, ended) of the runs list kept at most, in bytes.
SUMMARY_CACHE_BYTES = 4 * 2**20
_HISTORIES = ByteCache(HISTORY_CACHE_BYTES)
_CACHE_LOCK = threading.Lock()
_SUMMARIES = ByteCache(SUMMARY_CACHE_BYTES)


def _file_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def history_bytes(*tables: dict[str, list[float]]) -> int:
    """About how many bytes parsed history tables take (a float in a list: ~32 bytes)."""
    return 200 + sum(100 + len(k) + 32 * len(v) for table in tables for k, v in table.items())


def cached_history(path: str) -> dict[str, Any]:
    """:func:`read_history` of ``path``, reused while the file stays the same
    (a byte-bounded LRU cache; callers must not change the result)."""
    key = _file_key(path)
    hit = _HISTORIES.get(path, key) if key is not None else None
    if hit is not None:
        return hit
    history = read_history(path)
    if key is not None:
        _HISTORIES.put(path, key, history, history_bytes(history["epoch"], history["batch"]))
    return history


def epoch_history(path: str) -> dict[str, list[float]]:
    """The epoch history in the history.json at ``path`` (cached by bytes;
    callers must not change it). Raises UnreadableRun."""
    key = _file_key(path)
    hit = _HISTORIES.get(path, ("epoch", key)) if key is not None else None
    if hit is not None:
        return hit
    epoch = load_history(path)["epoch"]
    if key is not None:
        _HISTORIES.put(path, ("epoch", key), epoch, history_bytes(epoch))
    return epoch


def history_summary(path: str) -> dict[str, Any]:
    """What the runs list shows of a history.json: ``epochs``, ``best``,
    ``ended`` (cached, small). Raises UnreadableRun with the reason (the
    reason is cached too, so a bad file is not read again until it changes)."""
    key = _file_key(path)
    hit = _SUMMARIES.get(path, key) if key is not None else None
    if hit is None:
        try:
            h = load_history(path)
            best = best_validation(h["epoch"])
            if best is not None:
                best = (best[0][:200], best[1], best[2])
            hit = {"epochs": h["epochs_done"] if h["epochs_done"] is not None else max(
                       (len(v) for v in h["epoch"].values()), default=0),
                   "best": best, "ended": None if h["ended"] is None else h["ended"][:100]}
        except UnreadableRun as exc:
            hit = {"unreadable": str(exc)}
        if key is not None:
            _SUMMARIES.put(path, key, hit, 600)
    if "unreadable" in hit:
        raise UnreadableRun(hit["unreadable"])
    return hit


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
    """The summary of one run folder (its epoch history is read when
    ``run.history`` is first used). Raises UnreadableRun or OSError."""
    files: set[str] = set()
    stamps: list[float] = []
    with os.scandir(path) as entries:
        for entry in entries:
            files.add(entry.name)
            if len(stamps) < MAX_FILES_STAT:
                try:
                    stamps.append(entry.stat(follow_symlinks=False).st_mtime)
                except OSError:  # removed meanwhile
                    continue
    match = re.fullmatch(r"(.+)-(\d+)", os.path.basename(os.path.normpath(path)))
    name, run_id = (match.group(1), int(match.group(2))) if match and len(match.group(2)) <= 18 else (
        os.path.basename(path), None)
    stamps = stamps or [os.lstat(path).st_mtime]
    run = Run(name, run_id, _kind(files), datetime.fromtimestamp(max(stamps)), os.path.abspath(path))
    if "history.json" in files:
        summary = history_summary(os.path.join(path, "history.json"))
        run.epochs, run.best, run.ended = summary["epochs"], summary["best"], summary["ended"]
    return run


#: A run folder's modification time is the newest of at most this many of its files.
MAX_FILES_STAT = 1000


_REPORTED: OrderedDict[tuple[str, str], None] = OrderedDict()


def _report(path: str, reason: str) -> None:
    """Log once why a folder is left out of the runs list (until the reason changes)."""
    key = (path, reason)
    with _CACHE_LOCK:
        if key in _REPORTED:
            return
        _REPORTED[key] = None
        while len(_REPORTED) > 1000:
            _REPORTED.popitem(last=False)
    log.warning("cnnlive runs: %s left out: %s", display_name(path), reason)


class RunsTable:
    """Saved runs, newest first: ``len``, iteration, ``table[i]`` or
    ``table["name-id"]``, a text repr and an HTML table in notebooks."""

    COLUMNS = ("name", "id", "kind", "date", "epochs", "best validation", "path")

    def __init__(self, folder: str, runs: list[Run]) -> None:
        self.folder, self.runs = folder, runs
        self.unreadable: list[Unreadable] = []  # folders left out, with the reason
        self.kind, self.others = "all", 0  # the kind listed; runs of other kinds left out

    def _heading(self) -> str:
        what = "" if self.kind == "all" else f" of kind {self.kind}"
        left = f" ({self.others} of other kinds: kind='all' lists them)" if self.others else ""
        return f"{len(self.runs) or 'no'} saved runs{what} in {self.folder}{left}"

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

    def _left_out(self) -> str:
        return "; ".join(f"{u.folder}: {u.reason}" for u in self.unreadable[:10]) + (
            f" (and {len(self.unreadable) - 10} more)" if len(self.unreadable) > 10 else "")

    def __repr__(self) -> str:
        bad = f"\n{len(self.unreadable)} folder(s) left out: {self._left_out()}" if self.unreadable else ""
        if not self.runs:
            return self._heading() + bad
        rows = [self.COLUMNS] + self.rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.COLUMNS))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        return self._heading() + "\n" + "\n".join(lines) + bad

    def _repr_html_(self) -> str:
        bad = (f"<p>{len(self.unreadable)} folder(s) left out: {escape(self._left_out(), None)}</p>"
               if self.unreadable else "")
        if not self.runs:
            return f"<p>{escape(self._heading())}</p>" + bad
        head = "".join(f"<th>{escape(c)}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in self.rows())
        return (f"<p>{escape(self._heading())}</p>"
                f"<table class='cnnlive-runs'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" + bad)


RUN_KINDS = ("train", "oip", "dream", "other")


def check_kind(kind: str) -> str:
    """``kind`` of :func:`list_runs`, or a ValueError naming the choices."""
    if kind not in RUN_KINDS + ("all",):
        raise ValueError(f"kind must be one of {', '.join(map(repr, RUN_KINDS + ('all',)))}, got {kind!r}")
    return kind


def list_runs(folder: str, kind: str = "all") -> RunsTable:
    """The run folders in ``folder`` (missing folder: an empty table),
    newest first; ``kind``: only runs of that kind (``"all"``: every run).
    Each folder is read on its own: one that cannot be read is left out, its
    reason logged and kept in ``table.unreadable``."""
    check_kind(kind)
    runs, unreadable = [], []
    if os.path.isdir(folder):
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                problem = folder_problem(entry)
                try:
                    if problem is None and not entry.is_dir(follow_symlinks=False):
                        continue
                    if problem is None:
                        runs.append(read_run(entry.path))
                        continue
                except FileNotFoundError:  # removed while listing
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad folder never hides the others
                    problem = str(exc) if isinstance(exc, UnreadableRun) else f"{type(exc).__name__}: {exc}"
                _report(entry.path, problem)
                try:
                    date: datetime | None = datetime.fromtimestamp(entry.stat(follow_symlinks=False).st_mtime)
                except OSError:
                    date = None
                unreadable.append(Unreadable(display_name(entry.name), problem, date))
    runs.sort(key=lambda r: r.date, reverse=True)
    table = RunsTable(os.path.abspath(folder), [r for r in runs if kind in ("all", r.kind)])
    table.kind, table.others = kind, len(runs) - len(table.runs)
    table.unreadable = sorted(unreadable)
    return table


def resolve_run(ref: Any, folder: str) -> Run:
    """A run from a Run, a path, or a folder name inside ``folder``; the
    error lists the runs found."""
    if isinstance(ref, Run):
        return ref
    path = os.fspath(ref)
    for candidate in (path, os.path.join(folder, path)):
        if candidate != path and os.path.islink(candidate):  # a name in the runs folder: links are not followed
            raise UnreadableRun(f"run {path!r} in {folder} is a symbolic link; cnnlive does not follow links "
                                "in the runs folder")
        if os.path.isdir(candidate):
            return read_run(candidate)
    found = list_runs(folder).names()
    raise FileNotFoundError(f"no run folder {path!r} (nor in {folder}); runs found there: "
                            f"{', '.join(found) if found else 'none'}")


__all__ = ["RUN_KINDS", "ByteCache", "Run", "RunsTable", "Unreadable", "UnreadableRun", "best_validation", "cached_history",
           "check_kind", "epoch_history", "history_summary", "list_runs", "load_history", "load_json", "metric_names",
           "read_history", "read_run",
           "resolve_run"]
