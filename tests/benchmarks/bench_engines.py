"""Training throughput, OIP and dream speed: cnnlive vs straightforward anchors
written the seeds' way, in one process."""

from __future__ import annotations

import time

import numpy as np


def _trained():
    import cnnlive as cl

    model = cl.models.simple_cnn()
    cl.train(model, "digits", epochs=4, save=False).wait()
    return model


def training(data_name: str = "fashion_mnist", n: int = 8000, pairs: int = 6) -> dict[str, str]:
    """Alternating runs of plain ``fit`` and ``cl.train`` (this VM's speed
    drifts by ±30 % between runs, so medians of several pairs are reported)."""
    import statistics

    import cnnlive as cl
    from cnnlive.engines.training.schedules import make_optimizer

    data = cl.data.load(data_name, limit=n, download=False)
    rates: dict[str, list[float]] = {"fit": [], "cl.train": []}
    for i in range(pairs + 1):
        for label in ("fit", "cl.train") if i % 2 else ("cl.train", "fit"):
            model = cl.models.simple_cnn()
            model.compile(make_optimizer(), "categorical_crossentropy", metrics=["accuracy"])
            t0 = time.perf_counter()
            if label == "cl.train":
                cl.train(model, data, epochs=1, batch_size=64, save=False, validation=False).wait()
            else:
                model.fit(data.x_train, data.y_train, epochs=1, batch_size=64, verbose=0)
            if i:  # the first pair warms up
                rates[label].append(len(data.x_train) / (time.perf_counter() - t0))
    fit, bg = statistics.median(rates["fit"]), statistics.median(rates["cl.train"])
    return {"training samples/s, median of 6 alternating runs: plain fit / cl.train (background, live metrics)":
            f"{fit:.0f} / {bg:.0f} (ratio {bg / fit:.2f})"}


