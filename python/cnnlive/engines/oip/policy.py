"""The OIP search policy: runs the compiled ascent (``ascent.py``) from
band-pass noise (``noise.py``) towards an objective (``objectives.py``) in
chunks, restarts silent maps, detects convergence, keeps snapshots and
returns an ``OIPResult``. Judging against data is ``work.py``'s."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from ...config import config
from ...events.channels import point
from ...jobs.reporter import NullReporter, Reporter
from .ascent import ascent_for
from .noise import initial_noise
from .objectives import label as objective_label
from .results import OIPResult
from .spec import OIPSpec
from .timeline import Timeline

def _provenance(spec: OIPSpec, steps_done: int) -> dict[str, Any]:
    from .standardization import label

    settings = {**asdict(spec.settings), "input_standardization": label(spec.settings.input_standardization),
                "objective": objective_label(spec.settings.objective)}
    return {"model": spec.model.name, "layer": spec.layer, "maps": spec.maps, "steps": steps_done,
            "settings": settings, "input_shape": spec.input_shape}


def ascend(spec: OIPSpec, ctx: Reporter | None = None, x0: np.ndarray | None = None) -> OIPResult:
    """Run the search without judging it, synchronously (``ctx``: optional Reporter for progress,
    live images and stop; without one, longer compiled chunks and no partials). A reporter whose
    ``background`` is True (the extra seeds' searches of the quality table) gets progress and
    stop only: long chunks, no metrics, no partials, no grids."""
    from .standardization import start

    reporter: Reporter = ctx if ctx is not None else NullReporter()
    watched = not isinstance(reporter, NullReporter)
    live = watched and not getattr(reporter, "background", False)
    s = spec.settings
    mode = s.input_standardization
    maps = spec.batch_maps
    n = len(maps)
    if x0 is None:
        if s.sweep:
            x0 = np.concatenate([initial_noise(1, spec.input_shape, w, None if s.seed is None else s.seed + i)
                                 for i, w in enumerate(spec.waves_per_image)])
        else:
            x0 = initial_noise(n, spec.input_shape, s.wavelengths, s.seed)
        x0 = start(x0, mode)
    node = s.node or (0, 0)
    nodes = np.tile(np.array(node, np.int32), (n, 1))
    ascent = ascent_for(spec.model, spec.layer, s.objective, s.step_size, s.smoothing, s.tolerance, mode)
    x, active = x0.astype(np.float32), np.ones(n, bool)
    best_x, best = x.copy(), ascent.score(x, maps, nodes)
    restarts = np.zeros(n, int)
    rng = np.random.default_rng(None if s.seed is None else s.seed + 10_000)
    curves: list[np.ndarray] = []
    steps = config.capped_steps(s.steps)
    snap_every = max(1, steps // max(1, s.snapshots))
    evolution = [x.copy()]
    timeline = Timeline()
    timeline.add("step 0", x, float(np.mean(best)))
    done = 0
    while done < steps and active.any():
        k = min(s.chunk if live else max(s.chunk, 50), steps - done)
        x, scores, active, final = ascent.run(x, maps, nodes, active, k)
        curves.append(scores)
        done += k
        better = final > best
        best_x[better], best[better] = x[better], final[better]
        rising = final > scores[0] + 1e-6 * (1.0 + np.abs(scores[0]))  # below zero but climbing (no ReLU)
        silent = (best <= 0) & ~rising & (restarts < s.restarts) & (done < steps)
        if silent.any():  # the map does not react to this noise: try other length scales
            for b in np.flatnonzero(silent):
                waves = spec.waves_per_image[b]
                pick = (waves[restarts[b] % len(waves)],) if restarts[b] % 2 == 0 else waves
                x[b] = start(initial_noise(1, spec.input_shape, pick, int(rng.integers(1 << 30))), mode)[0]
            restarts[silent] += 1
            active[silent] = True
        if done // snap_every > (done - k) // snap_every:
            evolution.append(x.copy())
        timeline.add(f"step {done}", x, float(np.mean(final)))
        if watched:
            reporter.progress(done, steps)
        if live:
            reporter.publish("metrics", point({"activation": float(np.mean(final)), "best": float(np.mean(best)),
                                               "active": int(active.sum())}, done))
            partial = OIPResult(best_x, best, list(maps), spec.waves_per_image, np.concatenate(curves),
                                np.stack(evolution), _provenance(spec, done), done, ~active, timeline=timeline)
            reporter.keep(partial)
            reporter.publish("images", {"image": partial.grid(), "caption": f"{spec.layer} step {done}"})
        if watched and reporter.poll():
            break
    reason = f"converged at step {done} of {steps}" if done < steps and not active.any() else None
    if reason and watched:
        reporter.progress(done, done)  # converged: nothing is missing
    if len(evolution) == 1 or not np.array_equal(evolution[-1], x):
        evolution.append(x.copy())
    result = OIPResult(best_x, best, [int(m) for m in maps], spec.waves_per_image,
                       np.concatenate(curves) if curves else np.zeros((0, n), np.float32), np.stack(evolution),
                       _provenance(spec, done), done, ~active, timeline=timeline, reason=reason)
    return result


__all__ = ["ascend"]
