"""Your own model and data: the per-batch cost of ``cl.LiveCallback`` in an
own ``fit`` against the same ``fit`` without it, and ``cl.train`` on a
``tf.data`` pipeline against plain ``fit`` on the same pipeline. Alternating
runs in one process, medians reported (this VM's speed drifts between runs)."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable


def _model() -> Any:
    import keras

    import cnnlive as cl

    model = cl.models.simple_cnn()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _alternate(runs: dict[str, Callable[[Any], None]], samples: int, pairs: int) -> dict[str, float]:
    rates: dict[str, list[float]] = {k: [] for k in runs}
    labels = list(runs)
    for i in range(pairs + 1):
        for label in labels if i % 2 else labels[::-1]:
            model = _model()
            t0 = time.perf_counter()
            runs[label](model)
            if i:  # the first pair warms up (tracing, caches)
                rates[label].append(samples / (time.perf_counter() - t0))
    return {k: statistics.median(v) for k, v in rates.items()}


def run(data_name: str = "fashion_mnist", n: int = 6000, pairs: int = 4, batch: int = 64) -> dict[str, str]:
    import tensorflow as tf

    import cnnlive as cl

    data = cl.data.load(data_name, limit=n, download=False)
    x, y = data.x_train, data.labels_train

    def plain(model: Any) -> None:
        model.fit(x, y, epochs=1, batch_size=batch, verbose=0)

    def live(model: Any) -> None:
        model.fit(x, y, epochs=1, batch_size=batch, verbose=0, callbacks=[cl.LiveCallback(name="bench")])

    r = _alternate({"fit": plain, "fit + LiveCallback": live}, len(x), pairs)
    cost_us = (1 / r["fit + LiveCallback"] - 1 / r["fit"]) * batch * 1e6
    rows = {
        "own fit samples/s (medians): plain / with cl.LiveCallback (a job with live metrics)":
            f"{r['fit']:.0f} / {r['fit + LiveCallback']:.0f} (ratio {r['fit + LiveCallback'] / r['fit']:.3f}, "
            f"{cost_us:.0f} µs per batch of {batch})",
    }

    def pipeline() -> Any:
        return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(2048, seed=0).batch(batch).prefetch(2)

    def fit_pipeline(model: Any) -> None:
        model.fit(pipeline(), epochs=1, verbose=0)

    def train_pipeline(model: Any) -> None:
        job = cl.train(model, pipeline(), epochs=1, save=False, validation=False)
        job.wait()
        assert job.error is None, job.error

    r = _alternate({"fit": fit_pipeline, "cl.train": train_pipeline}, len(x), pairs)
    rows["tf.data pipeline samples/s (medians): plain fit / cl.train (background job)"] = (
        f"{r['fit']:.0f} / {r['cl.train']:.0f} (ratio {r['cl.train'] / r['fit']:.3f})")
    for job in cl.jobs.list():
        if job.done:
            cl.jobs.remove(job.id)
    return rows


if __name__ == "__main__":
    for k, v in run().items():
        print(f"| {k} | {v} |")
