"""Judge OIPs against data: how strongly real images drive a map (quality =
OIP activation / best data activation) and which images drive it most
(exemplars, with the receptive-field crop around each map's peak)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..backend import keras
from .checks import check_layer, check_maps
from ..training.models import sub_model
from .receptive import receptive_field
from .standardization import standardizer

BATCH = 256


def data_images(data: Any, model: "keras.Model") -> tuple[np.ndarray, np.ndarray | None, str]:
    """(images, labels or None, description) of the test split of ``data``
    (a Dataset, anything ``cnnlive.data.load`` takes, or an (N, H, W[, C])
    array); ValueError when the images do not fit the model's input."""
    from ..training import data as data_mod

    labels = None
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        data = data_mod.load(data)
    if isinstance(data, data_mod.Dataset):
        x, labels, what = data.x_test, data.labels_test, f"the test split of {data.name!r}"
        if not len(x):
            x, labels, what = data.x_train, data.labels_train, f"the train split of {data.name!r} (no test split)"
    elif isinstance(data, (tuple, list)) and len(data) == 2 and hasattr(data[0], "shape"):
        x, y = np.asarray(data[0]), np.asarray(data[1])
        labels, what = (y.argmax(axis=1) if y.ndim == 2 else y.reshape(-1)), "the given images"
    elif hasattr(data, "shape"):
        x, what = np.asarray(data), "the given images"
    else:
        raise TypeError(f"data must be a Dataset, a data set name or path, an image array or (images, labels), "
                        f"not {type(data).__name__}")
    x = np.asarray(x, np.float32)
    want = tuple(int(d) for d in model.input_shape[1:])
    if x.ndim == 3 and want[-1] == 1:
        x = x[..., None]
    if x.ndim != 4 or tuple(x.shape[1:]) != want:
        raise ValueError(f"{what} has images of shape {tuple(x.shape[1:])} but the model {model.name!r} takes "
                         f"{want}; pass data of that shape")
    if not len(x):
        raise ValueError(f"{what} has no images")
    return x, labels, what


def _sub(model: "keras.Model", layer: str) -> "keras.Model":
    return sub_model(model, model.get_layer(layer).output, name=f"to_{layer}")