def _eager_oip(model, layer, map_id, steps, x0, step_size=0.01):
    """The seeds' way: an eager GradientTape loop, one map at a time."""
    import tensorflow as tf
    import keras

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    x = tf.Variable(x0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(sub(x)[..., map_id])
        g = tape.gradient(loss, x)
        g /= tf.sqrt(tf.reduce_mean(tf.square(g))) + 1e-5
        x.assign(tf.image.per_image_standardization(x + step_size * g))
    return x.numpy()


def oip(model=None, steps: int = 100) -> dict[str, str]:
    from cnnlive.engines.oip.noise import initial_noise
    from cnnlive.engines.oip import OIPSettings, prepare, search

    model = model or _trained()
    x0 = initial_noise(1, (28, 28, 1), (14, 7, 3), 1)
    _eager_oip(model, "Conv2D_3", 0, 3, x0)
    t0 = time.perf_counter()
    _eager_oip(model, "Conv2D_3", 0, steps, x0)
    eager = steps / (time.perf_counter() - t0)
    s = OIPSettings(steps=steps, tolerance=0.0, restarts=0)
    search(prepare(model, "Conv2D_3", 0, OIPSettings(steps=10, tolerance=0.0)))
    t0 = time.perf_counter()
    search(prepare(model, "Conv2D_3", 0, s))
    one = steps / (time.perf_counter() - t0)
    search(prepare(model, "Conv2D_3", "all", OIPSettings(steps=10, tolerance=0.0)))
    t0 = time.perf_counter()
    search(prepare(model, "Conv2D_3", "all", s))
    allmaps = 128 * steps / (time.perf_counter() - t0)
    out = {
        "OIP one map, steps/s: eager seeds-way loop / cnnlive": f"{eager:.0f} / {one:.0f} (ratio {one / eager:.1f})",
        "OIP all 128 maps, map-steps/s: eager loop (1 map) / cnnlive batched":
            f"{eager:.0f} / {allmaps:.0f} (ratio {allmaps / eager:.1f})",
    }
    try:
        from tf_keras_vis.activation_maximization import ActivationMaximization  # noqa: F401
        out.update(_tf_keras_vis(model, steps, one, allmaps))
    except Exception as exc:  # noqa: BLE001
        out["tf-keras-vis"] = f"not measured ({type(exc).__name__}: {str(exc)[:80]})"
    return out


def _tf_keras_vis(model, steps, one, allmaps):
    from tf_keras_vis.activation_maximization import ActivationMaximization
    from tf_keras_vis.utils.scores import CategoricalScore
    import keras

    sub = keras.Model(model.inputs, model.get_layer("Conv2D_3").output)
    am = ActivationMaximization(sub, clone=False)
    score = lambda out: keras.ops.mean(out[..., 0], axis=(1, 2))  # noqa: E731
    am(score, steps=3)
    t0 = time.perf_counter()
    am(score, steps=steps)
    tkv_one = steps / (time.perf_counter() - t0)
    def per_sample_map(out):  # sample i maximizes map i
        return keras.ops.stack([keras.ops.mean(out[i, ..., i]) for i in range(16)])

    seeds = np.random.rand(16, 28, 28, 1).astype("float32")
    am(per_sample_map, steps=3, seed_input=seeds)
    t0 = time.perf_counter()
    am(per_sample_map, steps=steps, seed_input=seeds)
    tkv_all = 16 * steps / (time.perf_counter() - t0)
    return {"OIP one map, steps/s: tf-keras-vis / cnnlive": f"{tkv_one:.0f} / {one:.0f} (ratio {one / tkv_one:.1f})",
            "OIP many maps, map-steps/s: tf-keras-vis (16 maps) / cnnlive (128 maps)":
                f"{tkv_all:.0f} / {allmaps:.0f} (ratio {allmaps / tkv_all:.1f})"}


def _eager_dream(model, image, map_id, iterations, steps, levels, size):
    """The seeds' loop written straight: eager OIP per region, one tile at a time."""
    import tensorflow as tf

    from cnnlive.engines.oip import Ascent

    def tiles_of(size, level):  # the seeds' grid: 2^level x 2^level abutting tiles
        edges = np.linspace(0, size, 2 ** level + 1).round().astype(int)
        return [(edges[r], edges[c], edges[r + 1] - edges[r], edges[c + 1] - edges[c])
                for r in range(2 ** level) for c in range(2 ** level)]

    ascent = Ascent(model, "Conv2D_3", "map", 0.01, 0.5, 0.0)

    def oip_eager(z):
        x = tf.convert_to_tensor(z)
        m = tf.constant([map_id] * len(z), tf.int32)
        nodes = tf.zeros((len(z), 2), tf.int32)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                score, ascend = ascent._objective(x, m, nodes)
                total = tf.reduce_sum(ascend)
            g = tape.gradient(total, x)
            g = g / (tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2, 3], keepdims=True)) + 1e-8)
            blurred = tf.nn.depthwise_conv2d(g, ascent._kernel, [1, 1, 1, 1], "SAME")
            x = tf.image.per_image_standardization(x + 0.01 * (0.5 * g + 0.5 * blurred))
        return x.numpy()

    def carve1(region):
        h, w = region.shape[1:3]
        down = tf.image.resize(region, (28, 28), "bicubic", antialias=True).numpy()
        detail = region - tf.image.resize(down, (h, w), "bicubic", antialias=True).numpy()
        mean, std = down.mean(), max(down.std(), 1 / 28)
        z = oip_eager((down - mean) / std)
        return tf.image.resize(z * std + mean, (h, w), "bicubic", antialias=True).numpy() + detail

    img = image[None].copy()
    for _ in range(iterations):
        img = carve1(img)
        for level in range(1, levels + 1):
            for t, l, h, w in tiles_of(size, level):
                img[:, t:t + h, l:l + w] = carve1(img[:, t:t + h, l:l + w])
        img = tf.image.per_image_standardization(img).numpy()
    return img[0, ..., 0]


