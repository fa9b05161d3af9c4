"""What a metrics row of a fit carries: the user's scalar logs under their
own names, and cnnlive's series (learning rates, batch time, speed, epoch)
under names no user metric has."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...events.watch import RATE_KEYS


def _scalars(logs: Any) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}


def rate_field(rates: dict[str, float], user: dict[str, float]) -> dict[str, str]:
    """The metrics row's field naming cnnlive's learning-rate series (as
    :func:`own_series` names them beside ``user``; "" when none is known)."""
    return {RATE_KEYS: ",".join(own_series(rates, user))}


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


__all__ = ["own_series", "rate_field"]
