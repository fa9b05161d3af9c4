"""Text that reads well as a cell's last line: ``job.log()`` and
``cl.jobs.status()`` return strings whose representation is the text itself
(lines, not a quoted one-liner full of ``\\n``); the status table has an HTML
view too."""

from __future__ import annotations

from typing import Any, Sequence

from ..markup import escape


class Text(str):
    """A ``str`` shown as its lines (``repr`` is the text itself)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


class Table(Text):
    """A plain-text table (the ``str``) with an HTML view for notebooks."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    def __new__(cls, text: str, columns: Sequence[str] = (), rows: Sequence[dict[str, Any]] = ()) -> "Table":
        table = super().__new__(cls, text)
        table.columns, table.rows = tuple(columns), tuple(rows)
        return table

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>{escape(str(self), None)}</p>"
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in self.columns)
                       + "</tr>" for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


__all__ = ["Table", "Text"]
