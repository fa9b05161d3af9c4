"""``cnnlive.train / oip / dream``: check arguments at call time, then start
a background job and return it at once."""

from __future__ import annotations

import os
from typing import Any, Sequence

from ..jobs import Job, manager


def _name(prefix: str, name: str | None) -> str:
    return name or prefix


def _maybe_plot(job: Job, plot: bool) -> Job:
    if plot:
        job.plot()
    return job


def _resolve_model(model: Any, snapshot: bool) -> Any:
    """A Keras model from a model, a .keras path or a training Job.

    Analysis jobs (OIP, dream) work on a weight snapshot so a training job on
    the same model can go on without either corrupting the other.
    """
    from ..engines.backend import keras

    if isinstance(model, Job):
        result = model.result
        if result is None or getattr(result, "model", None) is None:
            raise ValueError(f"job {model.id} ({model.kind}) has no model yet; wait until it has started training")
        model = result.model
    elif isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such model file: {path}")
        return keras.models.load_model(path, compile=False, safe_mode=True)  # no Lambda code runs on loading
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a Keras model, a .keras path or a training Job, not {type(model).__name__}")
    if snapshot:
        from ..engines.oip.checks import snapshot_model

        return snapshot_model(model)
    return model


FIT_KEYWORDS = ("class_weight", "steps_per_epoch", "validation_steps", "shuffle", "validation_freq",
                "sample_weight")


def _check_callbacks(callbacks: Any) -> list[Any]:
    from ..engines.backend import keras

    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.Callback):
        callbacks = [callbacks]
    out = list(callbacks)
    for i, cb in enumerate(out):
        if not isinstance(cb, keras.callbacks.Callback):
            raise TypeError(f"callbacks[{i}] is a {type(cb).__name__}, not a keras.callbacks.Callback; "
                            f"expected a list of keras.callbacks.Callback objects")
    return out


def train(model: Any, data: Any = "digits", epochs: int = 5, batch_size: int = 64, *,
          validation_data: Any = None, callbacks: Sequence[Any] | None = None,
          optimizer: str | None = None, learning_rate: float = 1e-3, momentum: float | None = None,
          lr_schedule: str | None = "power", decay_rate: float = 1e-3, validation: bool = True,
          save: bool = True, initial_epoch: int | None = None, name: str | None = None,
          run_dir: str | None = None, plot: bool = False, **fit_kwargs: Any) -> Job:
    """Train ``model`` on ``data`` in the background; returns the Job at once.

    ``data``: a cnnlive Dataset, a name or path for :func:`cnnlive.data.load`,
    a tuple ``(x, y)`` of arrays, a ``tf.data.Dataset`` of ``(x, y)`` batches or
    a ``keras.utils.PyDataset``; targets are integer class ids, one-hot rows,
    0/1 per output unit (binary) or other numbers (continuous, regression).
    ``validation_data`` takes the same forms (default: a Dataset's test split;
    ``validation=False`` turns it off). ``callbacks`` run beside cnnlive's own;
    ``class_weight``, ``steps_per_epoch``, ``validation_steps``, ``shuffle``,
    ``validation_freq``, ``sample_weight`` go to ``fit``. A model the user
    compiled keeps its optimizer, loss and metrics; otherwise (or with
    ``optimizer=``) cnnlive compiles it with the loss that matches the labels
    (class ids: sparse categorical cross-entropy, one-hot: categorical,
    binary: binary cross-entropy, continuous: mean squared error; RMSprop
    with momentum 0.5 and the seeds' power decay by default). Stop
    saves ``model.keras`` and ``history.json`` to the run folder; cancel keeps
    the model in memory only. ``job.result`` is a TrainingResult.
    """
    from ..engines.backend import keras
    from ..engines.training.fitdata import LOSSES, METRICS, as_fit_data, as_validation
    from ..engines.training.schedules import make_optimizer
    from ..engines.training.work import train_work

    if not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    unknown = sorted(set(fit_kwargs) - set(FIT_KEYWORDS))
    if unknown:
        raise TypeError(f"train() got unknown keyword(s) {', '.join(unknown)}; fit keywords passed through: "
                        f"{', '.join(FIT_KEYWORDS)}")
    if isinstance(model, (str, os.PathLike)):
        model = _resolve_model(model, snapshot=False)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a Keras model or a .keras path, not {type(model).__name__}")
    user_callbacks = _check_callbacks(callbacks)
    train_data, default_val = as_fit_data(model, data)
    val = as_validation(model, validation_data, train_data.labels) if validation_data is not None else default_val
    if not validation:
        val = None
    if train_data.infinite and not fit_kwargs.get("steps_per_epoch"):
        raise ValueError(f"{train_data.name} repeats forever (a tf.data.Dataset with .repeat()); "
                         f"give steps_per_epoch=N")
    if optimizer is not None or getattr(model, "optimizer", None) is None or not model.compiled:
        if train_data.labels not in LOSSES:
            raise ValueError("cnnlive cannot choose a loss for a model with several inputs or outputs; "
                             "compile the model yourself")
        if val is not None and val.labels != train_data.labels and not (
                {val.labels, train_data.labels} <= {"binary", "continuous"}):
            raise ValueError(f"training labels are {train_data.labels} but validation labels are {val.labels}; "
                             f"give both as integer class ids or both one-hot")
        opt = make_optimizer(optimizer or "rmsprop", learning_rate, momentum, lr_schedule, decay_rate=decay_rate)
        model.compile(optimizer=opt, loss=LOSSES[train_data.labels], metrics=list(METRICS[train_data.labels]))
    if train_data.kind != "arrays":
        fit_kwargs.setdefault("shuffle", False)  # Keras warns: a pipeline shuffles itself
    start_epoch = getattr(model, "_cnnlive_epoch", 0) if initial_epoch is None else initial_epoch
    job = manager().start(train_work, model, train_data, val, epochs, batch_size, start_epoch, save,
                          user_callbacks, fit_kwargs, name=_name(f"train-{model.name}", name), kind="train",
                          run_dir=run_dir)
    return _maybe_plot(job, plot)


