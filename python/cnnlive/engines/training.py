"""Background training: a Keras callback that connects ``fit`` to a job, the
seeds' optimizers and learning-rate schedules, atomic saving."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .backend import keras
from .data import Dataset

OPTIMIZERS = ("rmsprop", "adam", "sgd", "nadam", "adamax")
SCHEDULES = ("power", "exponential", None)


@keras.saving.register_keras_serializable(package="cnnlive")
class PowerDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The seeds' power decay: lr0 * (1 + rate * step / steps) ** -power."""

    def __init__(self, initial_learning_rate: float, decay_steps: int = 1, decay_rate: float = 1e-3,
                 power: float = 1.0) -> None:
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate, self.power = int(decay_steps), float(decay_rate), float(power)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        return self.initial_learning_rate * keras.ops.power(
            1.0 + self.decay_rate * step / self.decay_steps, -self.power)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "power": self.power}


def make_optimizer(name: str = "rmsprop", learning_rate: float = 1e-3, momentum: float | None = None,
                   lr_schedule: str | None = "power", decay_steps: int = 1, decay_rate: float = 1e-3,
                   power: float = 1.0) -> "keras.optimizers.Optimizer":
    """An optimizer by name with an optional schedule ("power", "exponential")."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}")
    if lr_schedule not in SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; valid: power, exponential, None")
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    lr: Any = learning_rate
    if lr_schedule == "power":
        lr = PowerDecay(learning_rate, decay_steps, decay_rate, power)
    elif lr_schedule == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(learning_rate, max(decay_steps, 100),
                                                         1.0 - min(decay_rate * 100, 0.5))
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=0.5 if momentum is None else momentum)
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9 if momentum is None else momentum)
    return {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam,
            "adamax": keras.optimizers.Adamax}[name](lr)


@dataclass
class TrainingResult:
    """What a training job leaves: the model and its complete history."""

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    batch_history: dict[str, list[float]] = field(default_factory=dict)
    path: str | None = None
    history_path: str | None = None
    epochs_done: int = 0
    ended: str = "completed"

    def to_json(self, path: str) -> str:
        """Write per-epoch and per-batch history as JSON."""
        return _write_json(path, {"epoch": self.history, "batch": self.batch_history, "ended": self.ended,
                                  "epochs_done": self.epochs_done})

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
        return f"TrainingResult(epochs_done={self.epochs_done}, ended={self.ended!r}, last={last}, path={self.path!r})"


class LiveCallback(keras.callbacks.Callback):
    """Streams per-batch and per-epoch metrics to a job (or any ``publish``
    function) and honours the job's stop/cancel at every batch.

    Use it in your own ``fit``: ``model.fit(..., callbacks=[LiveCallback(publish=print)])``.
    """

    def __init__(self, ctx: Any = None, publish: Callable[[str, Any], None] | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, batch_size: int | None = None,
                 initial_epoch: int = 0) -> None:
        super().__init__()
        self.ctx = ctx
        self._publish = publish or (ctx.publish if ctx is not None else None)
        self.epochs, self.steps_per_epoch, self.batch_size = epochs, steps_per_epoch, batch_size
        self.initial_epoch = initial_epoch
        self.history: dict[str, list[float]] = {}
        self.batch_history: dict[str, list[float]] = {}
        self.epochs_done = 0
        self._epoch = initial_epoch
        self._t_batch = 0.0
        self._step = 0

    def _send(self, channel: str, value: Any) -> None:
        if self._publish is not None:
            self._publish(channel, value)

    def _lr(self) -> float:
        try:
            return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        except Exception:  # noqa: BLE001
            return float("nan")

    def on_train_begin(self, logs=None) -> None:
        if self.ctx is not None and self.ctx.stopping.is_set():
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self._t_batch = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None) -> None:
        dt = time.perf_counter() - self._t_batch
        row = {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}
        row["lr"] = self._lr()
        row["batch_time"] = dt
        if self.batch_size and dt > 0:
            row["samples_per_s"] = self.batch_size / dt
        row["epoch"] = float(self._epoch)
        for k, v in row.items():
            self.batch_history.setdefault(k, []).append(v)
        self._send("metrics", {**row, "step": self._step, "scope": "batch"})
        self._step += 1
        if self.ctx is not None:
            if self.epochs and self.steps_per_epoch:
                done = (self._epoch - self.initial_epoch) * self.steps_per_epoch + batch + 1
                self.ctx.progress(done, (self.epochs - self.initial_epoch) * self.steps_per_epoch)
            if self.ctx.poll():
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None) -> None:
        row = {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}
        row["lr"] = self._lr()
        for k, v in row.items():
            self.history.setdefault(k, []).append(v)
        self.epochs_done += 1
        self._send("metrics", {**row, "step": epoch + 1, "scope": "epoch"})
        self._send("log", f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()) + "\n")


def save_atomic(model: Any, path: str) -> str:
    """Save in native .keras format via a temp file and a rename."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path[: -len(".keras")] + f".partial-{os.getpid()}.keras"
    model.save(tmp)
    os.replace(tmp, path)
    return path


