"""Background training: a Keras callback that connects ``fit`` to a job (or
makes an own ``fit`` a job), the seeds' optimizers and learning-rate
schedules, atomic saving."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..events.channels import point
from ..jobs.reporter import NullReporter, Reporter
from .backend import keras
from .fitdata import FitData, check_dataset, fit_validation
from .fitwatch import (END_OF_DATA, caller_frame, early_stop_reason, fit_frame, number, training_rates,
                       wrap_callback_list)

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


@keras.saving.register_keras_serializable(package="cnnlive")
class SteeredSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A schedule times a settable factor, so ``job.adjust(learning_rate=)``
    can move a compiled schedule: the factor is a variable the traced train
    step reads, set so the schedule continues from the new rate."""

    def __init__(self, schedule: Any, scale: float = 1.0) -> None:
        if isinstance(schedule, dict):
            schedule = keras.optimizers.schedules.deserialize(schedule)
        self.schedule = schedule
        self.scale = keras.Variable(float(scale), dtype="float32", trainable=False, name="cnnlive_lr_scale")

    def __call__(self, step):
        return keras.ops.cast(self.schedule(step), "float32") * self.scale

    def set_rate(self, value: float, step: Any) -> None:
        """Scale so that the rate at ``step`` is ``value``."""
        base = float(keras.ops.convert_to_numpy(self.schedule(step)))
        if base > 0:
            self.scale.assign(value / base)

    def get_config(self) -> dict[str, Any]:
        return {"schedule": keras.optimizers.schedules.serialize(self.schedule),
                "scale": number(self.scale)}


def _steerable_lr(model: Any) -> None:
    """Wrap the optimizer's schedule in a :class:`SteeredSchedule`; a plain
    rate is a variable already. A train step traced before (an earlier fit of
    the same model) still holds the old schedule, so it is traced anew."""
    opt = getattr(model, "optimizer", None)
    sched = getattr(opt, "_learning_rate", None)
    if not isinstance(sched, keras.optimizers.schedules.LearningRateSchedule) or isinstance(sched, SteeredSchedule):
        return
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is not None:
        with strategy.scope():
            opt.learning_rate = SteeredSchedule(sched)
    else:
        opt.learning_rate = SteeredSchedule(sched)
    if getattr(model, "train_function", None) is not None:
        model.make_train_function(force=True)


def set_learning_rate(model: Any, value: float) -> None:
    """Set the optimizer's rate from the next batch on; a (wrapped) schedule
    continues from ``value``."""
    opt = model.optimizer
    sched = getattr(opt, "_learning_rate", None)
    if isinstance(sched, SteeredSchedule):
        sched.set_rate(value, opt.iterations)
    elif isinstance(sched, keras.optimizers.schedules.LearningRateSchedule):
        raise TypeError("the optimizer's schedule was traced before cnnlive could wrap it; "
                        "its learning rate cannot be changed while it trains")
    else:
        opt.learning_rate = value


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


def _scalars(logs: Any) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}


#: cnnlive's own series beside the user's metrics (learning rate, batch time, speed, epoch); a
#: point's step and scope travel apart from the metrics (events.channels.point), never as metrics.
OWN_SERIES = ("lr", "batch_time", "samples_per_s", "batches_per_s", "epoch")


def own_series(own: dict[str, float], user: dict[str, float]) -> dict[str, float]:
    """cnnlive's series under names no user metric has: a name the user's
    logs already use gets the prefix "cnnlive_" (the user's keeps its name)."""
    out = {}
    for k, v in own.items():
        name = k
        while name in user:
            name = "cnnlive_" + name
        out[name] = v
    return out


