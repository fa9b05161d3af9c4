"""What an own ``fit`` or hand-written loop really does, read from the code
cnnlive did not write: the ``fit`` frame the callback runs in, the user's
callbacks around it, the optimizers that really train, and why a fit ended
before its plan. Used by :class:`cnnlive.engines.training.callback.LiveCallback`."""

from __future__ import annotations

import inspect
import logging
import os
import sys
from types import FrameType
from typing import Any, Callable

from ..backend import keras, tf

log = logging.getLogger("cnnlive")

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the cnnlive package
_KERAS = os.path.dirname(os.path.abspath(keras.__file__))
#: Hooks of Keras' CallbackList whose exceptions end an own fit's job.
HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end", "on_test_begin",
         "on_test_end", "on_test_batch_begin", "on_test_batch_end", "on_train_begin")
#: Exceptions that end an epoch of an iterator of unknown length: Keras catches them.
END_OF_DATA = (StopIteration, tf.errors.OutOfRangeError)


def fit_frame(model: Any) -> FrameType | None:
    """The frame of the ``fit`` of ``model`` that calls this (None: no fit,
    e.g. a hand-written loop calling the hooks)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "fit" and frame.f_locals.get("self") is model:
            return frame
        frame = frame.f_back
    return None


def fit_caller(frame: FrameType) -> FrameType | None:
    """The first frame outside Keras and cnnlive that called the ``fit``
    frame ``frame``: Keras filters its own frames (``fit`` too) out of a
    traceback, so an exception leaving ``fit`` is told by this one."""
    frame = frame.f_back
    while frame is not None and _ours(frame):
        frame = frame.f_back
    return frame


#: Code flags of frames that leave the stack at every ``yield``/``await`` while they still run.
_SUSPENDING = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def suspends(frame: FrameType) -> bool:
    """True for a generator's or coroutine's frame (a top-level ``await`` cell
    too): off the stack at each yield/await, so its absence says nothing."""
    return bool(frame.f_code.co_flags & _SUSPENDING)


def _ours(frame: FrameType) -> bool:
    name = os.path.abspath(frame.f_code.co_filename)
    return name.startswith(_HERE) or name.startswith(_KERAS)


def caller_frame() -> FrameType | None:
    """The innermost frame outside cnnlive and Keras: the user's code."""
    frame = sys._getframe(1)
    while frame is not None:
        if not _ours(frame):
            return frame
        frame = frame.f_back
    return None


def wrap_callback_list(callbacks: Any, on_error: Callable[[BaseException], None],
                       on_end: Callable[[], None], after: Any = None) -> Callable[[], None] | None:
    """Let every hook of a Keras CallbackList report an exception it raises
    (then re-raise it unchanged); ``on_end`` runs once ``on_train_end`` of
    all callbacks returned. ``on_train_begin`` runs now, so only the
    callbacks after ``after`` (the LiveCallback) get it wrapped. Returns the
    function that takes those wrappers off the user's callbacks again (call
    it at every ending); None when ``callbacks`` is not a CallbackList."""
    if not isinstance(callbacks, keras.callbacks.CallbackList):
        return None

    def wrap(name: str, after_hook: Callable[[], None] | None = None) -> None:
        original = getattr(callbacks, name)

        def hook(*args: Any, **kwargs: Any) -> Any:
            try:
                out = original(*args, **kwargs)
            except BaseException as exc:
                on_error(exc)
                raise
            if after_hook is not None:
                after_hook()
            return out

        setattr(callbacks, name, hook)

    for name in HOOKS:
        wrap(name)
    wrap("on_train_end", on_end)
    listed = list(getattr(callbacks, "callbacks", ()))
    later = listed[next((i + 1 for i, cb in enumerate(listed) if cb is after), 0):]
    patched: list[Any] = []

    def restore(cb: Any) -> None:
        vars(cb).pop("on_train_begin", None)  # the user's callback is as it was

    for cb in later:
        if "on_train_begin" in vars(cb):
            continue  # the user's own instance attribute: left alone
        original = cb.on_train_begin

        def begin(*args: Any, _original: Any = original, _cb: Any = cb, **kwargs: Any) -> Any:
            restore(_cb)  # once
            try:
                return _original(*args, **kwargs)
            except BaseException as exc:
                on_error(exc)
                raise

        cb.on_train_begin = begin
        patched.append(cb)

    def restore_all() -> None:
        for cb in patched:
            restore(cb)
        patched.clear()

    return restore_all


def optimizers(model: Any) -> list[tuple[str, Any]]:
    """(attribute name, optimizer) for every optimizer the model holds
    (``model.optimizer`` and, e.g. for a GAN, ``d_optimizer``/``g_optimizer``)."""
    out: list[tuple[str, Any]] = []
    if model is None:
        return out
    seen: set[int] = set()
    candidates = [("optimizer", getattr(model, "optimizer", None))] + list(vars(model).items())
    for name, value in candidates:
        if isinstance(value, keras.optimizers.Optimizer) and id(value) not in seen:
            seen.add(id(value))
            out.append((name.lstrip("_"), value))
    return out


def number(value: Any) -> float:
    """A Keras variable, tensor or number as a float (no NumPy 2 copy warning)."""
    value = getattr(value, "value", value)  # a keras.Variable: its backend tensor
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(value)


def training_rates(model: Any) -> dict[str, float]:
    """The learning rate of each optimizer that has taken a step: "lr" for
    one, "lr_<attribute>" for several; empty when none is known."""
    rates: dict[str, float] = {}
    for name, opt in optimizers(model):
        try:
            if number(opt.iterations) <= 0:
                continue
            rates[name] = number(opt.learning_rate)
        except Exception:  # noqa: BLE001 - an optimizer without a readable rate shows none
            log.debug("optimizer %s: no readable learning rate", name, exc_info=True)
            continue
    if len(rates) == 1:
        return {"lr": next(iter(rates.values()))}
    return {f"lr_{name}": v for name, v in rates.items()}


def _early_stopped(cb: Any) -> bool:
    """An EarlyStopping that stopped this fit (at epoch 0 too, where
    ``stopped_epoch`` is 0): ``stop_training`` is set and it waited ``patience``."""
    model = getattr(cb, "model", None)
    return bool(getattr(model, "stop_training", False)) and getattr(cb, "wait", 0) >= cb.patience


def early_stop_reason(callbacks: Any, epochs_done: int, planned: int | None, first: int = 0) -> str | None:
    """Why a fit stopped before its planned epochs: the callback that set
    ``model.stop_training`` when it can be told (EarlyStopping,
    TerminateOnNaN), else that a callback did; for a loop (``callbacks``
    None) only where it ended."""
    if planned is None or epochs_done >= planned:
        return None
    at = f"at epoch {first + epochs_done} of {first + planned}"
    for cb in getattr(callbacks, "callbacks", None) or ():
        if isinstance(cb, keras.callbacks.EarlyStopping) and _early_stopped(cb):
            return f"EarlyStopping {at} (no improvement of {cb.monitor} for {cb.patience} epochs)"
        if isinstance(cb, keras.callbacks.TerminateOnNaN) and getattr(cb.model, "stop_training", False):
            return f"TerminateOnNaN {at}"
    if callbacks is None:  # a hand-written loop (or a fit whose callbacks cnnlive could not see)
        return f"ended {at}"
    return f"a callback set model.stop_training {at}"


__all__ = ["END_OF_DATA", "HOOKS", "caller_frame", "early_stop_reason", "fit_caller", "fit_frame", "number",
           "optimizers", "suspends", "training_rates", "wrap_callback_list"]