def dream(model=None) -> dict[str, str]:
    from cnnlive.engines.dream import DreamSettings, prepare_dream, run_dream, seam_ratio

    model = model or _trained()
    settings = DreamSettings(iterations=2, steps=20, levels=2, size=224)
    spec = prepare_dream(model, None, "Conv2D_3", 56, settings)
    run_dream(prepare_dream(model, None, "Conv2D_3", 56, DreamSettings(iterations=1, steps=2, levels=2, size=224)))
    t0 = time.perf_counter()
    ours = run_dream(spec).image
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = _eager_dream(model, spec.image, 56, 2, 20, 2, 224)
    t_ref = time.perf_counter() - t0
    photo = spec.image[..., 0]
    borders = sorted({224 * k // 2 ** lv - 1 for lv in (1, 2) for k in range(1, 2 ** lv)})
    seams = seam_ratio(ref - photo, borders), seam_ratio(ours - photo, borders)
    full = DreamSettings(iterations=4, steps=30, levels=2, size=560)
    t0 = time.perf_counter()
    run_dream(prepare_dream(model, None, "Conv2D_3", 56, full))
    t_full = time.perf_counter() - t0
    return {
        "dream 224px, 2 iterations, 2 levels: eager seeds-way loop (4+16 abutting tiles) / cnnlive "
        "(9+49 blended tiles) (s)": f"{t_ref:.1f} / {t_ours:.1f} (ratio {t_ref / t_ours:.1f})",
        "dream seams (change jump at tile borders / neighbouring lines): seeds-way / cnnlive":
            f"{seams[0]:.1f} / {seams[1]:.1f}",
        "dream default 560px, 4 iterations, 30 steps, 2 levels (s)": f"{t_full:.1f}",
    }


def _judged(model, images, maps, data, layer="Conv2D_3"):
    """(share of maps whose OIP beats the best test digit, median ratio, mean
    informativeness OIP / natural) of ``images`` (one per map), standardized
    as the model's inputs are, on the test digits."""
    from types import SimpleNamespace

    from cnnlive.engines.oip.judge import oip_quality
    from cnnlive.engines.oip import OIPSettings, prepare
    from cnnlive.engines.oip.quality import quality_table
    from cnnlive.imaging import standardize

    spec = prepare(model, layer, list(maps), OIPSettings(steps=1))
    result = SimpleNamespace(images=standardize(np.asarray(images, np.float32)), maps=list(maps))
    oip_quality(spec, result, data.x_test)
    q = quality_table(spec, result, data.x_test, seeds=1)
    ratio = np.asarray(q)
    live = np.isfinite(ratio) | (ratio > 0)
    return (float(np.mean(ratio[live] >= 1)), float(np.median(ratio[live])),
            float(np.nanmean(q["informativeness"])), float(np.nanmean(q["natural"])))


def peers(model=None, steps: int = 200) -> dict[str, str]:
    """cnnlive, Xplique's feature visualization (defaults; Fourier without
    transforms) and tf-keras-vis on all 128 maps of Conv2D_3, ``steps`` steps
    each, one process: time and quality side by side."""
    import cnnlive as cl
    from cnnlive.engines.oip import OIPSettings, prepare, search

    model = model or _trained()
    data = cl.data.load("digits")
    maps = list(range(128))
    rows: dict[str, tuple[float, tuple[float, float, float, float]] | str] = {}
    search(prepare(model, "Conv2D_3", "all", OIPSettings(steps=10)))
    t0 = time.perf_counter()
    ours = search(prepare(model, "Conv2D_3", "all", OIPSettings(steps=steps))).images
    rows["cnnlive"] = (time.perf_counter() - t0, _judged(model, ours, maps, data))
    try:
        from xplique.features_visualizations import Objective, optimize

        for label, kwargs in (("Xplique defaults", {}),
                              ("Xplique Fourier, no transforms", {"use_fft": True, "transformations": None})):
            objective = Objective.channel(model, "Conv2D_3", maps)
            optimize(objective, nb_steps=2, custom_shape=(28, 28), **kwargs)
            t0 = time.perf_counter()
            images, _ = optimize(objective, nb_steps=steps, custom_shape=(28, 28), **kwargs)
            rows[label] = (time.perf_counter() - t0, _judged(model, np.asarray(images[0]), maps, data))
    except Exception as exc:  # noqa: BLE001
        rows["Xplique"] = f"not measured ({type(exc).__name__}: {str(exc)[:120]})"
    try:
        import keras
        from tf_keras_vis.activation_maximization import ActivationMaximization

        sub = keras.Model(model.inputs, model.get_layer("Conv2D_3").output)
        am = ActivationMaximization(sub, clone=False)
        eye = np.eye(128, dtype="float32")

        def per_sample_map(out):  # sample i maximizes map i
            return keras.ops.sum(keras.ops.mean(out, axis=(1, 2)) * eye, axis=-1)

        seeds = np.random.default_rng(0).random((128, 28, 28, 1)).astype("float32")
        am(per_sample_map, steps=2, seed_input=seeds)
        t0 = time.perf_counter()
        images = am(per_sample_map, steps=steps, seed_input=seeds)
        rows["tf-keras-vis"] = (time.perf_counter() - t0, _judged(model, np.asarray(images), maps, data))
    except Exception as exc:  # noqa: BLE001
        rows["tf-keras-vis"] = f"not measured ({type(exc).__name__}: {str(exc)[:120]})"
    out = {}
    for label, value in rows.items():
        key = (f"OIP peers, all 128 maps of Conv2D_3, {steps} steps: {label}: time (s) / maps beating the best "
               f"test digit / median ratio / informativeness OIP (natural exemplars)")
        if isinstance(value, str):
            out[key] = value
            continue
        t, (share, median, info, nat) = value
        out[key] = f"{t:.1f} / {share:.0%} / {median:.1f} / {info:.2f} ({nat:.2f})"
    return out


def limit(model=None, steps: int = 200, repeats: int = 5) -> dict[str, str]:
    """``maps="all"`` for ``steps`` steps against a bare compiled
    forward+backward loop of the same sub-model on the same batch (the
    gradient of the maps' means, one plain step each), same process."""
    import keras
    import tensorflow as tf

    from cnnlive.engines.oip import OIPSettings, prepare, search

    model = model or _trained()
    sub = keras.Model(model.inputs, model.get_layer("Conv2D_3").output)
    ids = tf.range(128)

    @tf.function
    def bare(x, n):
        for _ in tf.range(n):
            with tf.GradientTape() as tape:
                tape.watch(x)
                score = tf.reduce_mean(tf.gather(sub(x, training=False), ids, axis=3, batch_dims=1), axis=[1, 2])
                total = tf.reduce_sum(score)
            x = x + 0.01 * tape.gradient(total, x)
        return x

    x0 = tf.random.normal((128, 28, 28, 1))
    bare(x0, tf.constant(2))
    settings = OIPSettings(steps=steps, tolerance=0.0, restarts=0)
    search(prepare(model, "Conv2D_3", "all", OIPSettings(steps=10, tolerance=0.0)))
    t_bare, t_ours = [], []
    for _ in range(repeats):  # alternate: this VM's speed drifts
        t0 = time.perf_counter()
        bare(x0, tf.constant(steps)).numpy()
        t_bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        search(prepare(model, "Conv2D_3", "all", settings))
        t_ours.append(time.perf_counter() - t0)
    b, o = 128 * steps / min(t_bare), 128 * steps / min(t_ours)
    return {f"OIP maps='all' ({steps} steps) vs bare compiled forward+backward of the same sub-model, map-steps/s "
            f"(best of {repeats})": f"{b:.0f} / {o:.0f} (ratio {o / b:.2f})"}
