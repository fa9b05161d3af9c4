"""The data forms ``cl.train`` accepts, checked against the model at call time.

A cnnlive :class:`~cnnlive.engines.training.data.Dataset` (or a name/path for
:func:`~cnnlive.engines.training.data.load`), a tuple ``(x, y)`` of arrays, a
``tf.data.Dataset`` of ``(x, y)`` batches, or a ``keras.utils.PyDataset``.
Each becomes a :class:`FitData`: what ``fit`` gets plus what is known about
it (sample count, batches per epoch, label kind). Bad input raises here,
before a job starts, saying what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import Dataset, load

FORMS = ("a cnnlive Dataset", "a data set name or path", "a tuple (x, y) of arrays",
         "a tf.data.Dataset of (x, y) batches", "a keras.utils.PyDataset")
LABEL_KINDS = ("sparse", "onehot", "binary", "continuous")
LOSSES = {"sparse": "sparse_categorical_crossentropy", "onehot": "categorical_crossentropy",
          "binary": "binary_crossentropy", "continuous": "mean_squared_error"}
#: The metrics cnnlive compiles with for each kind of target.
METRICS = {"sparse": ["accuracy"], "onehot": ["accuracy"], "binary": ["accuracy"], "continuous": ["mae"]}
#: How a job's description names each kind of target.
TARGET_WORDS = {"sparse": "class-id targets", "onehot": "one-hot targets", "binary": "binary targets",
                "continuous": "continuous targets", "custom": "targets of a multi-input/output model"}


@dataclass
class FitData:
    """One data form ready for ``fit``: ``x`` (and ``y`` for arrays)."""

    x: Any
    y: Any
    kind: str                       # "arrays", "tf.data" or "pydataset"
    name: str
    labels: str                     # one of LABEL_KINDS, or "custom"
    samples: int | None = None      # known for arrays
    batches: int | None = None      # batches per epoch, when known
    batch_size: int | None = None   # samples per batch, when known
    infinite: bool = False          # a repeating pipeline: fit needs steps_per_epoch

    def fit_args(self, batch_size: int) -> dict[str, Any]:
        """``x``/``y``/``batch_size`` as ``fit`` wants them for this form."""
        if self.kind == "arrays":
            return {"x": self.x, "y": self.y, "batch_size": batch_size}
        return {"x": self.x}

    def describe(self) -> str:
        size = f"{self.samples} samples" if self.samples is not None else (
            f"{self.batches} batches" if self.batches is not None else "unknown length")
        return f"{self.name} ({self.kind}, {size}, {TARGET_WORDS.get(self.labels, self.labels)})"


def _expected() -> str:
    return "; expected " + ", ".join(FORMS)


def _shape(a: Any) -> tuple:
    return tuple(int(d) if d is not None else None for d in getattr(a, "shape", np.shape(a)))


def _single(model: Any) -> bool:
    return len(model.inputs) == 1 and len(model.outputs) == 1


def _check_images(model: Any, x_shape: tuple, what: str) -> None:
    want = tuple(model.input_shape[1:])
    got = tuple(x_shape[1:])
    if len(want) != len(got) or any(w is not None and g is not None and w != g for w, g in zip(want, got)):
        raise ValueError(f"the model expects inputs of shape {want} but {what} has images of shape {got} "
                         f"(a batch of shape {tuple(x_shape)})")


def _integers(y: np.ndarray) -> bool:
    return bool(np.issubdtype(y.dtype, np.number) and np.all(np.equal(np.mod(y, 1), 0)))


def _label_kind(model: Any, y: Any, what: str) -> str:
    """"sparse" (class ids), "onehot", "binary" (0/1 per output unit) or
    "continuous" (any other numbers, per output unit) for targets ``y``."""
    units = model.output_shape[-1]
    y = np.asarray(y)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(f"{what} has no labels")
    if np.issubdtype(y.dtype, np.number) and (y.ndim == 2 and y.shape[1] == units or y.ndim == 1 and units == 1):
        zero_one = bool(np.all((y == 0) | (y == 1)))
        if not zero_one:
            return "continuous"
        if units > 1 and y.ndim == 2 and np.all(y.sum(axis=1) == 1):
            return "onehot"
        return "binary"
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and units != 1):
        flat = y.reshape(-1)
        if not np.issubdtype(flat.dtype, np.number) or not _integers(flat):
            raise ValueError(f"{what} has non-integer labels of shape {y.shape}; expected integer class ids "
                             f"0..{units - 1} or one-hot rows of {units}")
        lo, hi = int(flat.min()), int(flat.max())
        if units == 1:
            if lo < 0 or hi > 1:
                raise ValueError(f"{what} has labels {lo}..{hi} but the model has 1 output unit; expected 0 or 1")
            return "binary"
        if lo < 0 or hi >= units:
            raise ValueError(f"{what} has labels {lo}..{hi} but the model has {units} output units; "
                             f"expected integer class ids 0..{units - 1}")
        return "sparse"
    if y.ndim == 2:
        raise ValueError(f"{what} has labels with {y.shape[1]} columns but the model has {units} output "
                         f"units; expected one-hot rows of {units} or integer class ids")
    raise ValueError(f"{what} has labels of shape {y.shape}; expected integer class ids (N,) or one-hot (N, {units})")


def _checked_labels(model: Any, shape: Any, y: Any, name: str) -> str:
    """For a one-input model: check the image shape and return the label kind; else "custom"."""
    if not _single(model):
        return "custom"
    _check_images(model, shape, name)
    return _label_kind(model, y, name)


def _arrays(model: Any, x: Any, y: Any, name: str) -> FitData:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{name} is empty: x has no samples")
    if len(x) != len(y):
        raise ValueError(f"{name}: x and y have different lengths: x has {len(x)} samples, y has {len(y)}")
    labels = _checked_labels(model, x.shape, y, name)
    if x.dtype != np.float32 and np.issubdtype(x.dtype, np.number):
        x = x.astype(np.float32)
    return FitData(x, y, "arrays", name, labels, samples=len(x))


def _tf_dataset(model: Any, ds: Any, name: str) -> FitData:
    spec = ds.element_spec
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(f"{name}: a tf.data.Dataset must yield (x, y) batches (or (x, y, sample_weight)), "
                         f"but its elements are {spec}")
    try:
        first = next(iter(ds.take(1)))
    except StopIteration:
        raise ValueError(f"{name} is empty: the tf.data.Dataset yields no batches") from None
    x, y = first[0], first[1]
    if _single(model) and len(x.shape) == len(model.input_shape) - 1:
        raise ValueError(f"{name}: the tf.data.Dataset yields single images of shape {tuple(x.shape)}, "
                         f"expected (x, y) batches; add .batch(n)")
    labels = _checked_labels(model, _shape(x), np.asarray(y), name)
    card = int(ds.cardinality())
    batches = card if card >= 0 else None
    if card == 0:
        raise ValueError(f"{name} is empty: the tf.data.Dataset has no batches")
    return FitData(ds, None, "tf.data", name, labels, batches=batches, batch_size=int(x.shape[0]),
                   infinite=card == -1)


def _pydataset(model: Any, ds: Any, name: str) -> FitData:
    n = len(ds) if hasattr(ds, "__len__") else getattr(ds, "num_batches", None)
    if n == 0:
        raise ValueError(f"{name} is empty: the PyDataset has 0 batches")
    first = ds[0]
    if not isinstance(first, (tuple, list)) or len(first) not in (2, 3):
        raise ValueError(f"{name}: a PyDataset must return (x, y) batches, but item 0 is {type(first).__name__}")
    x, y = np.asarray(first[0]), np.asarray(first[1])
    if len(x) != len(y):
        raise ValueError(f"{name}: batch 0 has x and y of different lengths: x has {len(x)} samples, y has {len(y)}")
    labels = _checked_labels(model, x.shape, y, name)
    return FitData(ds, None, "pydataset", name, labels, batches=n, batch_size=len(x))


def check_dataset(model: Any, data: Dataset) -> None:
    """Raise ValueError when a cnnlive Dataset does not fit the model."""
    want = tuple(model.input_shape[1:])
    if None in want or want != tuple(data.input_shape):
        raise ValueError(f"the model expects inputs of shape {want} but the data set {data.name!r} has images of "
                         f"shape {tuple(data.input_shape)}")
    units = model.output_shape[-1]
    if units != data.num_classes:
        raise ValueError(f"the model has {units} output units but the data set {data.name!r} has "
                         f"{data.num_classes} classes")


def as_fit_data(model: Any, data: Any, role: str = "training data") -> tuple[FitData, FitData | None]:
    """``data`` in any accepted form as FitData, plus the default validation
    data (a Dataset's test split, else None)."""
    from ..backend import keras, tf

    if isinstance(data, (str, os.PathLike)):
        data = load(data)
    if isinstance(data, Dataset):
        if len(data.x_train) == 0:
            raise ValueError(f"the data set {data.name!r} has no training samples")
        check_dataset(model, data)
        train = FitData(data.x_train, data.y_train, "arrays", data.name, "onehot", samples=len(data.x_train))
        val = (FitData(data.x_test, data.y_test, "arrays", f"{data.name} test", "onehot", samples=len(data.x_test))
               if len(data.x_test) else None)
        return train, val
    if isinstance(data, tuple) and len(data) == 2:
        return _arrays(model, data[0], data[1], role), None
    if isinstance(data, tf.data.Dataset):
        return _tf_dataset(model, data, role), None
    if isinstance(data, keras.utils.PyDataset):
        return _pydataset(model, data, role), None
    what = f"a tuple of {len(data)} items" if isinstance(data, tuple) else type(data).__name__
    raise TypeError(f"{role} in an unknown form: {what}{_expected()}")


def as_validation(model: Any, data: Any, labels: str = "onehot") -> FitData | None:
    """``validation_data`` in any accepted form (a Dataset gives its test
    split, with integer labels when ``labels`` is "sparse")."""
    if data is None:
        return None
    if isinstance(data, (str, os.PathLike)):
        data = load(data)
    if isinstance(data, Dataset):
        check_dataset(model, data)
        if not len(data.x_test):
            raise ValueError(f"validation data set {data.name!r} has no test samples")
        if labels == "sparse":
            return FitData(data.x_test, data.labels_test, "arrays", f"{data.name} test", "sparse",
                           samples=len(data.x_test))
        return FitData(data.x_test, data.y_test, "arrays", f"{data.name} test", "onehot", samples=len(data.x_test))
    try:
        return as_fit_data(model, data, "validation_data")[0]
    except TypeError as exc:
        raise TypeError(str(exc)) from None


def fit_validation(val: FitData | None) -> Any:
    """What ``fit(validation_data=...)`` gets for ``val``."""
    if val is None:
        return None
    return (val.x, val.y) if val.kind == "arrays" else val.x


__all__ = ["FitData", "FORMS", "LOSSES", "METRICS", "TARGET_WORDS", "as_fit_data", "as_validation", "check_dataset", "fit_validation"]
