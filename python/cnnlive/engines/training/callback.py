"""The live Keras callback: connects ``fit`` to a job (or makes an own
``fit`` a job), streams batch and epoch rows, applies steering."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from ...events.channels import point
from ...jobs.reporter import NullReporter, Reporter
from ..backend import keras
from .fitwatch import (END_OF_DATA, caller_frame, early_stop_reason, fit_caller, fit_frame, suspends, training_rates,
                       wrap_callback_list)
from .result import TrainingResult
from .rows import _scalars, own_series, rate_field
from .schedules import _steerable_lr, set_learning_rate


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
        self._anchored = False  # the fit is watched (the frame watch holds its frame; False: a loop by hand)
        self._callbacks: Any = None  # the fit's CallbackList, when cnnlive could wrap it
        self._unwrap: Callable[[], None] | None = None  # takes cnnlive's wrappers off the user's callbacks
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
        self._test_fn: Any = None
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
            from ...jobs.attached import attach

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
        job.add_done_callback(self._ended)  # also an ending only the frame watch saw
        self._watch_fit()
        original = getattr(self.model, "train_function", None)
        if callable(original) and self._anchored:  # errors inside the step (data, memory, interrupts)
            self._train_fn = original
            self.model.train_function = self._reporting(original)

    def _reporting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """``original`` (a train or test step) that fails the job with what it raises."""

        def step(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            except END_OF_DATA:  # an iterator of unknown length ends its epoch this way
                raise
            except BaseException as exc:
                self._fail(exc)
                raise

        return step

    def on_test_begin(self, logs=None) -> None:
        """(a watched fit's validation) Errors of the test step fail the job too."""
        original = getattr(self.model, "test_function", None)
        if self._anchored and self._test_fn is None and callable(original) and not self._job.done:
            self._test_fn = original
            self.model.test_function = self._reporting(original)

    def _ended(self, job: Any) -> None:
        """(the job finished, in any way) Undo what cnnlive changed for its fit."""
        if job is self._job:
            self._restore()

    def _on_stop(self) -> None:
        self.stop_training = True
        if self.model is not None:
            self.model.stop_training = True

    def _watch_fit(self) -> None:
        """Watch the fit this callback runs in (or the hand-written loop's
        code), so that an exception leaving it ends the job failed."""
        from ...jobs.attached import frame_watch

        frame = fit_frame(self.model) if self.model is not None else None
        self._anchored, self._callbacks = frame is not None, None
        if frame is not None:  # the watch holds the frame until the job ends; this callback never does
            callbacks = frame.f_locals.get("callbacks")
            self._unwrap = wrap_callback_list(callbacks, self._fail, self._end_attached, after=self)
            if self._unwrap is not None:
                self._callbacks = callbacks
            caller = fit_caller(frame)
            frame_watch.anchor(self._job, frame, "the fit", also=() if caller is None else (caller,))
            del frame, caller, callbacks
        elif not self._in_with:
            self._anchor_loop()

    def _anchor_loop(self) -> None:
        """(a hand-written loop called by hand) Watch the user's code that called this hook."""
        if self._job is None or self._job.done or self._in_with or self._anchored:
            return
        from ...jobs.attached import frame_watch

        frame = caller_frame()
        # a generator's or coroutine's frame leaves the stack at each yield/await: only a with block tells its end
        if frame is not None and not suspends(frame):
            frame_watch.anchor(self._job, frame, "the training loop", keep=True)  # the outermost loop frame stays

    def _restore(self) -> None:
        """(every ending) Undo what cnnlive changed on the model and the user's
        callbacks, and let go of the fit's CallbackList."""
        if self._train_fn is not None:
            self.model.train_function = self._train_fn
            self._train_fn = None
        if self._test_fn is not None:
            self.model.test_function = self._test_fn
            self._test_fn = None
        if self._unwrap is not None:
            self._unwrap()
            self._unwrap = None
        self._anchored, self._callbacks = False, None

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
        if self._attach and not self._anchored and not self._in_with and self._job is not None:
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
        rates = rate_field(own, row)
        own["batch_time"] = dt
        if dt > 0:
            own["samples_per_s" if self.batch_size else "batches_per_s"] = (self.batch_size or 1) / dt
        own["epoch"] = float(self._epoch)
        row.update(own_series(own, row))
        for k, v in row.items():
            self.batch_history.setdefault(k, []).append(v)
        self._publish("metrics", point({**row, **rates}, self._step, "batch"))
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
        rates = rate_field(self._lr(fresh=True), row)
        row.update(own_series(self._lr(), row))
        for k, v in row.items():
            self.history.setdefault(k, []).append(v)
        self.result.epochs_done += 1
        if self.model is not None:
            self.model._cnnlive_epoch = epoch + 1
        self._publish("metrics", point({**row, **rates}, epoch + 1, "epoch"))
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
        from ...jobs.state import STATE_OF_ENDING

        callbacks = self._callbacks
        self._restore()
        job = self._job
        if job is None or job.done:
            return
        end = self.reporter.end_request
        self.result.ended = end if end in ("cancel", "halt", "stop-forced") else ("stop" if end else "completed")
        note = None
        if self.result.ended == "completed":
            note = self.result.reason = early_stop_reason(callbacks, self.result.epochs_done,
                                                          self._target_epochs(), self._first_epoch or 0)
            done, total = job.progress
            if note and done:
                job.ctx.progress(done, done)  # an early end is not 60 % missing: the reason says why
        job.finish(STATE_OF_ENDING[self.result.ended], self.result.ended, note)


__all__ = ["LiveCallback"]