def oip(model: Any, layer: str = "Conv2D_3", maps: int | Sequence[int] | str = 0, steps: int = 200, *,
        objective: Any = "map", node: tuple[int, int] | None = None,
        wavelengths: Sequence[float] = (14, 7, 3), step_size: float = 0.01, smoothing: float = 0.5,
        tolerance: float = 2e-4, snapshots: int = 6, seed: int | None = 1, every: str | None = None,
        input_standardization: Any = "image", name: str | None = None, run_dir: str | None = None,
        plot: bool = False, data: Any = None, sweep: bool = False, quality_seeds: int = 3) -> Job:
    """Search the input patterns (OIPs) that maximally activate ``maps`` of
    ``layer`` (an int, a list or "all"), by gradient ascent from noise with the
    given ``wavelengths`` (pixels). ``objective`` is "map" (mean activation),
    "node" (one ``node=(row, col)`` of each map), "layer" (all maps) or an
    objective object from ``cl.objectives`` (``Map()``, ``Node()``,
    ``Layer()`` and weighted sums such as ``Map() + 0.5 * Layer()``).
    ``model`` may be a Keras model, a .keras path or a training Job; with
    ``every="epoch"`` and a running training job, the search re-runs after
    each epoch. ``input_standardization`` says what the model's inputs look
    like: "image" (per-image standardization, the default), "none" (raw [0, 1]
    pixels) or a callable batch -> batch applied after every step.
    ``job.result`` is an OIPResult. With ``data`` (a Dataset, a data set name
    or an image array; its test split is used) the result gets ``quality``, a
    table per image and measure (``cnnlive.engines.oip.quality``): the activation
    ratio (its map's mean activation over the best one over the data; < 1: the
    OIP does not beat the data; also what ``quality[i]`` and ``np.asarray``
    give), informativeness (OIP and natural exemplars), diversity and
    reproducibility over ``quality_seeds`` searches with other seeds, and the
    map's data mean (an OIP at or below it found no pattern). ``sweep=True``:
    a wavelength sweep, one search from noise of each wavelength alone (not
    their superposition) per map; ``result.wavelengths`` labels each image,
    ``cl.oip_grid`` titles them, ``cnnlive.engines.oip.by_wavelengths(result)``
    gives one result per wavelength set."""
    from ..engines.oip.work import oip_every_epoch_work, oip_work
    from ..engines.oip.spec import OIPSettings, prepare

    if not isinstance(sweep, bool):
        raise ValueError(f"sweep must be True or False, got {sweep!r}")
    settings = OIPSettings(steps=steps, step_size=step_size, smoothing=smoothing, tolerance=tolerance,
                           snapshots=snapshots, wavelengths=tuple(wavelengths), seed=seed,
                           objective=objective, node=node, input_standardization=input_standardization,
                           sweep=sweep)
    if not isinstance(quality_seeds, int) or isinstance(quality_seeds, bool) or quality_seeds < 1:
        raise ValueError(f"quality_seeds must be a positive integer (OIPs per map), got {quality_seeds!r}")
    if every not in (None, "epoch"):
        raise ValueError(f"every must be None or 'epoch', got {every!r}")
    if every == "epoch":
        if not isinstance(model, Job) or model.kind != "train":
            raise ValueError("every='epoch' needs a training Job as model")
        source = model
        spec = prepare(_wait_model(model), layer, maps, settings)
        spec.data, spec.quality_seeds = _judge_data(data, spec.model), quality_seeds
        job = manager().start(oip_every_epoch_work, source, spec, name=_name(f"oip-{layer}-epochs", name),
                              kind="oip", run_dir=run_dir)
        return _maybe_plot(job, plot)
    spec = prepare(_resolve_model(model, snapshot=True), layer, maps, settings)
    spec.data, spec.quality_seeds = _judge_data(data, spec.model), quality_seeds
    job = manager().start(oip_work, spec, name=_name(f"oip-{layer}", name), kind="oip", run_dir=run_dir)
    return _maybe_plot(job, plot)


