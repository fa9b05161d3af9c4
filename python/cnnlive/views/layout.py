"""Sizes, grid positions, axis limits and line thinning of the live figures."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import config


def _smooth(values: list[float], k: int = 20) -> np.ndarray:
    """Exponential moving average (span ``k``; the value before the first is
    taken as the first): a convolution with the EMA's weights, cut where they
    fall below 1e-6, so a NaN after the first value only spoils the points it
    still weighs in."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return v
    decay = 1.0 - 2.0 / (k + 1)
    taps = min(len(v), int(np.ceil(np.log(1e-6) / np.log(decay))))
    out = np.convolve(v, (1.0 - decay) * decay ** np.arange(taps))[: len(v)]
    return out + v[0] * decay ** np.arange(1, len(v) + 1)


def _thin(x: np.ndarray, y: Any, most: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` evenly spaced points of a line (drawing a line costs
    time in proportion to its points)."""
    y = np.asarray(y, float)
    n = min(len(x), len(y))
    step = max(1, int(np.ceil(n / most)))
    idx = np.arange(0, n, step)
    if n and idx[-1] != n - 1:
        idx = np.r_[idx, n - 1]
    return np.asarray(x[:n])[idx], y[:n][idx]


def figure_inches(size: tuple[float, float] | None, dpi: float = 100.0) -> tuple[float, float]:
    """A live figure's size in inches: ``size`` as given, else
    ``config.figure_width`` pixels wide (fits the output area of a notebook
    with both of JupyterLab's sidebars open) and 4:5 as high."""
    if size is not None:
        if (len(size) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                                      for v in size)):
            raise ValueError(f"size must be (width, height) in inches, both > 0, got {size!r}")
        return float(size[0]), float(size[1])
    width = config.figure_width / dpi
    return width, max(4.4, 0.8 * width)


def row_counts(n: int, cols: int) -> list[int]:
    """``n`` panels in rows of at most ``cols``, as even as can be, fuller rows
    first (5 in 3 columns: 3 + 2), so no grid slot stays empty."""
    rows = max(1, -(-n // max(1, cols)))
    return [n // rows + (1 if r < n % rows else 0) for r in range(rows)]


def columns(width: float) -> int:
    """Panels per row in a figure ``width`` inches wide: as many of at least
    2.3 in as fit, at most 3."""
    return max(1, min(3, int((width - 0.5) // 2.3)))


def grid_positions(n: int, inches: tuple[float, float], top: float = 0.0,
                   bottom: float = 0.0) -> list[tuple[float, float, float, float]]:
    """Axes rectangles (figure fractions) for ``n`` panels that fill the
    figure between ``top`` and ``bottom`` inches: rows of equal height, each
    row's panels of equal width, room for titles above and tick labels
    below each axes, an x label under the last row only (:func:`columns`)."""
    width, height = inches
    counts = row_counts(n, columns(width))
    left, right, gap = 0.55, 0.15, 0.6  # y tick labels left of each axes
    title, ticks, xlabel = 0.26, 0.22, 0.2
    rows = len(counts)
    cell = (height - top - bottom - xlabel) / rows
    out = []
    for r, k in enumerate(counts):
        h = max(0.3, cell - title - ticks)
        y = height - top - title - r * cell - h
        w = max(0.3, (width - left - right - (k - 1) * gap) / k)
        for c in range(k):
            out.append(((left + c * (w + gap)) / width, y / height, w / width, h / height))
    return out


def x_limit(value: float, planned: float | None = None) -> float:
    """The x axis' end for data reaching ``value``: the next of 1, 1.25, 1.5,
    2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) at or above it, so it grows
    in steps and depends only on the data; at most the ``planned`` end."""
    value = max(float(value), 1e-9)
    scale = 10.0 ** np.floor(np.log10(value))
    end = next(scale * k for k in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if scale * k >= value - 1e-12)
    if planned is not None and value <= planned:
        end = min(end, planned)
    return max(float(end), 1.0)


def _grow(limit: float, value: float, factor: float = 1.5) -> float:
    """A limit that only grows, in steps, so axes rarely need a full redraw."""
    return limit if value <= limit else max(value * factor, 1e-12)


__all__ = ["columns", "figure_inches", "grid_positions", "row_counts", "x_limit"]