def map_statistics(model: "keras.Model", layer: str, maps: Sequence[int], x: np.ndarray,
                   batch: int = BATCH, sub: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per image and chosen map: the mean activation (N, M) and the flat
    index of the peak position (N, M), computed in batches."""
    sub = sub or _sub(model, layer)
    ids = np.asarray(maps, np.int64)
    means, peaks = [], []
    for i in range(0, len(x), batch):
        act = np.asarray(sub(x[i:i + batch], training=False))[..., ids]  # (B, H', W', M)
        means.append(act.mean(axis=(1, 2)))
        peaks.append(act.reshape(len(act), -1, len(ids)).argmax(axis=1))
    return np.concatenate(means), np.concatenate(peaks)


def oip_quality(spec: Any, result: Any, x: np.ndarray) -> None:
    """Set ``result.quality`` (per OIP image: its map's mean activation over
    the best mean activation of that map over the images ``x``), and
    ``result.data_best`` / ``result.data_best_index``, on ``spec.model``."""
    maps = sorted(set(int(m) for m in result.maps))
    sub = _sub(spec.model, spec.layer)
    means, _ = map_statistics(spec.model, spec.layer, maps, standardizer(spec)(x), sub=sub)
    col = {m: j for j, m in enumerate(maps)}
    oip_means, _ = map_statistics(spec.model, spec.layer, maps, np.asarray(result.images, np.float32), sub=sub)
    own = np.array([oip_means[i, col[int(m)]] for i, m in enumerate(result.maps)], np.float64)
    best = np.array([means[:, col[int(m)]].max() for m in result.maps], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        quality = np.where(best > 0, own / np.where(best > 0, best, 1.0), np.where(own > 0, np.inf, np.nan))
    result.quality = quality
    result.oip_mean = own
    result.data_best = best
    result.data_best_index = np.array([int(means[:, col[int(m)]].argmax()) for m in result.maps])


@dataclass
class Exemplars:
    """The ``k`` data images that drive each map most (by mean activation)."""

    layer: str
    maps: list[int]
    images: np.ndarray          # (M, k, H, W, C) data images, as given
    indices: np.ndarray         # (M, k) index into the data images
    activations: np.ndarray     # (M, k) mean activation of the map, descending
    peaks: np.ndarray           # (M, k, 2) (row, col) of each map's strongest position
    boxes: np.ndarray           # (M, k, 4) top, left, bottom, right of the receptive field (input pixels)
    crops: np.ndarray           # (M, k, RH, RW, C) receptive-field crops, padded with the image minimum
    field_size: tuple[int, int]
    labels: np.ndarray | None = None   # (M, k) class of each image, when known
    source: str = ""
    exact_field: bool = True
    figure: Any = field(default=None, repr=False)
    informativeness: np.ndarray | None = None  # (M,) the two-alternative test with these exemplars (quality.py)

    def __repr__(self) -> str:
        return (f"Exemplars({self.layer!r}, maps={self.maps[:8]}{'...' if len(self.maps) > 8 else ''}, "
                f"k={self.images.shape[1]}, receptive field {self.field_size[0]}x{self.field_size[1]}, "
                f"from {self.source})")


def check_k(k: Any, n: int, what: str) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"k must be a positive integer (images per map), got {k!r}")
    if k > n:
        raise ValueError(f"k={k} but {what} has only {n} images; choose k in 1..{n}")
    return int(k)


def prepare_exemplars(model: "keras.Model", data: Any, layer: str, maps: int | Sequence[int] | str,
                      k: int) -> tuple[np.ndarray, np.ndarray | None, str, list[int], int]:
    """Check every argument at call time; returns (images, labels, source, maps, k)."""
    shape = check_layer(model, layer)
    ids = check_maps(maps, shape[2], layer)
    x, labels, what = data_images(data, model)
    return x, labels, what, ids, check_k(k, len(x), what)


def _crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, left, bottom, right = box
    h, w = image.shape[:2]
    out = np.full((bottom - top, right - left) + image.shape[2:], float(image.min()), image.dtype)
    t, l, b, r = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if b > t and r > l:
        out[t - top:b - top, l - left:r - left] = image[t:b, l:r]
    return out


def exemplars(model: "keras.Model", data: Any, layer: str, maps: int | Sequence[int] | str = 0,
              k: int = 9) -> Exemplars:
    """The ``k`` images of ``data`` (its test split) with the highest mean
    activation of each map, their peak positions and receptive-field crops."""
    x, labels, what, ids, k = prepare_exemplars(model, data, layer, maps, k)
    means, peaks = map_statistics(model, layer, ids, x)
    width = int(model.get_layer(layer).output.shape[2])
    rf = receptive_field(model, layer)
    order = np.argsort(-means, axis=0, kind="stable")[:k].T          # (M, k)
    acts = np.take_along_axis(means.T, order, axis=1)
    flat = np.take_along_axis(peaks.T, order, axis=1)
    rows, cols = np.divmod(flat, width)
    boxes = np.array([[rf.box(int(r), int(c)) for r, c in zip(rr, cc)] for rr, cc in zip(rows, cols)], np.int64)
    crops = np.stack([np.stack([_crop(x[i], tuple(b)) for i, b in zip(idx, bb)]) for idx, bb in zip(order, boxes)])
    from .quality import natural_informativeness

    return Exemplars(layer, ids, x[order], order, acts, np.stack([rows, cols], -1), boxes, crops, rf.size,
                     None if labels is None else np.asarray(labels)[order], what, rf.exact,
                     informativeness=natural_informativeness(model, layer, ids, x, means))


__all__ = ["Exemplars", "data_images", "exemplars", "map_statistics", "oip_quality", "prepare_exemplars",
           "receptive_field", "standardizer"]
