"""What an own ``fit`` or hand-written loop really does, read from the code
cnnlive did not write: the ``fit`` frame the callback runs in, the user's
callbacks around it, the optimizers that really train, and why a fit ended
before its plan. Used by :class:`cnnlive.engines.training.callback.LiveCallback`."""

from __future__ import annotations

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


def caller_frame() -> FrameType | None:
    """The innermost frame outside cnnlive and Keras: the user's code."""
    frame = sys._getframe(1)
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not (name.startswith(_HERE) or name.startswith(_KERAS)):
            return frame
        frame = frame.f_back
    return None


def wrap_callback_list(callbacks: Any, on_error: Callable[[BaseException], None],
                       on_end: Callable[[], None]) -> bool:
    """Let every hook of a Keras CallbackList report an exception it raises
    (then re-raise it unchanged); ``on_end`` runs once ``on_train_end`` of
    all callbacks returned. False when ``callbacks`` is not a CallbackList."""
    if not isinstance(callbacks, keras.callbacks.CallbackList):
        return False

    def wrap(name: str, after: Callable[[], None] | None = None) -> None:
        original = getattr(callbacks, name)

        def hook(*args: Any, **kwargs: Any) -> Any:
            try:
                out = original(*args, **kwargs)
            except BaseException as exc:
                on_error(exc)
                raise
            if after is not None:
                after()
            return out

        setattr(callbacks, name, hook)

    for name in HOOKS:
        wrap(name)
    wrap("on_train_end", on_end)
    for cb in list(getattr(callbacks, "callbacks", ())):  # on_train_begin runs now: the callbacks after this one
        original = cb.on_train_begin

        def begin(*args: Any, _original: Any = original, _cb: Any = cb, **kwargs: Any) -> Any:
            try:
                return _original(*args, **kwargs)
            except BaseException as exc:
                on_error(exc)
                raise
            finally:
                _cb.__dict__.pop("on_train_begin", None)  # once: the user's callback is as it was

        cb.on_train_begin = begin
    return True


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


def early_stop_reason(callbacks: Any, epochs_done: int, planned: int | None, first: int = 0) -> str | None:
    """Why a fit stopped before its planned epochs: the callback that set
    ``model.stop_training`` when it can be told (EarlyStopping,
    TerminateOnNaN), else that a callback did; for a loop (``callbacks``
    None) only where it ended."""
    if planned is None or epochs_done >= planned:
        return None
    at = f"at epoch {first + epochs_done} of {first + planned}"
    for cb in getattr(callbacks, "callbacks", None) or ():
        if isinstance(cb, keras.callbacks.EarlyStopping) and getattr(cb, "stopped_epoch", 0):
            return f"EarlyStopping {at} (no improvement of {cb.monitor} for {cb.patience} epochs)"
        if isinstance(cb, keras.callbacks.TerminateOnNaN) and getattr(cb.model, "stop_training", False):
            return f"TerminateOnNaN {at}"
    if callbacks is None:  # a hand-written loop (or a fit whose callbacks cnnlive could not see)
        return f"ended {at}"
    return f"a callback set model.stop_training {at}"


__all__ = ["END_OF_DATA", "HOOKS", "caller_frame", "early_stop_reason", "fit_frame", "number", "optimizers",
           "training_rates", "wrap_callback_list"]