def _wait_model(job: Job) -> Any:
    import time

    deadline = time.time() + 30
    while (job.result is None or getattr(job.result, "model", None) is None) and time.time() < deadline:
        time.sleep(0.05)
    return _resolve_model(job, snapshot=True)


def dream(model: Any, image: Any = None, layer: str = "Conv2D_3", maps: int | Sequence[int] | str = 56,
          iterations: int = 4, *, steps: int = 30, levels: int = 1, size: int = 560,
          tile_maps: Sequence[int] | None = None, step_size: float = 0.01, seed: int | None = 1,
          input_standardization: Any = "image",
          name: str | None = None, run_dir: str | None = None, plot: bool = False) -> Job:
    """Carve the patterns of ``maps`` of ``layer`` into a photo (default: the
    flower scikit-learn ships): ``iterations`` rounds of ``steps`` OIP steps
    on the down-scaled full image, then on tiles (``levels`` of quadrant
    subdivision). ``input_standardization`` as for :func:`oip`. ``job.result``
    is a DreamResult."""
    from ..engines.dream import DreamSettings, dream_work, prepare_dream

    settings = DreamSettings(iterations=iterations, steps=steps, levels=levels, size=size, step_size=step_size,
                             seed=seed, tile_maps=None if tile_maps is None else tuple(tile_maps),
                             input_standardization=input_standardization)
    spec = prepare_dream(_resolve_model(model, snapshot=True), image, layer, maps, settings)
    job = manager().start(dream_work, spec, name=_name(f"dream-{layer}", name), kind="dream", run_dir=run_dir)
    return _maybe_plot(job, plot)


def activation_grid(model: Any, image: Any, layer: str = "Conv2D_1", **kwargs: Any) -> Any:
    """Figure with the activation maps of ``layer`` for one input image."""
    from ..engines.activations import layer_activations
    from ..views.grids import activation_figure

    from ..views.live import show_once

    acts = layer_activations(_resolve_model(model, snapshot=False), image, layer)
    return show_once(activation_figure(acts, title=f"{layer}: {acts.shape[-1]} maps", **kwargs))


def _judge_data(data: Any, model: Any) -> Any:
    """The data images for ``oip(..., data=)``, checked against the model now."""
    if data is None:
        return None
    from ..engines.oip.judge import data_images

    return data_images(data, model)[0]


def _oip_result(result: Any) -> Any:
    if isinstance(result, Job):
        result = result.result
    if isinstance(result, list) and result:  # an every-epoch search: its latest result
        result = result[-1]
    if result is None or not hasattr(result, "images") or not hasattr(result, "maps"):
        raise TypeError(f"expected an OIP result or an OIP Job with a result, not {type(result).__name__}")
    return result


