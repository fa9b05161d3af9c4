"""The panel's read-only questions: the saved runs, their histories to
compare, and one kept snapshot of an OIP job.

Run folders are named, never given as paths: a ``compare`` request names
folders from a ``runs`` answer, and only names found in the runs folder's
listing are read (through :mod:`cnnlive.engines.runs`, the same reader as
``cl.runs()``/``cl.compare()``). A failure raises ``LookupError`` or
``ValueError`` with a message for the panel; nothing is changed.
"""

from __future__ import annotations

import math
from typing import Any

from ..engines.runs import list_runs
from ..views.frames import to_png

MAX_EPOCHS_SENT = 2000  # a longer history is thinned evenly for the panel's chart


def runs_folder(manager: Any) -> str:
    """The runs folder in force: the manager's ``runs_root`` or the config's."""
    from ..config import config

    return getattr(manager, "runs_root", None) or config.runs_folder()


MAX_RUNS_SENT = 500  # the protocol's limit on one runs list


def _count(value: Any) -> int | None:
    """An integer >= 0 (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _run_row(run: Any) -> dict[str, Any]:
    """One protocol ``RunRow``; values a malformed run folder gets wrong are
    dropped (None), so one bad history.json cannot spoil the list."""
    best = None
    if run.best is not None:
        metric, value, epoch = run.best
        if (isinstance(metric, str) and isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and isinstance(_count(epoch), int) and epoch >= 1):
            best = {"metric": metric, "value": float(value), "epoch": int(epoch)}
    return {"folder": str(run.folder), "name": str(run.name), "kind": str(run.kind),
            "date": run.date.strftime("%Y-%m-%d %H:%M:%S"), "epochs": _count(run.epochs), "best": best}


def runs_message(folder: str, request_id: str | None) -> dict[str, Any]:
    """A protocol ``runs`` message: the saved runs in ``folder``, newest first
    (at most ``MAX_RUNS_SENT``; ``total`` counts them all)."""
    table = list_runs(folder)
    ordered = sorted(table.runs, key=lambda r: r.kind != "train")  # training runs first (stable: newest first)
    rows = [_run_row(run) for run in ordered[:MAX_RUNS_SENT]]
    rows += [_unreadable_row(u) for u in table.unreadable[:MAX_RUNS_SENT - len(rows)]]
    return {"type": "runs", "request_id": request_id, "folder": folder, "runs": rows,
            "total": len(table) + len(table.unreadable)}


def _unreadable_row(bad: Any) -> dict[str, Any]:
    """A folder the runs list left out, as a row of kind ``unreadable`` (no
    epochs: the panel offers no compare for it; a compare names the reason)."""
    date = bad.date.strftime("%Y-%m-%d %H:%M:%S") if bad.date is not None else ""
    return {"folder": bad.folder, "name": bad.folder, "kind": UNREADABLE, "date": date, "epochs": None, "best": None}


#: The kind of a runs-list row for a folder that could not be read.
UNREADABLE = "unreadable"


def _thinned(values: list[float]) -> tuple[list[int], list[float | None]]:
    """Epoch numbers (1-based) and values of an evenly thinned history of at
    most ``MAX_EPOCHS_SENT`` points; the last epoch is always kept."""
    step = max(1, math.ceil(len(values) / MAX_EPOCHS_SENT))
    keep = list(range(0, len(values), step))
    if keep and keep[-1] != len(values) - 1:
        keep[-1] = len(values) - 1  # stays within the limit
    return [i + 1 for i in keep], [float(values[i]) if math.isfinite(values[i]) else None for i in keep]


def compare_message(folder: str, names: list[str], request_id: str | None) -> dict[str, Any]:
    """A protocol ``compare`` message: the epoch history of each named run.
    Raises LookupError for a name not in the folder's listing (naming the
    runs there) and ValueError for a run without an epoch history."""
    table = list_runs(folder)
    by_name = {run.folder: run for run in table}
    runs = []
    for name in names:
        run = by_name.get(name)  # names only: the panel never sends paths
        bad = next((u for u in table.unreadable if u.folder == name), None)
        if run is None and bad is not None:
            raise ValueError(f"run {name!r} cannot be read: {bad.reason}")
        if run is None:
            raise LookupError(f"unknown run {name!r} in {folder}; runs: {_names(table)}")
        if not run.history:
            trained = [r.folder for r in table if r.kind == "train" and r.epochs]
            raise ValueError(f"run {name!r} ({run.kind}) has no epoch history (history.json) to compare; "
                             f"runs that have one: {', '.join(trained[:20]) or 'none'}")
        epochs = max(len(v) for v in run.history.values())
        history, numbers = {}, None
        for key, values in run.history.items():
            numbers_k, history[key] = _thinned(values + [math.nan] * (epochs - len(values)))
            numbers = numbers or numbers_k
        runs.append({"folder": name, "history": history, "epochs": numbers or []})
    return {"type": "compare", "request_id": request_id, "runs": runs}


def _short(value: Any, most: int = 60) -> str:
    """``repr(value)`` cut to ``most`` characters (error texts never echo a long value)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value[: most + 1] if isinstance(value, str) else value)
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= most else text[: most - 1] + "…"


