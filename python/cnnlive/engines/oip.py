"""OIP search policy: checks a request, runs the compiled ascent
(``ascent.py``) from band-pass noise (``noise.py``) towards an objective
(``objectives.py``) in chunks, restarts silent maps, detects convergence,
keeps snapshots, and returns an ``OIPResult``; plus the job bodies
(one search, a search after every epoch of a training)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from ..config import config
from ..events.channels import point
from ..imaging import enhance_contrast, to_uint8
from ..jobs.reporter import NullReporter, Reporter
from .ascent import Ascent, ascent_for
from .backend import keras
from .models import spatial_layers
from .noise import check_wavelengths, initial_noise
from .objectives import OBJECTIVES, Layer, Map, Node, Objective, ObjectiveLike, as_objective, label as objective_label
from .timeline import Thinning, Timeline, cap_bytes, check_snapshot_index, save_gif as _timeline_gif


@dataclass(frozen=True)
class OIPSettings:
    steps: int = 200
    step_size: float = 0.01
    smoothing: float = 0.5          # share of the blurred gradient (suppresses high frequencies)
    tolerance: float = 2e-4         # relative change of the objective per step that counts as converged
    snapshots: int = 6              # evolution frames kept
    wavelengths: tuple[float, ...] = (14.0, 7.0, 3.0)
    sweep: bool = False             # one image per wavelength instead of their superposition
    seed: int | None = 1
    objective: ObjectiveLike = "map"   # "map", "node", "layer" or an Objective (objectives.py)
    node: tuple[int, int] | None = None
    chunk: int = 10                 # steps per compiled call
    restarts: int = 8               # fresh noise for images whose map stays silent (zero gradient)
    input_standardization: Any = "image"  # "image", "none" or a callable (see standardization.py)


def snapshot_model(model: "keras.Model") -> "keras.Model":
    """A copy with the current weights, so analysis never races training."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def check_layer(model: "keras.Model", layer: str) -> tuple[int, int, int]:
    """Output (H, W, C) of a layer with maps; clear errors otherwise."""
    if None in tuple(model.input_shape[1:]):
        raise ValueError(f"the model has no fixed input shape ({model.input_shape}); build it with keras.Input(shape=...)")
    valid = spatial_layers(model)
    names = [l.name for l in model.layers]
    if layer not in names:
        raise ValueError(f"unknown layer {layer!r}; layers with maps: {', '.join(valid)}")
    if layer not in valid:
        kind = type(model.get_layer(layer)).__name__
        raise ValueError(f"layer {layer!r} ({kind}) has no spatial maps; layers with maps: {', '.join(valid)}")
    return tuple(int(d) for d in model.get_layer(layer).output.shape[1:])  # type: ignore[return-value]


def check_maps(maps: int | Sequence[int] | str, n_maps: int, layer: str) -> list[int]:
    if isinstance(maps, str):
        if maps != "all":
            raise ValueError(f"maps must be an int, a list of ints or 'all', got {maps!r}")
        return list(range(n_maps))
    ids = [maps] if isinstance(maps, (int, np.integer)) else list(maps)
    if not ids:
        raise ValueError("maps is empty")
    for m in ids:
        if not isinstance(m, (int, np.integer)) or not 0 <= m < n_maps:
            raise ValueError(f"map {m!r} is out of range: layer {layer!r} has maps 0..{n_maps - 1}")
    return [int(m) for m in ids]


@dataclass
class OIPSpec:
    """A checked OIP request."""

    model: Any
    layer: str
    maps: list[int]
    settings: OIPSettings
    layer_shape: tuple[int, int, int]
    input_shape: tuple[int, int, int]
    waves_per_image: list[tuple[float, ...]] = field(default_factory=list)
    data: np.ndarray | None = None  # images to judge the OIPs against (result.quality)

    @property
    def batch_maps(self) -> np.ndarray:
        per = len(self.settings.wavelengths) if self.settings.sweep else 1
        return np.repeat(np.array(self.maps, np.int32), per)


def prepare(model: "keras.Model", layer: str, maps: int | Sequence[int] | str, settings: OIPSettings) -> OIPSpec:
    """Check every argument against the model; raise ValueError naming valid choices."""
    objective = as_objective(settings.objective)
    if settings.steps <= 0:
        raise ValueError(f"steps must be > 0, got {settings.steps}")
    from .standardization import check

    check(settings.input_standardization)
    shape = check_layer(model, layer)
    ids = check_maps(maps, shape[2], layer)
    if objective.uses_node:
        if settings.node is None:
            raise ValueError(f"objective {objective_label(settings.objective)!r} needs node=(row, col)")
        r, c = settings.node
        if not (0 <= r < shape[0] and 0 <= c < shape[1]):
            raise ValueError(f"node {settings.node} is outside the {shape[0]}x{shape[1]} maps of {layer!r}: "
                             f"rows 0..{shape[0] - 1}, cols 0..{shape[1] - 1}")
    inp = tuple(int(d) for d in model.input_shape[1:])
    waves = check_wavelengths(settings.wavelengths, inp[0], inp[1])
    per_image = [(w,) for w in waves] if settings.sweep else [waves]
    return OIPSpec(model, layer, ids, settings, shape, inp,  # type: ignore[arg-type]
                   [p for _ in ids for p in per_image])


