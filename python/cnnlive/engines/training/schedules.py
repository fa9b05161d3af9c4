"""The seeds' optimizers and learning-rate schedules, and the schedule wrapper
that lets a running fit be steered to a new learning rate."""

from __future__ import annotations

from typing import Any

from ..backend import keras
from .fitwatch import number

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


__all__ = ["OPTIMIZERS", "PowerDecay", "SCHEDULES", "SteeredSchedule", "make_optimizer", "set_learning_rate"]