class LiveCallback(keras.callbacks.Callback):
    """Streams per-batch and per-epoch metrics (whatever the logs carry) and
    honours stop/cancel at every batch.

    - ``LiveCallback(ctx)`` inside a job (``cl.jobs.start``): reports to that job.
    - ``LiveCallback(name="my-run")`` in your own ``model.fit``: that fit
      becomes a job of kind "fit" (``cb.job``), listed by ``cl.jobs``, with a
      panel card and ``cb.job.plot()``. ``cb.job.stop()`` ends the fit after
      the current batch (``fit`` returns normally, state "stopped");
      ``cb.job.cancel()`` ends it at the next batch without end-of-epoch work:
      ``fit`` raises :class:`cnnlive.jobs.attached.FitCancelled` (an
      ``asyncio.CancelledError``), state "cancelled"; the model keeps the
      weights of the last batch.
    - ``LiveCallback(publish=fn)``: only calls ``fn(channel, value)``.
    - A hand-written loop: ``with cl.LiveCallback(name="loop") as cb:`` and
      call ``cb.set_model(model)`` and the hooks yourself
      (``on_epoch_begin``, ``on_train_batch_begin``/``end``,
      ``on_epoch_end``); leaving the block ends the job (completed, stopped
      after ``cb.stop_training`` became True, or failed with the loop's
      error, which propagates unchanged). Calling ``on_train_begin`` and
      ``on_train_end`` by hand works too.

    An exception that leaves ``fit`` (from the train step, any callback or
    Keras itself) ends the job failed with that error; an iterator that runs
    out ends its epoch, as in Keras.

    Epochs and steps come from Keras' ``self.params``; ``batch_size`` (when
    given or known) adds samples/s."""

    def __init__(self, ctx: Reporter | None = None, publish: Callable[[str, Any], None] | None = None, *,
                 name: str | None = None, epochs: int | None = None, steps_per_epoch: int | None = None,
                 batch_size: int | None = None, initial_epoch: int | None = None) -> None:
        super().__init__()
        if isinstance(ctx, str):  # LiveCallback("my-run"): the name, given positionally
            if name is not None:
                raise TypeError(f"LiveCallback got two names: {ctx!r} and name={name!r}; give one")
            ctx, name = None, ctx
        if ctx is not None and not callable(getattr(ctx, "publish", None)):
            raise TypeError(f"LiveCallback's first argument is a job context (ctx inside cl.jobs.start) or a "
                            f"name, not a {type(ctx).__name__}; for an own fit use LiveCallback(name='my-run')")
        if publish is not None and not callable(publish):
            raise TypeError(f"publish must be a function (channel, value), not a {type(publish).__name__}")
        self.reporter: Reporter = ctx if ctx is not None else NullReporter()
        self._attach = ctx is None and publish is None
        self.name = name or "fit"
        #: Set when a stop was asked for (a hand-written loop reads it, as fit reads model.stop_training).
        self.stop_training = False
        self._anchor: Any = None  # the fit frame cnnlive watches (None: a hand-written loop)
        self._callbacks: Any = None  # the fit's CallbackList, when cnnlive could wrap it
        self._in_with = False
        self._job: Any = None
        self._publish = publish or self.reporter.publish
        self._epochs_arg, self._steps_arg = epochs, steps_per_epoch
        self.epochs, self.steps_per_epoch, self.batch_size = epochs, steps_per_epoch, batch_size
        self.initial_epoch = initial_epoch
        self.history: dict[str, list[float]] = {}
        self.batch_history: dict[str, list[float]] = {}
        self.result = self._new_result()
        self._epoch = initial_epoch or 0
        self._first_epoch: int | None = initial_epoch
        self._t_batch = 0.0
        self._step = 0
        self._train_fn: Any = None
        self._lr_at, self._lr_value = -1e9, {}
        self._steer: Any = None

    @property
    def ctx(self) -> Reporter:
        return self.reporter

    @property
    def epochs_done(self) -> int:
        return self.result.epochs_done

    @property
    def job(self) -> Any:
        """The job this callback's fit is (own fits; created on first use)."""
        if self._job is None and self._attach:
            from ..jobs.attached import attach

            self._job = attach(self.name)
            self._job.ctx.keep(self.result)
            self.reporter = self._job.ctx
            self._publish = self.reporter.publish
        return self._job

    LR_EVERY_S = 0.2  # a schedule costs several TensorFlow ops to evaluate: read it at most 5 times a second

    def _lr(self, fresh: bool = False) -> dict[str, float]:
        """The rates of the optimizers that train ("lr", or "lr_<name>" each
        for several); none where no rate is known."""
        now = time.perf_counter()
        if fresh or now - self._lr_at >= self.LR_EVERY_S:
            self._lr_at = now
            self._lr_value = training_rates(self.model)
        return self._lr_value

    def _new_result(self) -> TrainingResult:
        """A result bound to this callback's histories and planned epochs."""
        return TrainingResult(model=None, history=self.history, batch_history=self.batch_history,
                              epochs_total_of=self._total_epochs)

    # -- an own fit as an attached job -----------------------------------------
    def _begin_attached(self) -> None:
        if self._job is not None and self._job.done:  # a second fit with the same callback: a new job
            self._job = None  # the finished job keeps its result; this fit gets fresh ones
            self.history, self.batch_history = {}, {}
            self.result = self._new_result()
            self._step, self._first_epoch = 0, self.initial_epoch
        job = self.job
        self.result.model = self.model
        self.stop_training = False
        job.on_stop = self._on_stop  # Keras checks model.stop_training after this batch
        job.begin()
        self._watch_fit()
        original = getattr(self.model, "train_function", None)
        if callable(original) and self._anchor is not None:  # errors inside the step (data, memory, interrupts)
            self._train_fn = original

            def train_function(*args: Any, **kwargs: Any) -> Any:
                try:
                    return original(*args, **kwargs)
                except END_OF_DATA:  # an iterator of unknown length ends its epoch this way
                    raise
                except BaseException as exc:
                    self._fail(exc)
                    raise

            self.model.train_function = train_function

    def _on_stop(self) -> None:
        self.stop_training = True
        if self.model is not None:
            self.model.stop_training = True

    def _watch_fit(self) -> None:
        """Watch the fit this callback runs in (or the hand-written loop's
        code), so that an exception leaving it ends the job failed."""
        from ..jobs.attached import frame_watch

        frame = fit_frame(self.model) if self.model is not None else None
        self._anchor, self._callbacks = frame, None
        if frame is not None:
            callbacks = frame.f_locals.get("callbacks")
            if wrap_callback_list(callbacks, self._fail, self._end_attached):
                self._callbacks = callbacks
            frame_watch.anchor(self._job, frame, "the fit")
        elif not self._in_with:
            self._anchor_loop()

    def _anchor_loop(self) -> None:
        """(a hand-written loop called by hand) Watch the user's code that called this hook."""
        if self._job is None or self._job.done or self._in_with or self._anchor is not None:
            return
        from ..jobs.attached import frame_watch

        frame = caller_frame()
        if frame is not None:
            frame_watch.anchor(self._job, frame, "the training loop")

    def _restore(self) -> None:
        if self._train_fn is not None:
            self.model.train_function = self._train_fn
            self._train_fn = None

    def _fail(self, exc: BaseException) -> None:
        self._restore()
        if self._job is None or self._job.done:
            return
        self.result.ended = "cancel" if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)) else "error"
        self._job.end_with(exc, "the fit")

    # -- Keras hooks ---------------------------------------------------------------
    def on_train_begin(self, logs=None) -> None:
        params = self.params or {}
        self.epochs = self._epochs_arg or params.get("epochs")
        self.steps_per_epoch = self._steps_arg or params.get("steps")
        self.result.model = self.model
        self.result.ended = None
        if self._attach:
            _steerable_lr(self.model)  # an own fit can be steered: wrap before the error wrapper captures the step
            self._begin_attached()
        self._steer = getattr(self.reporter, "steering", None)
        if self._steer is not None:
            _steerable_lr(self.model)
        if self.reporter.stopping.is_set():
            self._on_stop()

    # -- a hand-written loop -------------------------------------------------------
    def __enter__(self) -> "LiveCallback":
        """Begin a hand-written loop's job (the model may be set later with
        ``set_model``); see the class docstring."""
        if not self._attach:
            raise TypeError("only an own loop's callback (LiveCallback(name=...)) can be used in a with block")
        self._in_with = True
        if self._job is not None and self._job.done:
            self._job = None
        self.on_train_begin()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        """End the loop's job: completed, stopped, or failed with ``exc``
        (which propagates unchanged)."""
        self._in_with = False
        if exc is not None:
            self._fail(exc)
        else:
            self._end_attached()
        return False

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if self._attach and self._job is not None and not self._job.done:
            self.result.model = model
            if self.stop_training:
                model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._hand_loop()
        self._epoch = epoch
        if self._first_epoch is None:
            self._first_epoch = epoch
        if self._attach and self._steer is not None and self.epochs:
            self._steer.max_epochs = self.epochs - self._first_epoch  # an own fit ends at its epochs

    def _hand_loop(self) -> None:
        """(hooks called by hand, outside a with block) Watch the code calling them."""
        if self._attach and self._anchor is None and not self._in_with and self._job is not None:
            self._anchor_loop()

    def on_train_batch_begin(self, batch, logs=None) -> None:
        # do not start another batch after cancel or halt, nor while a pause is asked for
        if self.reporter.end_request in ("cancel", "halt") or getattr(self.reporter, "pausing", False):
            self._poll()
        lr = self._steer.take_learning_rate() if self._steer is not None else None
        if lr is not None:
            self._apply_lr(lr)
        self._t_batch = time.perf_counter()

    def _apply_lr(self, value: float) -> None:
        try:
            set_learning_rate(self.model, value)
        except Exception as exc:  # noqa: BLE001 - the run goes on with its rate
            self._publish("log", f"learning rate not changed: {type(exc).__name__}: {exc}\n")
            return
        self._lr_at = -1e9  # the next batch row shows the new rate
        self._publish("log", f"learning rate set to {value:g}\n")

    def _total_epochs(self) -> int | None:
        """The (0-based, exclusive) epoch this run ends at: adjusted, or fit's."""
        steer = self._steer if self._steer is not None else getattr(self.reporter, "steering", None)
        if steer is not None and getattr(steer, "epochs", None) is not None:
            return (self._first_epoch or 0) + steer.epochs
        return self.epochs

    def _target_epochs(self) -> int | None:
        """Epochs this run trains in all (adjusted, or as given)."""
        steer = self._steer
        if steer is not None and steer.epochs is not None:
            return steer.epochs
        return self.epochs - (self._first_epoch or 0) if self.epochs else None

    def _poll(self) -> bool:
        try:
            return self.reporter.poll()
        except BaseException as exc:
            self._restore()
            self.result.ended = self.reporter.end_request or "cancel"
            if self._attach:  # e.g. an interrupt while paused: the own-fit job must not stay running
                self._fail(exc)
            raise

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._hand_loop()
        dt = time.perf_counter() - self._t_batch
        row = _scalars(logs)
        own = dict(self._lr())
        own["batch_time"] = dt
        if dt > 0:
            own["samples_per_s" if self.batch_size else "batches_per_s"] = (self.batch_size or 1) / dt
        own["epoch"] = float(self._epoch)
        row.update(own_series(own, row))
        for k, v in row.items():
            self.batch_history.setdefault(k, []).append(v)
        self._publish("metrics", point(row, self._step, "batch"))
        self._step += 1
        target = self._target_epochs()
        if target and self.steps_per_epoch:
            first = self._first_epoch or 0
            done = (self._epoch - first) * self.steps_per_epoch + batch + 1
            self.reporter.progress(done, max(target * self.steps_per_epoch, done))
        if self._poll():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._hand_loop()
        row = _scalars(logs)
        row.update(own_series(self._lr(fresh=True), row))
        for k, v in row.items():
            self.history.setdefault(k, []).append(v)
        self.result.epochs_done += 1
        if self.model is not None:
            self.model._cnnlive_epoch = epoch + 1
        self._publish("metrics", point(row, epoch + 1, "epoch"))
        self._publish("log", f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items()) + "\n")
        self._steer_at_epoch_end()

    def _steer_at_epoch_end(self) -> None:
        steer = self._steer
        if steer is None:
            return
        steer.epochs_done = self.result.epochs_done
        if steer.stop_after == "epoch":
            self.model.stop_training = True
            request = getattr(self.reporter, "request_stop", None)
            if request is not None:
                request()
        elif steer.epochs is not None and self.result.epochs_done >= steer.epochs:
            self.model.stop_training = True  # adjusted down: this run is complete

    def on_train_end(self, logs=None) -> None:
        if not self._attach or self._job is None or self._callbacks is not None:
            return  # a wrapped CallbackList ends the job once every callback's on_train_end returned
        self._end_attached()

    def _end_attached(self) -> None:
        """The fit or loop returned: end its job completed or stopped, with
        the reason when it ended before its plan."""
        from ..jobs.state import STATE_OF_ENDING

        self._restore()
        self._anchor = None
        job = self._job
        if job is None or job.done:
            return
        end = self.reporter.end_request
        self.result.ended = end if end in ("cancel", "halt", "stop-forced") else ("stop" if end else "completed")
        note = None
        if self.result.ended == "completed":
            note = self.result.reason = early_stop_reason(self._callbacks, self.result.epochs_done,
                                                          self._target_epochs(), self._first_epoch or 0)
            done, total = job.progress
            if note and done:
                job.ctx.progress(done, done)  # an early end is not 60 % missing: the reason says why
        job.finish(STATE_OF_ENDING[self.result.ended], self.result.ended, note)


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


__all__ = ["ENDINGS", "LiveCallback", "PowerDecay", "SaveError", "SteeredSchedule", "set_learning_rate", "TrainingResult", "check_compatible",
           "clean_partials", "make_optimizer", "save_atomic", "train_work"]