@dataclass
class OIPResult:
    """Best images per (map, noise) pair, their activations and provenance."""

    images: np.ndarray              # (N, H, W, C), standardized
    activations: np.ndarray         # (N,) best objective value
    maps: list[int]                 # map of each image
    wavelengths: list[tuple[float, ...]]
    curves: np.ndarray              # (steps_done, N) objective per step
    evolution: np.ndarray           # (S, N, H, W, C) snapshots
    provenance: dict[str, Any]
    steps_done: int = 0
    converged: np.ndarray | None = None
    quality: np.ndarray | None = None           # (N,) OIP activation / best data activation (data=)
    oip_mean: np.ndarray | None = None          # (N,) mean activation of each image's map
    data_best: np.ndarray | None = None         # (N,) best mean activation of that map over the data
    data_best_index: np.ndarray | None = None   # (N,) which data image gave it
    timeline: Timeline | None = None            # every snapshot (each chunk of steps), capped
    reason: str | None = None                   # why it ended before its steps ("converged at step 80 of 200")

    def grid(self, contrast: bool = False) -> np.ndarray:
        imgs = self.images[..., 0] if self.images.shape[-1] == 1 else self.images
        if contrast:
            imgs = np.stack([enhance_contrast(i) for i in imgs])
        n = len(imgs)
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        h, w = imgs.shape[1:3]
        out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1) + imgs.shape[3:], float(np.min(imgs)), np.float32)
        for i, img in enumerate(imgs):
            r, c = divmod(i, cols)
            out[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = img
        return out

    def _grid_of(self, images: np.ndarray) -> np.ndarray:
        return OIPResult(images, self.activations, self.maps, self.wavelengths, self.curves, self.evolution,
                         self.provenance).grid()

    def save_png(self, path: str, contrast: bool = False) -> str:
        from PIL import Image

        Image.fromarray(to_uint8(self.grid(contrast))).save(path)
        return path

    @property
    def snapshot_count(self) -> int:
        """How many snapshots the timeline keeps (what the panel's slider spans)."""
        timeline = self.timeline  # read once: an every-epoch timeline may drop it meanwhile
        return len(timeline) if timeline is not None else 0

    @property
    def snapshot_newest(self) -> str:
        """The label of the newest kept snapshot ("step 60"; "" when none)."""
        timeline = self.timeline
        return timeline.newest if timeline is not None else ""

    def snapshot(self, index: int) -> tuple[str, np.ndarray, float | None]:
        """Kept snapshot ``index`` (0: the oldest) as ``(label, grid image,
        mean objective at that step)``; IndexError when out of range."""
        timeline = self.timeline  # read once (see snapshot_count)
        if timeline is None:
            raise IndexError("this result keeps no snapshots (its timeline was dropped under the size cap)")
        label, images, value = timeline.frame(index)
        return label, self._grid_of(images), value

    def save_gif(self, path: str, ms_per_frame: int = 300) -> str:
        """The timeline (every kept snapshot, labelled by step) as a GIF;
        without a timeline, the evolution snapshots."""
        timeline = self.timeline
        if timeline is not None and len(timeline):
            return _timeline_gif(timeline.items(), self._grid_of, path, ms_per_frame)
        from PIL import Image

        frames = []
        for snap in self.evolution:
            res = OIPResult(snap, self.activations, self.maps, self.wavelengths, self.curves, self.evolution,
                            self.provenance)
            frames.append(Image.fromarray(to_uint8(res.grid())))
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
        return path


def _provenance(spec: OIPSpec, steps_done: int) -> dict[str, Any]:
    from .standardization import label

    settings = {**asdict(spec.settings), "input_standardization": label(spec.settings.input_standardization),
                "objective": objective_label(spec.settings.objective)}
    return {"model": spec.model.name, "layer": spec.layer, "maps": spec.maps, "steps": steps_done,
            "settings": settings, "input_shape": spec.input_shape}


def search(spec: OIPSpec, ctx: Reporter | None = None, x0: np.ndarray | None = None) -> OIPResult:
    """Run the search synchronously (``ctx``: optional Reporter for progress,
    live images and stop; without one, longer compiled chunks and no partials)."""
    from .standardization import start

    reporter: Reporter = ctx if ctx is not None else NullReporter()
    watched = not isinstance(reporter, NullReporter)
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
        k = min(s.chunk if watched else max(s.chunk, 50), steps - done)
        x, scores, active, final = ascent.run(x, maps, nodes, active, k)
        curves.append(scores)
        done += k
        better = final > best
        best_x[better], best[better] = x[better], final[better]
        silent = (best <= 0) & (restarts < s.restarts) & (done < steps)
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
            reporter.publish("metrics", point({"activation": float(np.mean(final)), "best": float(np.mean(best)),
                                               "active": int(active.sum())}, done))
            partial = OIPResult(best_x, best, list(maps), spec.waves_per_image, np.concatenate(curves),
                                np.stack(evolution), _provenance(spec, done), done, ~active, timeline=timeline)
            reporter.keep(partial)
            reporter.publish("images", {"image": partial.grid(), "caption": f"{spec.layer} step {done}"})
            if reporter.poll():
                break
    reason = f"converged at step {done} of {steps}" if done < steps and not active.any() else None
    if reason and watched:
        reporter.progress(done, done)  # converged: nothing is missing
    if len(evolution) == 1 or not np.array_equal(evolution[-1], x):
        evolution.append(x.copy())
    result = OIPResult(best_x, best, [int(m) for m in maps], spec.waves_per_image,
                       np.concatenate(curves) if curves else np.zeros((0, n), np.float32), np.stack(evolution),
                       _provenance(spec, done), done, ~active, timeline=timeline, reason=reason)
    if spec.data is not None:
        from .judge import oip_quality

        oip_quality(spec, result, spec.data)
    return result


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


class OIPTimeline(list):
    """The results of an every-epoch search, oldest first: a list with a
    size cap (``cnnlive.config.oip_snapshot_mb``). Past the cap the
    step-by-step timelines of older results go first, then every other older
    result (the first and the newest stay). ``save_gif`` shows one frame per
    epoch."""

    def __init__(self, cap: int | None = None) -> None:
        super().__init__()
        self.cap = cap_bytes() if cap is None else int(cap)
        self._thinning = Thinning()

    @property
    def dropped(self) -> int:
        return self._thinning.seen - len(self)

    @property
    def nbytes(self) -> int:
        return sum(r.images.nbytes + r.evolution.nbytes + r.curves.nbytes
                   + (r.timeline.nbytes if r.timeline is not None else 0) for r in self)

    def add(self, result: OIPResult) -> None:
        if self._thinning.push():
            self.pop()
        self.append(result)
        for older in self[:-1]:
            if self.nbytes <= self.cap:
                return
            older.timeline = None
        while self.nbytes > self.cap and len(self) > 2:
            keep = self._thinning.thin()
            self[:] = [self[i] for i in keep]

    @property
    def snapshot_count(self) -> int:
        """How many epochs' results are kept (what the panel's slider spans)."""
        return len(self)

    @property
    def snapshot_newest(self) -> str:
        """The label of the newest kept epoch ("epoch 3"; "" when none)."""
        kept = list(self)
        return f"epoch {kept[-1].provenance.get('epoch', len(kept) - 1)}" if kept else ""

    def snapshot(self, index: int) -> tuple[str, np.ndarray, float | None]:
        """Kept epoch ``index`` (0: the oldest) as ``(label, grid image, mean
        best activation)``; IndexError when out of range."""
        kept = list(self)  # one copy: add() may thin the list meanwhile
        check_snapshot_index(index, len(kept))
        r = kept[index]
        return f"epoch {r.provenance.get('epoch', index)}", r.grid(), float(np.mean(r.activations))

    def save_gif(self, path: str, ms_per_frame: int = 500) -> str:
        """The best OIPs after each kept epoch, as a GIF."""
        if not self:
            raise ValueError("no epoch has been searched yet")
        return _timeline_gif([(f"epoch {r.provenance.get('epoch', i)}", r.images) for i, r in enumerate(self)],
                             self[-1]._grid_of, path, ms_per_frame)


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
        if finished and epochs == seen:
            return results
        if await ctx.checkpoint():
            return results
        await asyncio.sleep(0.2)


def by_wavelengths(result: OIPResult) -> dict[tuple[float, ...], OIPResult]:
    """A sweep's result (``sweep=True``: one image per map and wavelength) as
    one result per wavelength set, in search order: images, activations,
    maps and, where present, quality of that set only."""
    out: dict[tuple[float, ...], OIPResult] = {}
    for waves in dict.fromkeys(tuple(w) for w in result.wavelengths):
        idx = [i for i, w in enumerate(result.wavelengths) if tuple(w) == waves]

        def pick(a: Any) -> Any:
            return None if a is None else np.asarray(a)[idx]

        curves = np.asarray(result.curves)
        out[waves] = OIPResult(
            pick(result.images), pick(result.activations), [result.maps[i] for i in idx], [waves] * len(idx),
            curves[:, idx] if curves.ndim == 2 and curves.shape[1] == len(result.maps) else curves,
            np.asarray(result.evolution)[:, idx] if np.ndim(result.evolution) >= 2 else result.evolution,
            dict(result.provenance, wavelengths=list(waves)), result.steps_done, pick(result.converged),
            pick(result.quality), pick(result.oip_mean), pick(result.data_best), pick(result.data_best_index))
    return out


__all__ = ["OBJECTIVES", "Ascent", "Layer", "Map", "Node", "OIPResult", "OIPSettings", "OIPSpec", "OIPTimeline",
           "Objective", "ascent_for", "by_wavelengths", "check_layer", "check_maps", "oip_every_epoch_work", "oip_work", "prepare",
           "search", "snapshot_model"]