def explain_request(data: dict[str, Any]) -> str | None:
    """What is wrong with a ``runs``/``compare``/``frame`` request the schema
    rejected, naming the valid choices (None: nothing specific found)."""
    action = data.get("action")
    if action == "compare":
        names = data.get("runs")
        if not isinstance(names, list) or not names:
            return "compare needs 'runs': a list of 1 to 12 run folder names from the runs list"
        if len(names) > 12:
            return f"compare takes at most 12 runs, not {len(names)}"
        if len({repr(n) if isinstance(n, (str, int, float, bool)) else id(n) for n in names}) != len(names):
            return "compare: each run may be named once"
        for name in names:
            if (not isinstance(name, str) or not 0 < len(name) <= 255 or name in (".", "..")
                    or "/" in name or "\\" in name):
                return (f"compare: {_short(name)} is not a run folder name; runs are named as in the runs list "
                        "(a folder name, never a path)")
    if action == "frame":
        if "job_id" not in data:
            return "frame needs 'job_id': the id of an OIP job"
        index = data.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 1_000_000:
            return f"frame index must be an integer from 0 (the oldest snapshot) up, not {_short(index)}"
    if action in ("runs", "compare") and "job_id" in data:
        return f"{action} takes no job_id (it reads the runs folder)"
    return None


def _names(table: Any, most: int = 20) -> str:
    names = table.names()
    more = f" (and {len(names) - most} more)" if len(names) > most else ""
    return (", ".join(names[:most]) or "none") + more


def frame_message(job: Any, index: int, request_id: str | None) -> tuple[dict[str, Any], list[bytes]]:
    """A protocol ``frame`` message with kept snapshot ``index`` of ``job``
    (its PNG as the one buffer). Raises LookupError when the job keeps no
    snapshots or the index is out of range."""
    result = job.result
    count = getattr(result, "snapshot_count", None)
    if job.kind == "oip" and (not isinstance(count, int) or count < 1):
        raise LookupError(f"job {job.id} has no snapshots yet")
    if not isinstance(count, int) or count < 1:
        raise LookupError(f"job {job.id} ({job.kind}) keeps no snapshots: the step slider is for OIP jobs")
    try:
        label, image, value = result.snapshot(index)
    except IndexError as exc:
        raise LookupError(f"job {job.id}: {exc}") from None
    png, width, height, _ = to_png({"image": image, "caption": label})
    objective = float(value) if value is not None and math.isfinite(value) else None
    msg = {"type": "frame", "request_id": request_id, "job_id": job.id, "index": index,
           "count": max(count, index + 1), "label": label, "objective": objective,
           "image": {"buffer": 0, "width": width, "height": height, "caption": label}}
    return msg, [png]


__all__ = ["compare_message", "explain_request", "frame_message", "runs_folder", "runs_message"]
