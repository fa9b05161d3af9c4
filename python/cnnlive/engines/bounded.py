"""Reading files from outside within limits: JSON of bounded size and
depth from regular files only (no links followed, no FIFO), non-finite and
absurd numbers read as missing; a cache bounded by bytes; which folder entries
are read at all (no links, UTF-8 names). Pure Python."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections import OrderedDict
from typing import Any

#: JSON nesting deeper than this is refused (cnnlive's own files have 3 levels).
MAX_DEPTH = 16


class UnreadableFile(ValueError):
    """A file that cannot be read within the limits; the message says why."""


def depth(value: Any) -> int:
    """How deeply lists and dicts nest in a parsed JSON value (iteratively)."""
    if not isinstance(value, (list, dict)):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
                     if isinstance(child, (list, dict)))  # containers only: numbers cost no memory here
    return deepest


def _number(text: str) -> float | None:
    value = float(text)
    return value if value - value == 0 else None  # inf and nan read as missing


def _integer(text: str) -> int | float | None:
    return int(text) if len(text.lstrip("-")) <= 18 else _number(text)  # no 4300-digit integers


def load_json(path: str, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON file within limits: a regular file (no symlink, FIFO or
    device), at most ``max_bytes``, nested at most ``max_depth`` deep;
    NaN, infinities and numbers beyond floats become None. Raises
    UnreadableFile with the reason."""
    name = os.path.basename(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UnreadableFile(f"{name} cannot be opened ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile(f"{name} is not a regular file")
        if st.st_size > max_bytes:
            raise UnreadableFile(f"{name} is {st.st_size / 2**20:.1f} MB, over the {max_bytes / 2**20:.1f} MB "
                                 "cnnlive reads")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableFile(f"{name} grew over {max_bytes / 2**20:.1f} MB while read")
    try:  # the C parser refuses ~1000 levels cheaply (RecursionError); the cap is checked after
        value = json.loads(data, parse_float=_number, parse_int=_integer, parse_constant=lambda _: None)
    except RecursionError:
        raise UnreadableFile(f"{name} is nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise UnreadableFile(f"{name} is not valid JSON ({str(exc)[:80]})") from None
    if depth(value) > max_depth:
        raise UnreadableFile(f"{name} is nested deeper than {max_depth} levels")
    return value


class ByteCache:
    """A thread-safe LRU of parsed files, bounded by the bytes its values
    take (estimated) rather than by count; an entry is reused while its
    file's (mtime, size, inode) stay the same."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[str, tuple[Any, Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, path: str, key: Any) -> Any:
        with self._lock:
            hit = self._items.get(path)
            if hit is None or hit[0] != key:
                return None
            self._items.move_to_end(path)
            return hit[1]

    def put(self, path: str, key: Any, value: Any, nbytes: int) -> None:
        with self._lock:
            old = self._items.pop(path, None)
            if old is not None:
                self.nbytes -= old[2]
            if nbytes > self.max_bytes:  # larger than the whole cache: used once, not kept
                return
            self._items[path] = (key, value, nbytes)
            self.nbytes += nbytes
            while self.nbytes > self.max_bytes:
                self.nbytes -= self._items.popitem(last=False)[1][2]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0


def folder_problem(entry: os.DirEntry) -> str | None:
    """Why an entry of the runs folder is not read as a run (None: it is one).
    Symbolic links are never followed; names must be valid UTF-8."""
    try:
        entry.name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8"
    if entry.is_symlink():
        return "a symbolic link (cnnlive does not follow links in the runs folder)"
    return None


def display_name(name: str) -> str:
    """A folder name as text that is always valid UTF-8 (bad bytes shown as U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


__all__ = ["MAX_DEPTH", "ByteCache", "UnreadableFile", "depth", "display_name", "folder_problem", "load_json"]
