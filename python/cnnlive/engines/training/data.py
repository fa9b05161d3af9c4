"""Data sets as standardized image tensors with one-hot labels.

``load("digits")`` always works (scikit-learn's bundled digits, resized to
28x28); "mnist", "fashion_mnist" and "cifar10" go through Keras' loaders
(which read ``~/.keras/datasets`` and download otherwise); an ``.npz`` path
or a folder of IDX files load from disk.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...imaging import standardize

NAMES = ("digits", "mnist", "fashion_mnist", "cifar10")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
KERAS_FILES = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": ("fashion-mnist/train-images-idx3-ubyte.gz", "fashion-mnist/train-labels-idx1-ubyte.gz",
                      "fashion-mnist/t10k-images-idx3-ubyte.gz", "fashion-mnist/t10k-labels-idx1-ubyte.gz"),
    "cifar10": ("cifar-10-batches-py.tar.gz",),
}


class DataError(ValueError):
    """A data set that cannot be loaded; the message says what to do."""


@dataclass
class Dataset:
    """Train/test images (N, H, W, C) float32 and one-hot labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    standardized: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def labels_train(self) -> np.ndarray:
        return self.y_train.argmax(axis=1)

    @property
    def labels_test(self) -> np.ndarray:
        return self.y_test.argmax(axis=1)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: train {self.x_train.shape}, test {self.x_test.shape}, "
                f"{self.num_classes} classes, from {self.source})")

    def take(self, train: int | None = None, test: int | None = None) -> "Dataset":
        """A smaller copy (first ``train``/``test`` samples)."""
        return Dataset(self.name, self.x_train[:train], self.y_train[:train], self.x_test[:test],
                       self.y_test[:test], self.class_names, self.source, self.standardized, dict(self.extra))


def _finish(name: str, x_train, l_train, x_test, l_test, classes: list[str] | None, source: str,
            do_standardize: bool) -> Dataset:
    x_train, x_test = np.asarray(x_train, np.float32), np.asarray(x_test, np.float32)
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    if x_train.ndim != 4 or x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{source}: images must be (N, H, W[, C]) with equal train/test shapes, "
                        f"got {x_train.shape} and {x_test.shape}")
    l_train = np.asarray(l_train).reshape(-1).astype(np.int64)
    l_test = np.asarray(l_test).reshape(-1).astype(np.int64)
    if len(l_train) != len(x_train) or len(l_test) != len(x_test):
        raise DataError(f"{source}: {len(x_train)} train images but {len(l_train)} labels, "
                        f"{len(x_test)} test images but {len(l_test)} labels")
    n = int(max(l_train.max(initial=0), l_test.max(initial=0))) + 1
    if classes is None:
        classes = [str(i) for i in range(n)]
    if l_train.min(initial=0) < 0 or n > len(classes):
        raise DataError(f"{source}: labels must be 0..{len(classes) - 1} for {len(classes)} classes, "
                        f"found labels up to {n - 1}")
    eye = np.eye(len(classes), dtype=np.float32)
    if do_standardize:
        x_train, x_test = standardize(x_train), standardize(x_test)
    return Dataset(name, x_train, eye[l_train], x_test, eye[l_test], list(classes), source, do_standardize)


