"""What a training job leaves: the model and its complete history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .saving import _write_json

ENDINGS = ("completed", "stop", "stop-forced", "cancel", "halt", "error")


@dataclass
class TrainingResult:
    """What a training job leaves: the model and its complete history.

    ``ended`` is None while training runs, then one of :data:`ENDINGS`."""

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    batch_history: dict[str, list[float]] = field(default_factory=dict)
    path: str | None = None
    history_path: str | None = None
    epochs_done: int = 0
    ended: str | None = None
    #: Why the run ended before its plan ("EarlyStopping at epoch 8 of 20"); None when it did not.
    reason: str | None = None
    epochs_total_of: Callable[[], int | None] | None = field(default=None, repr=False, compare=False)

    @property
    def epochs_total(self) -> int | None:
        """The epoch the run ends after (as counted by the card's "epoch X of
        Y"; follows ``job.adjust(epochs=)``), None while unknown."""
        return None if self.epochs_total_of is None else self.epochs_total_of()

    def payload(self) -> dict[str, Any]:
        return {"epoch": self.history, "batch": self.batch_history, "ended": self.ended,
                "epochs_done": self.epochs_done, "reason": self.reason}

    def to_json(self, path: str) -> str:
        """Write per-epoch and per-batch history as JSON."""
        return _write_json(path, self.payload())

    def to_csv(self, path: str, scope: str = "epoch") -> str:
        """Write the per-epoch (or per-batch) history as CSV, one row per step."""
        import csv

        table = self.history if scope == "epoch" else self.batch_history
        keys = list(table)
        rows = max((len(v) for v in table.values()), default=0)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([scope] + keys)
            for i in range(rows):
                writer.writerow([i + 1] + [table[k][i] if i < len(table[k]) else "" for k in keys])
        return path

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        why = f", reason={self.reason!r}" if self.reason else ""
        return (f"TrainingResult(epochs_done={self.epochs_done}, ended={self.ended!r}{why}, last={last}, "
                f"path={self.path!r})")


__all__ = ["ENDINGS", "TrainingResult"]