def _write_json(path: str, payload: Any) -> str:
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(payload, f)
    os.replace(tmp, path)
    return path


def check_compatible(model: Any, data: Dataset) -> None:
    """Raise ValueError when model and data do not fit together."""
    want = tuple(model.input_shape[1:])
    if None in want or want != tuple(data.input_shape):
        raise ValueError(f"the model expects inputs of shape {want} but the data set {data.name!r} has images of "
                         f"shape {tuple(data.input_shape)}")
    units = model.output_shape[-1]
    if units != data.num_classes:
        raise ValueError(f"the model has {units} output units but the data set {data.name!r} has "
                         f"{data.num_classes} classes")


async def train_work(ctx: Any, model: Any, data: Dataset, epochs: int, batch_size: int,
                     initial_epoch: int = 0, validation: bool = True, save: bool = True,
                     shuffle: bool = True) -> TrainingResult:
    """The job body: ``fit`` with a LiveCallback; saves on stop and completion."""
    steps = int(np.ceil(len(data.x_train) / batch_size))
    cb = LiveCallback(ctx, epochs=initial_epoch + epochs, steps_per_epoch=steps, batch_size=batch_size,
                      initial_epoch=initial_epoch)
    result = TrainingResult(model=model)

    def sync() -> TrainingResult:
        result.history, result.batch_history, result.epochs_done = cb.history, cb.batch_history, cb.epochs_done
        model._cnnlive_epoch = initial_epoch + cb.epochs_done
        return result

    ctx.keep(result)
    if ctx.stopping.is_set():
        result.ended = "stopped before start"
        return sync()
    ctx.publish("log", f"training {model.name} on {data.name}: {len(data.x_train)} samples, "
                       f"{epochs} epochs of {steps} batches\n")
    try:
        model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=initial_epoch + epochs,
                  initial_epoch=initial_epoch, shuffle=shuffle, verbose=0, callbacks=[cb],
                  validation_data=(data.x_test, data.y_test) if validation and len(data.x_test) else None)
    except asyncio.CancelledError:
        result.ended = "cancelled"
        sync()
        raise
    sync()
    result.ended = "stopped" if ctx.stopping.is_set() else "completed"
    if save and ctx.run_dir:
        result.path = save_atomic(model, os.path.join(ctx.run_dir, "model.keras"))
        result.history_path = _write_json(os.path.join(ctx.run_dir, "history.json"),
                                          {"epoch": result.history, "batch": result.batch_history,
                                           "ended": result.ended, "epochs_done": result.epochs_done})
        ctx.publish("log", f"saved {result.path}\n")
    return result


__all__ = ["LiveCallback", "PowerDecay", "TrainingResult", "check_compatible", "make_optimizer", "save_atomic",
           "train_work"]
