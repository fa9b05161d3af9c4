"""Atomic saving of models and histories, and clean-up of interrupted saves."""

from __future__ import annotations

import json
import os
from typing import Any

class SaveError(OSError):
    """The model or history could not be written; the message names the folder."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_partials(folder: str) -> list[str]:
    """Remove temp files left by interrupted saves (``*.partial-PID.keras``,
    ``*.PID.partial``) of processes that no longer run; returns their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if ".partial-" in name and name.endswith(".keras"):
            pid = name.rsplit(".partial-", 1)[1][: -len(".keras")]
        elif name.endswith(".partial"):
            pid = name[: -len(".partial")].rsplit(".", 1)[-1]
        else:
            continue
        if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue
        try:
            os.remove(os.path.join(folder, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def save_atomic(model: Any, path: str) -> str:
    """Save in native .keras format via a temp file and a rename; leftovers of
    earlier interrupted saves in the folder are removed first."""
    folder = os.path.dirname(path) or "."
    tmp = path[: -len(".keras")] + f".partial-{os.getpid()}.keras"
    try:
        os.makedirs(folder, exist_ok=True)
        clean_partials(folder)
        model.save(tmp)
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - reported with the folder named
        if os.path.exists(tmp):
            os.remove(tmp)
        raise SaveError(f"could not save the model to {folder}: {type(exc).__name__}: {exc}") from exc
    return path


def _write_json(path: str, payload: Any) -> str:
    tmp = f"{path}.{os.getpid()}.partial"
    try:
        with open(tmp, "w") as f:
            json.dump(payload, f)
        os.replace(tmp, path)
    except OSError as exc:
        raise SaveError(f"could not write {os.path.basename(path)} to {os.path.dirname(path) or '.'}: "
                        f"{exc}") from exc
    return path


__all__ = ["SaveError", "clean_partials", "save_atomic"]