def _digits(test_fraction: float, seed: int, do_standardize: bool) -> Dataset:
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.zeros((len(bunch.images), 28, 28), np.float32)
    for i, img in enumerate(bunch.images):  # 8x8 → 20x20 centred in 28x28, like MNIST
        small = Image.fromarray((img * (255 / 16)).astype(np.uint8)).resize((20, 20), Image.BICUBIC)
        images[i, 4:24, 4:24] = np.asarray(small, np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_test = int(round(len(images) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return _finish("digits", images[train], bunch.target[train], images[test], bunch.target[test],
                   [str(i) for i in range(10)], "scikit-learn digits (8x8 resized to 28x28)", do_standardize)


def _missing(name: str, error: Exception) -> DataError:
    folder = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    files = ", ".join(KERAS_FILES[name])
    hint = (f" Or install Debian's dataset-fashion-mnist (IDX files in {DEBIAN_FASHION})."
            if name == "fashion_mnist" else "")
    return DataError(f"cannot load {name!r}: not in the Keras cache and the download failed ({error}). "
                     f"Put {files} into {folder}.{hint}")


def _keras(name: str, download: bool, do_standardize: bool) -> Dataset:
    from ..backend import keras

    folder = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    cached = all((folder / f).exists() for f in KERAS_FILES[name]) or (
        name == "cifar10" and (folder / "cifar-10-batches-py").is_dir())
    if not cached and name == "fashion_mnist" and DEBIAN_FASHION.is_dir():
        ds = load_idx(DEBIAN_FASHION, do_standardize=do_standardize)
        ds.name, ds.class_names = "fashion_mnist", FASHION_CLASSES
        return ds
    if not cached and not download:
        raise _missing(name, FileNotFoundError("download=False"))
    loader = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # noqa: BLE001 - network or corrupt cache
        raise _missing(name, exc) from exc
    classes = {"mnist": [str(i) for i in range(10)], "fashion_mnist": FASHION_CLASSES,
               "cifar10": CIFAR_CLASSES}[name]
    return _finish(name, x_train, y_train, x_test, y_test, classes, f"keras.datasets.{name}", do_standardize)


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    expected = int(np.prod(dims))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != expected:
        raise DataError(f"{path} is truncated or corrupt: header says {dims} ({expected} bytes), "
                        f"found {data.size}")
    return data.reshape(dims)


def load_idx(folder: str | Path, do_standardize: bool = True) -> Dataset:
    """A folder with train-/t10k- images-idx3 and labels-idx1 files (.gz or not)."""
    folder = Path(folder)

    def find(prefix: str, kind: str) -> Path:
        for pattern in (f"{prefix}-{kind}*", f"{prefix}*{kind}*"):
            hits = sorted(folder.glob(pattern))
            if hits:
                return hits[0]
        raise DataError(f"{folder} has no {prefix}-{kind}-... IDX file; expected train-images-idx3-ubyte[.gz], "
                        f"train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]")

    parts = [_read_idx(find(p, k)) for p in ("train", "t10k") for k in ("images", "labels")]
    return _finish(folder.name, parts[0], parts[1], parts[2], parts[3], None, f"IDX files in {folder}",
                   do_standardize)


def load_npz(path: str | Path, test_fraction: float = 0.2, seed: int = 0, do_standardize: bool = True) -> Dataset:
    """An .npz with x_train/y_train/x_test/y_test, or x/y (split here)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path} as .npz: {exc}") from exc
    classes = [str(c) for c in arrays["class_names"]] if "class_names" in arrays else None
    if {"x_train", "y_train", "x_test", "y_test"} <= arrays.keys():
        return _finish(path.stem, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                       classes, str(path), do_standardize)
    if {"x", "y"} <= arrays.keys():
        order = np.random.default_rng(seed).permutation(len(arrays["x"]))
        n_test = int(round(len(order) * test_fraction))
        x, y = arrays["x"][order], arrays["y"][order]
        return _finish(path.stem, x[n_test:], y[n_test:], x[:n_test], y[:n_test], classes, str(path),
                       do_standardize)
    raise DataError(f"{path} has arrays {sorted(arrays)}; need x_train, y_train, x_test, y_test (or x and y)")


def load(name_or_path: str | os.PathLike = "digits", *, standardize: bool = True, download: bool = True,
         test_fraction: float = 0.2, seed: int = 0, limit: int | None = None) -> Dataset:
    """Load a data set by name ("digits", "mnist", "fashion_mnist", "cifar10"),
    an ``.npz`` path or an IDX folder. ``limit`` keeps the first N train and
    N//5 test samples."""
    key = str(name_or_path)
    if key == "digits":
        ds = _digits(test_fraction, seed, standardize)
    elif key in KERAS_FILES:
        ds = _keras(key, download, standardize)
    else:
        path = Path(key).expanduser()
        if path.is_dir():
            ds = load_idx(path, standardize)
        elif path.suffix == ".npz" and path.is_file():
            ds = load_npz(path, test_fraction, seed, standardize)
        elif path.suffix == ".npz" or os.sep in key:
            raise FileNotFoundError(f"no such data file or folder: {path}")
        else:
            raise DataError(f"unknown data set {key!r}; valid: {', '.join(NAMES)}, an .npz path or an IDX folder")
    if limit:
        ds = ds.take(limit, max(1, limit // 5))
    return ds


__all__ = ["DataError", "Dataset", "NAMES", "load", "load_idx", "load_npz"]