def exemplars(model: Any, data: Any = "digits", layer: str = "Conv2D_3", maps: int | Sequence[int] | str = 0,
              k: int = 9, *, oip: Any = None, show: str = "images", plot: bool = True) -> Any:
    """The ``k`` images of ``data`` (its test split) that drive each map of
    ``layer`` most, with receptive-field crops around each map's peak.
    ``.images`` is (maps, k, H, W, C). With ``plot`` a figure (``.figure``)
    sets them beside each map's OIP from ``oip`` (an OIP result or job);
    ``show`` is "images" (with the receptive field framed) or "crops"."""
    from ..engines.oip.judge import exemplars as find

    if show not in ("images", "crops"):
        raise ValueError(f"show must be 'images' or 'crops', got {show!r}")
    pattern = None if oip is None else _oip_result(oip)
    result = find(_resolve_model(model, snapshot=True), data, layer, maps, k)
    if plot:
        from ..views.judge import exemplar_figure
        from ..views.live import show_once

        result.figure = show_once(exemplar_figure(result, pattern, show=show))
    return result


def oip_grid(result: Any, contrast: bool = False, cols: int | None = None, title: str = "") -> Any:
    """Figure of the OIPs of a result (or an OIP job), each titled with its
    map and, when the search had ``data=``, its quality; maps whose OIP fails
    any quality measure (for a bare ratio: does not beat the data) are framed
    in red."""
    from ..views.judge import oip_grid_figure
    from ..views.live import show_once

    return show_once(oip_grid_figure(_oip_result(result), contrast=contrast, cols=cols, title=title))


def runs(folder: str | None = None, kind: str = "train") -> Any:
    """The saved runs in ``folder`` (default: ``cnnlive.config.runs_folder()``),
    newest first, as a table: name, id, kind, date, epochs, best validation
    metric, path. ``kind``: ``"train"`` (default: the runs ``compare`` can
    use, so quick OIP searches and dreams do not crowd them out), ``"oip"``,
    ``"dream"``, ``"other"`` or ``"all"``; the heading counts the runs left out."""
    from ..config import config
    from ..engines.runs import list_runs

    return list_runs(folder or manager().runs_root or config.runs_folder(), kind)


def compare(*sources: Any, metrics: Sequence[str] | str | None = None, folder: str | None = None) -> Any:
    """One figure overlaying the epoch history of jobs (live while they run)
    and saved runs (run folders, their names in the runs folder, or rows of
    :func:`runs`). ``metrics`` defaults to loss and accuracy; validation
    values are drawn dashed. Returns the view (``.fig``, ``.save(path)``)."""
    from ..config import config
    from ..engines.runs import metric_names, read_history, resolve_run
    from ..views.compare import CompareView, Saved, show_compare

    if not sources:
        raise ValueError("compare needs at least one job or run folder; cl.runs() lists the saved runs")
    root = folder or manager().runs_root or config.runs_folder()
    items: list[Any] = []
    available: list[str] = []
    for source in sources:
        if isinstance(source, Job):
            hist = source.channels.history("epoch")
            names = metric_names({k: v for k, v in hist.items() if v})
            if not names and source.kind == "train":
                names = ["loss", "accuracy"]  # nothing published yet: the default compiled metrics
            items.append(source.watch())  # the view reads, never steers, the job
        else:
            run = resolve_run(source, root)
            history = run.history or read_history(f"{run.path}/history.json")["epoch"]
            if not history:
                raise ValueError(f"run {run.folder!r} ({run.kind}) has no epoch history (history.json)")
            names = metric_names(history)
            items.append(Saved(run.folder, history))
        available += [n for n in names if n not in available]
    if isinstance(metrics, str):
        metrics = [metrics]
    if metrics is None:
        own = ("lr",) if "cnnlive_lr" not in available else ()  # cnnlive's rate, unless a user metric took "lr"
        metrics = [m for m in ("loss", "accuracy") if m in available] or [
            m for m in available if m not in own and not m.startswith("cnnlive_")][:2]
        if not metrics:
            raise ValueError("none of the sources has epoch metrics yet")
    for m in metrics:
        if m not in available:
            raise ValueError(f"unknown metric {m!r}; available: {', '.join(available)}")
    return show_compare(CompareView(items, list(metrics)))
