"""OIP quality beyond one ratio: per OIP image, on held-out data with the
search's weights and input standardization (``cl.oip(..., data=)``).

- ``ratio``: the OIP's mean map activation over the best one of the data.
- ``informativeness``: a machine two-alternative test (Borowski et al., ICLR
  2021): from the OIP alone, predict which of two held-out images (one of the
  map's strongest, one of its weakest) drives the map more: the one whose
  features (spatial means of the layer below, standardized over the data)
  lie closer (cosine) to the OIP's. ``natural``: the same test with the map's
  top natural exemplars (from the other half of the data) as references.
- ``similarity`` and ``reproducibility``: several OIPs per map from different
  seeds; their mean pairwise cosine similarity in the same feature space
  (diversity = 1 - similarity) and the share of pairs at >= ``SAME_PATTERN``
  (the same pattern comes back).
- ``oip_mean`` / ``data_mean``: a map that ends at or below its mean over the
  data (layers without a ReLU: BatchNorm, linear convs, Add) found no pattern.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Iterator

import numpy as np

from ...markup import escape
from ..training.models import sub_model

SAME_PATTERN = 0.8        # cosine similarity from which two OIPs count as the same pattern
REFERENCES = 9            # natural exemplars as references (Borowski et al. showed 9)
QUERIES = 20              # strongest and weakest held-out images per map: 20 x 20 query pairs
PASS = {"ratio": 1.0, "informativeness": 0.75, "reproducibility": 0.5}   # below: the map fails
COLUMNS = ("map", "ratio", "informativeness", "natural", "similarity", "reproducibility", "oip_mean",
           "data_mean")
BATCH = 256


class QualityTable(np.lib.mixins.NDArrayOperatorsMixin):
    """Quality per OIP image (row) and measure (column). For code written
    against the single ratio, numbers index, iteration, ``len``, ``shape``,
    arithmetic and comparisons (``q * 2``, ``q == 1``), numpy functions, array
    methods (``round``, ``max``) and ``np.asarray`` see the ratio column;
    ``table["informativeness"]`` gives a column, ``.select(rows)`` a table of
    some rows, ``.fails`` the rows failing any measure, ``.failed(i)`` which
    ones. A text table as repr, an HTML table in notebooks."""

    def __init__(self, columns: dict[str, np.ndarray], seeds: int = 1, pairs: int = 0, source: str = "",
                 note: str = "") -> None:
        n = len(columns["map"])
        self.columns = {k: np.asarray(columns.get(k, np.full(n, np.nan)), np.int64 if k == "map" else np.float64)
                        for k in COLUMNS}
        self.seeds, self.pairs, self.source, self.note = int(seeds), int(pairs), source, note

    def select(self, rows: Any) -> "QualityTable":
        """The table of ``rows`` only (indices or a boolean mask), every measure kept."""
        return QualityTable({k: v[rows] for k, v in self.columns.items()}, self.seeds, self.pairs, self.source,
                            self.note)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Arithmetic, comparisons and ufuncs act on the ratio (as the array it was)."""
        plain = lambda v: v.ratio if isinstance(v, QualityTable) else v  # noqa: E731
        if "out" in kwargs:
            kwargs["out"] = tuple(plain(o) for o in kwargs["out"])
        return getattr(ufunc, method)(*(plain(v) for v in inputs), **kwargs)

    # the ratio, as result.quality was before
    @property
    def ratio(self) -> np.ndarray:
        return self.columns["ratio"]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self.ratio, dtype=dtype) if copy else np.asarray(self.ratio, dtype=dtype)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"unknown quality measure {key!r}; measures: {', '.join(COLUMNS)}")
            return self.columns[key]
        return self.ratio[key]

    def __len__(self) -> int:
        return len(self.ratio)

    def __iter__(self) -> Iterator[float]:
        return iter(self.ratio)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.ratio.shape

    def __getattr__(self, name: str) -> Any:
        """Array methods (``round``, ``max``, ``tolist``, ...) act on the ratio."""
        if name.startswith("_") or not hasattr(np.ndarray, name) or "columns" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.ratio, name)

    @property
    def maps(self) -> list[int]:
        return [int(m) for m in self.columns["map"]]

    @property
    def below_mean(self) -> np.ndarray:
        """Rows whose OIP ends at or below its map's mean over the data (no pattern)."""
        c = self.columns
        return np.where(np.isnan(c["oip_mean"]) | np.isnan(c["data_mean"]), False, c["oip_mean"] <= c["data_mean"])

    def failed(self, i: int) -> list[str]:
        """The measures row ``i`` fails ("below data mean" first)."""
        c, out = self.columns, []
        if self.below_mean[i]:
            out.append("below data mean")
        if not c["ratio"][i] >= PASS["ratio"]:
            out.append("ratio")
        for name in ("informativeness", "reproducibility"):
            v = c[name][i]
            if not math.isnan(v) and v < PASS[name]:
                out.append(name)
        return out

    @property
    def fails(self) -> np.ndarray:
        return np.array([bool(self.failed(i)) for i in range(len(self))])

    def summary(self) -> dict[str, float]:
        """Per measure over the rows (median ratio, means of the others, share passing): one
        number each, e.g. for a quality-per-epoch series."""
        c = self.columns
        with np.errstate(invalid="ignore"):
            finite = c["ratio"][np.isfinite(c["ratio"])]
            out = {"ratio": float(np.median(finite)) if len(finite) else math.nan}
            for k in ("informativeness", "natural", "similarity", "reproducibility"):
                v = c[k][~np.isnan(c[k])]
                out[k] = float(v.mean()) if len(v) else math.nan
        out["passing"] = float(1.0 - self.fails.mean()) if len(self) else math.nan
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [{**{k: (int(v[i]) if k == "map" else float(v[i])) for k, v in self.columns.items()},
                 "fails": self.failed(i)} for i in range(len(self))]

    @staticmethod
    def _fmt(v: float) -> str:
        return "–" if v != v else ("∞" if v == math.inf else f"{v:.2f}")

    def _cells(self, i: int) -> list[str]:
        c = self.columns
        return [str(int(c["map"][i])), self._fmt(c["ratio"][i]),
                f"{self._fmt(c['informativeness'][i])} / {self._fmt(c['natural'][i])}",
                self._fmt(1.0 - c["similarity"][i]), self._fmt(c["reproducibility"][i]),
                f"{c['oip_mean'][i]:.3g} / {c['data_mean'][i]:.3g}", ", ".join(self.failed(i)) or "ok"]

    HEADERS = ("map", "ratio", "informativeness OIP / natural", "diversity", "reproducibility",
               "OIP / data mean", "fails")

    def __repr__(self) -> str:
        rows = [list(self.HEADERS)] + [self._cells(i) for i in range(len(self))]
        widths = [max(len(r[j]) for r in rows) for j in range(len(self.HEADERS))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        return (f"QualityTable ({len(self)} OIPs, {self.seeds} seeds per map, {self.pairs} query pairs"
                f"{', ' + self.source if self.source else ''})\n" + "\n".join(lines)
                + (f"\nnote: {self.note}" if self.note else ""))

    def _repr_html_(self) -> str:
        e = escape
        head = "".join(f"<th>{e(h)}</th>" for h in self.HEADERS)
        body = []
        for i in range(len(self)):
            style = ' style="color:#d62728"' if self.failed(i) else ""
            body.append(f"<tr{style}>" + "".join(f"<td>{e(v)}</td>" for v in self._cells(i)) + "</tr>")
        caption = e(f"OIP quality: {len(self)} OIPs, {self.seeds} seeds per map, {self.pairs} query pairs per "
                    f"map{', ' + self.source if self.source else ''}; red rows fail a measure (ratio < 1, "
                    f"informativeness < {PASS['informativeness']}, reproducibility < {PASS['reproducibility']}"
                    f", or below the data mean)"
                    + (f"; note: {self.note}" if self.note else ""))
        return (f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


def _pooled(sub: Any, x: np.ndarray) -> np.ndarray:
    """Spatial means (N, C) of ``sub``'s output, in batches."""
    out = [np.asarray(sub(x[i:i + BATCH], training=False), np.float64) for i in range(0, len(x), BATCH)]
    return np.concatenate([a.mean(axis=(1, 2)) if a.ndim == 4 else a for a in out])


def feature_model(model: Any, layer: str) -> Any:
    """The features the tests read: the input of ``layer`` (the layer below)
    when that is one spatial tensor other than the model input, else ``layer``."""
    target = model.get_layer(layer)
    below = target.input
    if (not isinstance(below, (list, tuple)) and len(below.shape) == 4
            and all(below is not t for t in model.inputs)):
        return sub_model(model, below, name=f"below_{layer}")
    return sub_model(model, target.output, name=f"feat_{layer}")


def _unit(f: np.ndarray) -> np.ndarray:
    return f / (np.linalg.norm(f, axis=-1, keepdims=True) + 1e-12)


def _two_alternative(refs: np.ndarray, strong: np.ndarray, weak: np.ndarray) -> float:
    """Share of (strong, weak) query pairs in which the strong image lies
    closer to the references (mean cosine); ties count half."""
    s = (_unit(strong) @ _unit(refs).T).mean(axis=1)
    w = (_unit(weak) @ _unit(refs).T).mean(axis=1)
    return float((s[:, None] > w[None, :]).mean() + 0.5 * (s[:, None] == w[None, :]).mean())


def _pair_stats(f: np.ndarray) -> tuple[float, float]:
    """(mean pairwise cosine, share of pairs >= SAME_PATTERN) of rows ``f``."""
    if len(f) < 2:
        return math.nan, math.nan
    sim = _unit(f) @ _unit(f).T
    pairs = sim[np.triu_indices(len(f), 1)]
    return float(pairs.mean()), float((pairs >= SAME_PATTERN).mean())


class ProgressPart:
    """A job's reporter for one part of a search judged with extra seeds: its
    progress ``(done, total)`` reaches the job as ``(offset + done * scale,
    offset + total * scale + rest)``, so the bar spans steps x seeds. With
    ``background`` (the extra seeds' search) it passes on progress, stop and
    cancel only: ``ascend`` then runs long chunks and builds no grids."""

    def __init__(self, reporter: Any, offset: float = 0.0, scale: float = 1.0, rest: float = 0.0,
                 background: bool = False) -> None:
        self._reporter, self.offset, self.scale, self.rest = reporter, offset, scale, rest
        self.background = background
        self.poll = reporter.poll

    def progress(self, done: float, total: float | None = None) -> None:
        self._reporter.progress(self.offset + done * self.scale,
                                None if total is None else self.offset + total * self.scale + self.rest)

    def publish(self, channel: str, value: Any) -> None:
        if not self.background:
            self._reporter.publish(channel, value)

    def keep(self, result: Any) -> None:
        if not self.background:
            self._reporter.keep(result)

    def __getattr__(self, name: str) -> Any:  # run_dir, stopping, checkpoint, ... of the job's reporter
        if name.startswith("__") or name == "_reporter":
            raise AttributeError(name)
        return getattr(self._reporter, name)


def watched(reporter: Any) -> bool:
    from ...jobs.reporter import NullReporter

    return reporter is not None and not isinstance(reporter, NullReporter)


def stopped_early(spec: Any, result: Any) -> bool:
    """Whether a stop ended ``result``'s search before its steps (not a convergence)."""
    from ...config import config

    return result.reason is None and result.steps_done < config.capped_steps(spec.settings.steps)


def other_seeds(spec: Any, result: Any, seeds: int, reporter: Any = None) -> np.ndarray | None:
    """The OIPs of ``seeds - 1`` more searches with other seeds, in one batch:
    (seeds - 1, N, H, W, C); None for ``seeds <= 1``, and when a stop ended
    ``result``'s search or these searches early (barely started OIPs would
    pass for diverse, not reproducible patterns). With a job's ``reporter``
    they stop and cancel with the job and report progress after ``result``'s
    steps (the job's bar spans steps x seeds), in long chunks, publishing nothing."""
    if seeds <= 1 or stopped_early(spec, result):
        return None
    from .policy import ascend
    from .spec import OIPSpec

    base = 0 if spec.settings.seed is None else int(spec.settings.seed)
    settings = replace(spec.settings, seed=base + 7919)
    again = OIPSpec(spec.model, spec.layer, list(spec.maps) * (seeds - 1), settings, spec.layer_shape,
                    spec.input_shape, list(spec.waves_per_image) * (seeds - 1))
    part = ProgressPart(reporter, result.steps_done, seeds - 1, background=True) if watched(reporter) else None
    extra = ascend(again, part)
    if stopped_early(again, extra):
        return None
    images = extra.images
    return images.reshape((seeds - 1, len(result.images)) + images.shape[1:])


def natural_informativeness(model: Any, layer: str, maps: list[int], x: np.ndarray,
                            acts: np.ndarray) -> np.ndarray:
    """Per map (``acts``: (N, M) mean activations of ``maps`` over ``x``): the
    two-alternative test with its top natural exemplars as references (the
    ``natural`` column), without any OIP."""
    f = _pooled(feature_model(model, layer), np.asarray(x, np.float32))
    f = (f - f.mean(axis=0)) / (f.std(axis=0) + 1e-6)
    refs, queries = np.arange(0, len(x), 2), np.arange(1, len(x), 2)
    q = max(1, min(QUERIES, len(queries) // 4))
    out = np.full(len(maps), np.nan)
    if len(queries) < 2:
        return out
    for j in range(len(maps)):
        a = acts[:, j]
        order = queries[np.argsort(-a[queries], kind="stable")]
        top = refs[np.argsort(-a[refs], kind="stable")[:REFERENCES]]
        out[j] = _two_alternative(f[top], f[order[:q]], f[order[-q:]])
    return out


def quality_table(spec: Any, result: Any, x: np.ndarray, seeds: int = 3, reporter: Any = None) -> QualityTable:
    """Every measure for ``result`` (whose ``quality`` already holds the ratio,
    see ``judge.oip_quality``) against the raw data images ``x``."""
    from .standardization import standardizer

    xs = standardizer(spec)(np.asarray(x, np.float32))
    acts_sub = sub_model(spec.model, spec.model.get_layer(spec.layer).output, name=f"to_{spec.layer}")
    feats = feature_model(spec.model, spec.layer)
    data_act, data_feat = _pooled(acts_sub, xs), _pooled(feats, xs)
    mu, sd = data_feat.mean(axis=0), data_feat.std(axis=0) + 1e-6
    z = lambda f: (f - mu) / sd  # noqa: E731
    images = np.asarray(result.images, np.float32)
    rows, maps = len(images), [int(m) for m in result.maps]
    oip_act, oip_feat = _pooled(acts_sub, images), z(_pooled(feats, images))
    extra = other_seeds(spec, result, seeds, reporter)
    note = "" if seeds <= 1 or extra is not None else (
        "diversity and reproducibility not measured: the job was stopped before the searches with other "
        "seeds ended")
    extra_feat = None if extra is None else z(_pooled(feats, extra.reshape((-1,) + images.shape[1:]))).reshape(
        len(extra), rows, -1)
    refs, queries = np.arange(0, len(xs), 2), np.arange(1, len(xs), 2)
    q = max(1, min(QUERIES, len(queries) // 4))
    cols = {k: np.full(rows, np.nan) for k in COLUMNS}
    cols["map"] = np.array(maps)
    cols["ratio"] = np.asarray(result.quality, np.float64)
    zdata = z(data_feat)
    natural: dict[int, float] = {}
    for i, m in enumerate(maps):
        a = data_act[:, m]
        cols["oip_mean"][i], cols["data_mean"][i] = oip_act[i, m], a.mean()
        if len(queries) >= 2:
            order = queries[np.argsort(-a[queries], kind="stable")]
            strong, weak = zdata[order[:q]], zdata[order[-q:]]
            if m not in natural:
                top = refs[np.argsort(-a[refs], kind="stable")[:REFERENCES]]
                natural[m] = _two_alternative(zdata[top], strong, weak)
            cols["natural"][i] = natural[m]
            cols["informativeness"][i] = _two_alternative(oip_feat[i:i + 1], strong, weak)
        if extra_feat is not None:
            cols["similarity"][i], cols["reproducibility"][i] = _pair_stats(
                np.concatenate([oip_feat[i:i + 1], extra_feat[:, i]]))
    return QualityTable(cols, seeds=max(1, seeds), pairs=q * q if len(queries) >= 2 else 0,
                        source=f"{len(xs)} held-out images", note=note)


__all__ = ["COLUMNS", "PASS", "ProgressPart", "QualityTable", "SAME_PATTERN", "feature_model", "natural_informativeness",
           "other_seeds", "quality_table", "stopped_early"]
