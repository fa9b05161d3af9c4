"""``cl.controls()``: an ipywidgets panel to start training, OIP searches and
dreams, with a job table and Stop/Cancel per job. Everything it starts is an
ordinary Job, visible to ``cl.jobs`` and the side panel."""

from __future__ import annotations

import threading
from typing import Any

from ..jobs import Job, manager


class Controls:
    """The widget panel; ``.widget`` is the ipywidgets box to display."""

    def __init__(self, namespace: dict[str, Any] | None = None, refresh_s: float = 0.5) -> None:
        import ipywidgets as w

        self.ns = namespace if namespace is not None else {}
        self.model: Any = None
        self.message = w.HTML()
        self.data = w.Dropdown(options=["digits", "fashion_mnist", "mnist", "cifar10"], description="data")
        self.arch = w.Dropdown(options=["simple", "resnet (cifar-tiny)"], description="model")
        self.epochs = w.BoundedIntText(5, min=1, max=10_000, description="epochs")
        self.layer = w.Text("Conv2D_3", description="layer")
        self.map = w.Text("0", description="map(s)", placeholder="N, N,M or all")
        self.steps = w.BoundedIntText(200, min=1, max=1_000_000, description="steps")
        wide = w.Layout(width="auto", min_width="130px")
        for field in (self.data, self.arch, self.epochs, self.layer, self.map, self.steps):
            field.layout = w.Layout(width="200px")
            field.style = {"description_width": "60px"}
        self.b_train = w.Button(description="Start training", icon="play", button_style="primary", layout=wide)
        self.b_oip = w.Button(description="Start OIP", icon="search", layout=wide)
        self.b_dream = w.Button(description="Start dream", icon="image", layout=wide)
        self.b_train.on_click(lambda _: self._guard(self.start_train))
        self.b_oip.on_click(lambda _: self._guard(self.start_oip))
        self.b_dream.on_click(lambda _: self._guard(self.start_dream))
        self.table = w.VBox()
        self._rows: dict[int, tuple[Any, Any, Any]] = {}
        self.widget = w.VBox([
            w.HTML("<b>cnnlive</b>: start jobs; they run in the background"),
            w.HBox([self.arch, self.data, self.epochs, self.b_train], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.layer, self.map, self.steps, self.b_oip, self.b_dream],
                   layout=w.Layout(flex_flow="row wrap")),
            self.message, self.table,
        ])
        self._stop = threading.Event()
        self.refresh()
        threading.Thread(target=self._loop, args=(refresh_s,), name="cnnlive-controls", daemon=True).start()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _guard(self, fn: Any) -> None:
        try:
            job = fn()
            self.message.value = f"started job {job.id} ({job.name})"
        except Exception as exc:  # noqa: BLE001 - bad input is shown, never raised into the kernel
            self.message.value = f"<span style='color:var(--jp-error-color1)'>{type(exc).__name__}: {exc}</span>"
        self.refresh()

    def _maps(self) -> Any:
        text = self.map.value.strip()
        if text == "all":
            return "all"
        ids = [int(t) for t in text.split(",") if t.strip()]
        return ids[0] if len(ids) == 1 else ids

    def start_train(self) -> Job:
        import cnnlive as cl

        data = cl.data.load(self.data.value)
        if self.arch.value == "simple":
            self.model = cl.models.simple_cnn(input_shape=data.input_shape, classes=data.num_classes)
        else:
            self.model = cl.models.resnet_v2(input_shape=data.input_shape, classes=data.num_classes,
                                             stacks="cifar-tiny")
        self.ns["model"] = self.model
        return cl.train(self.model, data, epochs=int(self.epochs.value))

    def _current_model(self) -> Any:
        model = self.model if self.model is not None else self.ns.get("model")
        if model is None:
            raise ValueError("no model yet: start a training first (or set a variable named 'model')")
        return model

    def start_oip(self) -> Job:
        import cnnlive as cl

        return cl.oip(self._current_model(), layer=self.layer.value, maps=self._maps(), steps=int(self.steps.value))

    def start_dream(self) -> Job:
        import cnnlive as cl

        maps = self._maps()
        return cl.dream(self._current_model(), layer=self.layer.value, maps=maps if maps != "all" else 0)

    def refresh(self) -> None:
        import ipywidgets as w

        jobs = manager().list()
        for job in jobs:
            if job.id not in self._rows:
                label = w.HTML()
                stop = w.Button(description="Stop", icon="stop", layout=w.Layout(width="80px"))
                cancel = w.Button(description="Cancel", icon="times", layout=w.Layout(width="90px"))
                stop.on_click(lambda _, j=job: (j.stop(), self.refresh()))
                cancel.on_click(lambda _, j=job: (j.cancel(), self.refresh()))
                self._rows[job.id] = (label, stop, cancel)
            label, stop, cancel = self._rows[job.id]
            frac = job.progress_fraction
            label.value = (f"<code>#{job.id} {job.name} · {job.kind} · <b>{job.state.value}</b>"
                           f"{'' if frac is None else f' · {100 * frac:.0f}%'} · {job.elapsed:.0f}s</code>")
            stop.disabled = job.state.value != "running"
            cancel.disabled = job.done
        rows = [w.HBox(list(self._rows[j.id])) for j in jobs]
        if len(rows) != len(self.table.children):
            self.table.children = rows

    def _loop(self, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - the table stops refreshing; say why
                import logging

                logging.getLogger("cnnlive").warning("cnnlive controls: refreshing the job table failed",
                                                     exc_info=True)
                return

    def close(self) -> None:
        self._stop.set()
        self.widget.close()


def controls() -> Controls:
    """Show the widget panel in the notebook (uses the notebook's ``model``)."""
    try:
        from IPython import get_ipython

        ns = get_ipython().user_ns if get_ipython() is not None else {}
    except ImportError:
        ns = {}
    return Controls(ns)
