"""Apply nest-asyncio2 (or nest_asyncio) to one loop, never twice."""

from __future__ import annotations

import asyncio
from types import ModuleType


def _patcher() -> ModuleType | None:
    try:
        import nest_asyncio2 as nest
    except ImportError:
        try:
            import nest_asyncio as nest  # type: ignore[no-redef]
        except ImportError:
            return None
    return nest


def allow_nesting(loop: asyncio.AbstractEventLoop) -> bool:
    """Let ``loop.run_until_complete`` be called while ``loop`` runs.

    Only the given loop is patched (the kernel's loop is left alone).
    Returns False when no nesting library is installed.
    """
    if getattr(loop, "_nest_patched", False):
        return True
    nest = _patcher()
    if nest is None:
        return False
    nest.apply(loop)
    return True
