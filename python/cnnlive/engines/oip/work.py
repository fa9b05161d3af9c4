"""The OIP search judged against data, and its job bodies (one search, a
search after every epoch of a training). The search loop is
``policy.py``'s; ``judge.py`` and ``quality.py`` judge its images."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import numpy as np

from ...config import config
from ...events.channels import point
from ...jobs.reporter import NullReporter, Reporter
from .checks import snapshot_model
from .policy import ascend
from .results import OIPResult, OIPTimeline
from .spec import OIPSpec


def search(spec: OIPSpec, ctx: Reporter | None = None, x0: np.ndarray | None = None) -> OIPResult:
    """Run the search synchronously (``ctx``: optional Reporter for progress,
    live images and stop; without one, longer compiled chunks and no
    partials); with ``spec.data``, judge the images against it."""
    reporter: Reporter = ctx if ctx is not None else NullReporter()
    seeds = spec.quality_seeds if spec.data is not None else 1
    if seeds > 1 and not isinstance(reporter, NullReporter):  # the bar spans these steps and the extra seeds'
        from .quality import ProgressPart

        ctx = ProgressPart(reporter, rest=config.capped_steps(spec.settings.steps) * (seeds - 1))
    result = ascend(spec, ctx, x0)
    if spec.data is not None:
        from .judge import oip_quality

        oip_quality(spec, result, spec.data)
        judge_more(spec, result, reporter)
    return result


def judge_more(spec: OIPSpec, result: OIPResult, reporter: Any = None) -> None:
    """Replace the ratio in ``result.quality`` by the table of every measure
    (``quality.py``); the ratio stays its numeric view."""
    from .quality import quality_table

    result.quality = quality_table(spec, result, spec.data, spec.quality_seeds, reporter)


async def oip_work(ctx: Any, spec: OIPSpec) -> OIPResult:
    """Job body: one search; stop keeps the best images so far, saved as PNG."""
    await asyncio.sleep(0)
    ctx.publish("log", f"OIP on {spec.layer}, maps {spec.maps[:8]}{'...' if len(spec.maps) > 8 else ''}, "
                       f"{config.capped_steps(spec.settings.steps)} steps\n")
    result = search(spec, ctx)
    if result.quality is not None:  # judged against data: say which maps do not beat it
        weak = [m for m, q in zip(result.maps, result.quality) if not q >= 1]
        note = (f"{len(weak)} of {len(result.maps)} OIPs do not beat the data (maps {weak[:12]}"
                f"{'...' if len(weak) > 12 else ''})" if weak else "every OIP beats the data")
        fails = getattr(result.quality, "fails", None)
        if fails is not None:
            note += f"; {int(fails.sum())} of {len(fails)} fail a quality measure"
            below = [m for m, b in zip(result.maps, result.quality.below_mean) if b]
            if below:  # layers without a ReLU: no pattern found, not a pattern
                note += f"; maps {below[:12]} end at or below their data mean (no pattern)"
        if getattr(result.quality, "note", ""):
            note += f"; {result.quality.note}"
        ctx.publish("log", f"quality: {note}\n")
        ctx.publish("images", {"image": result.grid(), "caption": f"{spec.layer}: {note}"})
    if ctx.run_dir:
        os.makedirs(ctx.run_dir, exist_ok=True)
        result.provenance["png"] = result.save_png(os.path.join(ctx.run_dir, "oip.png"))
        np.savez(os.path.join(ctx.run_dir, "oip.npz"), images=result.images, activations=result.activations,
                 maps=np.array(result.maps))
    return result


class _PollOnly:
    """Lets a search stop between chunks and show its progress, without
    publishing its steps."""

    def __init__(self, ctx: Any) -> None:
        self.poll, self.progress = ctx.poll, ctx.progress

    def publish(self, channel: str, value: Any) -> None:
        return None

    def keep(self, result: Any) -> None:
        return None


async def oip_every_epoch_work(ctx: Any, training_job: Any, spec: OIPSpec) -> list[OIPResult]:
    """Re-run the same search on a weight snapshot after each epoch of a
    running training job, so the user can watch patterns form. Stop and
    cancel act between chunks of a search (within a second)."""
    results: OIPTimeline = OIPTimeline()
    seen = -1
    snapshot = None
    while True:
        finished = training_job.done  # read before the epochs: a last epoch must not slip past
        result = training_job.result
        epochs = getattr(result, "epochs_done", 0)
        if epochs != seen and getattr(result, "model", None) is not None:
            seen = epochs
            if snapshot is None:
                snapshot = snapshot_model(result.model)
            else:  # same snapshot, new weights: the compiled search is reused
                snapshot.set_weights(result.model.get_weights())
            spec.model = snapshot
            ctx.publish("log", f"searching after epoch {epochs}\n")
            r = search(spec, _PollOnly(ctx))
            r.provenance["epoch"] = epochs
            results.add(r)
            ctx.keep(results)
            ctx.publish("images", {"image": r.grid(), "caption": f"{spec.layer} after epoch {epochs}"})
            ctx.publish("metrics", point({"activation": float(np.mean(r.activations))}, epochs))
            record_epoch_quality(ctx, r, epochs)
        if finished and epochs == seen:
            return results
        if await ctx.checkpoint():
            return results
        await asyncio.sleep(0.2)


def record_epoch_quality(ctx: Any, result: OIPResult, epoch: int) -> None:
    """An every-epoch search's quality as an epoch series (``oip_ratio``,
    ``oip_informativeness``, ...: the job's epoch history, so ``cl.compare``
    and the panel's Compare overlay it), saved as the run's history.json."""
    summary = getattr(result.quality, "summary", None)
    if summary is None or epoch < 1:
        return
    row = {f"oip_{k}": v for k, v in summary().items()}
    ctx.publish("metrics", point(row, epoch, "epoch"))
    if not getattr(ctx, "run_dir", None):
        return
    import json

    path = os.path.join(ctx.run_dir, "history.json")
    try:
        with open(path) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        saved = {}
    history = saved.get("epoch", {}) if isinstance(saved.get("epoch"), dict) else {}
    for key, value in row.items():
        values = list(history.get(key, []))
        values += [None] * (epoch - len(values))  # epochs the search skipped stay empty
        values[epoch - 1] = None if value != value else value
        history[key] = values
    os.makedirs(ctx.run_dir, exist_ok=True)
    np.savez(os.path.join(ctx.run_dir, "oip.npz"), images=result.images, activations=result.activations,
             maps=np.array(result.maps), epoch=epoch)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"epoch": history, "epochs_done": epoch, "kind": "oip"}, f)
    os.replace(tmp, path)


__all__ = ["judge_more", "oip_every_epoch_work", "oip_work", "record_epoch_quality", "search"]
