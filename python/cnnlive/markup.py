"""The one HTML escaping helper: every string from outside (job, model and
metric names, log lines, exception texts, paths) passes through
:func:`escape` before it becomes part of HTML (ipywidgets ``HTML`` values,
notebook ``_repr_html_`` tables). Imports nothing of cnnlive, so engines,
views and surfaces can all use it."""

from __future__ import annotations

import html
from typing import Any

#: Longest text put into one HTML fragment (a longer one is cut, with "…").
MAX_TEXT = 2000


def escape(value: Any, limit: int | None = MAX_TEXT) -> str:
    """``str(value)`` safe as HTML text and inside quoted attributes (``<``,
    ``>``, ``&`` and both quotes escaped), cut to ``limit`` characters first."""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return html.escape(text, quote=True)


def error_html(exc: BaseException) -> str:
    """An exception as an escaped, error-coloured HTML line."""
    return f"<span style='color:var(--jp-error-color1)'>{escape(f'{type(exc).__name__}: {exc}')}</span>"


__all__ = ["MAX_TEXT", "error_html", "escape"]
