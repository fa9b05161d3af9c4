"""The training job body: ``fit`` with a LiveCallback, then saving."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Sequence

import numpy as np

from ...jobs.reporter import Reporter
from .callback import LiveCallback
from .fitdata import FitData, check_dataset, fit_validation
from .fitwatch import early_stop_reason
from .result import TrainingResult
from .saving import SaveError, _write_json, save_atomic

def check_compatible(model: Any, data: Any) -> None:
    """Raise ValueError when model and a cnnlive Dataset do not fit together."""
    check_dataset(model, data)


def _ending(ctx: Reporter, exc: BaseException) -> str:
    end = ctx.end_request
    if end in ("cancel", "halt", "stop-forced"):
        return end
    return "cancel" if isinstance(exc, asyncio.CancelledError) else "error"


async def train_work(ctx: Reporter, model: Any, train: FitData, validation: FitData | None, epochs: int,
                     batch_size: int, initial_epoch: int = 0, save: bool = True,
                     callbacks: Sequence[Any] = (), fit_kwargs: dict[str, Any] | None = None) -> TrainingResult:
    """The job body: ``fit`` with a LiveCallback beside the user's callbacks;
    saves on stop and completion. The kept result grows with every batch, so
    stop, cancel and halt keep the history learned so far."""
    bs = train.batch_size or (batch_size if train.kind == "arrays" else None)
    cb = LiveCallback(ctx, batch_size=bs, initial_epoch=initial_epoch)
    result = cb.result
    result.model = model
    ctx.keep(result)
    if ctx.stopping.is_set():
        result.ended = ctx.end_request or "stop"
        return result
    steps = train.batches or (int(np.ceil(train.samples / batch_size)) if train.samples else None)
    ctx.publish("log", f"training {model.name} on {train.describe()}: {epochs} epochs"
                       f"{f' of {steps} batches' if steps else ''}\n")
    steer = getattr(ctx, "steering", None)
    try:
        while True:  # one fit, or more when adjust(epochs=) raised the total while it ran
            target = steer.epochs if steer is not None and steer.epochs is not None else epochs
            model.fit(**train.fit_args(batch_size), epochs=initial_epoch + target,
                      initial_epoch=initial_epoch + result.epochs_done, verbose=0, callbacks=[cb, *callbacks],
                      validation_data=fit_validation(validation), **(fit_kwargs or {}))
            more = steer is not None and steer.epochs is not None and steer.epochs > result.epochs_done
            if not more or model.stop_training or ctx.stopping.is_set() or ctx.end_request:
                break
    except BaseException as exc:
        result.ended = _ending(ctx, exc)
        raise
    result.ended = ctx.end_request or "completed"
    if result.ended == "completed":  # a callback (EarlyStopping) may have ended it before its epochs
        from types import SimpleNamespace

        planned = steer.epochs if steer is not None and steer.epochs is not None else epochs
        result.reason = early_stop_reason(SimpleNamespace(callbacks=list(callbacks)), result.epochs_done, planned,
                                          initial_epoch)
        if result.reason:
            ctx.progress(1, 1)  # the reason says why; nothing is missing
            ctx.publish("log", f"ended early: {result.reason}\n")
    if save and ctx.run_dir:
        try:
            result.path = save_atomic(model, os.path.join(ctx.run_dir, "model.keras"))
            result.history_path = _write_json(os.path.join(ctx.run_dir, "history.json"), result.payload())
        except SaveError as exc:
            ctx.publish("log", f"{exc}; the trained model stays in job.result.model\n")
            raise
        ctx.publish("log", f"saved {result.path}\n")
    return result


__all__ = ["check_compatible", "train_work"]
