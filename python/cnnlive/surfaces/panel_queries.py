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


def runs_message(folder: str, request_id: str | None) -> dict[str, Any]:
    """A protocol ``runs`` message: the saved runs in ``folder``, newest first."""
    rows = []
    for run in list_runs(folder):
        best = None
        if run.best is not None and math.isfinite(run.best[1]):
            best = {"metric": run.best[0], "value": float(run.best[1]), "epoch": int(run.best[2])}
        rows.append({"folder": run.folder, "name": run.name, "kind": run.kind,
                     "date": run.date.strftime("%Y-%m-%d %H:%M:%S"), "epochs": run.epochs, "best": best})
    return {"type": "runs", "request_id": request_id, "folder": folder, "runs": rows[:500]}


def _values(values: list[float]) -> list[float | None]:
    step = max(1, math.ceil(len(values) / MAX_EPOCHS_SENT))
    return [float(v) if math.isfinite(v) else None for v in values[::step]]


def compare_message(folder: str, names: list[str], request_id: str | None) -> dict[str, Any]:
    """A protocol ``compare`` message: the epoch history of each named run.
    Raises LookupError for a name not in the folder's listing (naming the
    runs there) and ValueError for a run without an epoch history."""
    table = list_runs(folder)
    runs = []
    for name in names:
        try:
            run = table[name]
        except KeyError as exc:
            raise LookupError(exc.args[0]) from None
        if run.folder != name:  # the table also matches full paths; the panel sends names only
            raise LookupError(f"no run {name!r} in {folder}")
        if not run.history:
            raise ValueError(f"run {name!r} ({run.kind}) has no epoch history (history.json) to compare; "
                             "only training runs have one")
        runs.append({"folder": name, "history": {k: _values(v) for k, v in run.history.items()}})
    return {"type": "compare", "request_id": request_id, "runs": runs}


def frame_message(job: Any, index: int, request_id: str | None) -> tuple[dict[str, Any], list[bytes]]:
    """A protocol ``frame`` message with kept snapshot ``index`` of ``job``
    (its PNG as the one buffer). Raises LookupError when the job keeps no
    snapshots or the index is out of range."""
    result = job.result
    count = getattr(result, "snapshot_count", None)
    if not isinstance(count, int) or count < 1:
        raise LookupError(f"job {job.id} ({job.kind}) keeps no snapshots: the step slider is for OIP jobs")
    try:
        label, image, value = result.snapshot(index)
    except IndexError as exc:
        raise LookupError(f"job {job.id}: {exc}") from None
    png, width, height, _ = to_png({"image": image, "caption": label})
    objective = float(value) if value is not None and math.isfinite(value) else None
    msg = {"type": "frame", "request_id": request_id, "job_id": job.id, "index": index,
           "count": result.snapshot_count, "label": label, "objective": objective,
           "image": {"buffer": 0, "width": width, "height": height, "caption": label}}
    return msg, [png]


__all__ = ["compare_message", "frame_message", "runs_folder", "runs_message"]
