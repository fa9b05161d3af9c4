"""Cost of live plotting on training throughput: plain fit vs cl.train with
the live dashboard (ipympl canvas, per-batch data, 5 Hz) vs a naive callback
that redraws the whole figure after every batch."""

from __future__ import annotations

import time


def run(n: int = 8000, epochs: int = 1, rounds: int = 4) -> dict[str, str]:
    import matplotlib

    matplotlib.use("module://ipympl.backend_nbagg")
    import keras
    import matplotlib.pyplot as plt

    import cnnlive as cl
    from cnnlive.engines.training import make_optimizer
    from cnnlive.views.live import Renderer, TrainingDashboard

    data = cl.data.load("fashion_mnist", limit=n, download=False)

    class NaiveRedraw(keras.callbacks.Callback):
        """The straightforward way: append, relim, redraw on every batch."""

        def __init__(self):
            super().__init__()
            self.fig, self.ax = plt.subplots(2, 2, figsize=(9, 5.5))
            self.fig.canvas.syncing_data_url = False
            self.line, = self.ax[0][0].plot([], [])
            self.losses = []

        def on_train_batch_end(self, batch, logs=None):
            self.losses.append(logs["loss"])
            self.line.set_data(range(len(self.losses)), self.losses)
            for ax in self.ax.flat:
                ax.relim()
                ax.autoscale_view()
            self.fig.canvas.draw()
            self.fig.canvas.manager.refresh_all()

    def fresh():
        m = cl.models.simple_cnn()
        m.compile(make_optimizer(), "categorical_crossentropy", metrics=["accuracy"])
        return m

    import statistics

    rates: dict[str, list[float]] = {}
    order = ["warm-up"] + ["fit", "dashboard", "naive", "dashboard", "fit"] * (rounds // 2)
    for label in order:
        model = fresh()
        t0 = time.perf_counter()
        if label == "dashboard":
            job = cl.train(model, data, epochs=epochs, batch_size=64, save=False, validation=False)
            view = TrainingDashboard(job)
            view.canvas.syncing_data_url = False  # as after a front end's handshake
            renderer = Renderer(fps=5)
            renderer.add(view)
            job.wait()
            frames = view.frames
        elif label == "naive":
            model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=64, verbose=0, callbacks=[NaiveRedraw()])
        else:
            model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=64, verbose=0)
        rates.setdefault(label, []).append(n * epochs / (time.perf_counter() - t0))
        plt.close("all")
    fit, dash, naive = (statistics.median(rates[k]) for k in ("fit", "dashboard", "naive"))
    return {
        "training samples/s (medians): plain fit / cl.train + live dashboard (5 Hz) / naive per-batch redraw":
            f"{fit:.0f} / {dash:.0f} / {naive:.0f}",
        "throughput cost: live dashboard / naive per-batch redraw":
            f"{100 * (1 - dash / fit):.1f}% / {100 * (fit / naive - 1):.0f}% slower",
        "dashboard frames rendered in the last run": str(frames),
    }
