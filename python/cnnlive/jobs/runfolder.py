"""A job's run folder: its name is made from the job's name, never taken
from it. Safe characters only, length capped, unique in the runs root, and
checked to lie inside it; decided when the job starts, before any work."""

from __future__ import annotations

import os
import re

#: The longest folder name made from a job name (before ``-<id>``).
MAX_FOLDER_NAME = 80


def folder_base(name: str) -> str:
    """``name`` reduced to letters, digits, ``.``, ``_`` and ``-`` (others
    become ``_``), without leading or trailing dots, dashes or underscores,
    at most :data:`MAX_FOLDER_NAME` characters; ``job`` when nothing is left."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._-")[:MAX_FOLDER_NAME].rstrip("._-")
    return base or "job"


def inside(root: str, path: str) -> bool:
    """Whether ``path`` lies strictly inside ``root`` once links are resolved."""
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    return os.path.commonpath([real_root, real]) == real_root and real != real_root


def run_folder(root: str, name: str, job_id: int) -> str:
    """The run folder of job ``job_id`` named ``name``: ``<root>/<base>-<id>``,
    or ``<base>.<n>-<id>`` when that exists already (another kernel's run).
    Raises ValueError if the result would not lie inside ``root``."""
    base = folder_base(name)
    for n in range(1, 1000):
        folder = f"{base}-{job_id}" if n == 1 else f"{base}.{n}-{job_id}"
        path = os.path.join(os.path.abspath(root), folder)
        if not os.path.lexists(path):
            break
    else:
        raise ValueError(f"no free run folder for {base!r} in {root}: 999 folders named like it exist")
    if not inside(root, path):  # cannot happen with the characters kept; checked anyway
        raise ValueError(f"run folder {folder!r} would lie outside the runs folder {root}")
    return path


__all__ = ["MAX_FOLDER_NAME", "folder_base", "inside", "run_folder"]
