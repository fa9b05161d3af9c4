"""``cl.controls()``: an ipywidgets panel to start training, OIP searches and
dreams, with a job table and Stop/Cancel per job. Everything it starts is an
ordinary Job, visible to ``cl.jobs`` and the side panel.

The panel is an ``ipywidgets.VBox``, so it goes into any layout (AppLayout,
Tab, Sidecar). It refreshes itself from the job manager's and the jobs'
notifications (no polling thread), at most every ``refresh_s`` seconds."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import ipywidgets as w

from ..events.watch import RATE_KEYS
from ..jobs import Job, manager
from ..markup import error_html, escape
from .choices import DATA_NAMES, build_model, parse_maps

log = logging.getLogger("cnnlive")


class Controls(w.VBox):
    """The widget panel (a VBox); ``.widget`` is the panel itself (kept for old code)."""

    def __init__(self, namespace: dict[str, Any] | None = None, refresh_s: float = 0.5) -> None:
        super().__init__()
        self.ns = namespace if namespace is not None else {}
        self.model: Any = None
        self.message = w.HTML()
        self.data = w.Dropdown(options=list(DATA_NAMES), description="data")
        self.arch = w.Dropdown(options=[("simple", "simple"), ("resnet (cifar-tiny)", "resnet")], description="model")
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
        self._rows: dict[int, tuple[Any, ...]] = {}
        self.children = [
            w.HTML("<b>cnnlive</b>: start jobs; they run in the background"),
            w.HBox([self.arch, self.data, self.epochs, self.b_train], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.layer, self.map, self.steps, self.b_oip, self.b_dream],
                   layout=w.Layout(flex_flow="row wrap")),
            self.message, self.table,
        ]
        self.refresh_s = refresh_s
        self._pending: threading.Timer | None = None
        self._last = 0.0
        self._rate_lock = threading.Lock()
        self._table_lock = threading.RLock()
        self._unsubscribe: list[Callable[[], None]] = [manager().subscribe(self._on_job_event)]
        self._watched: dict[int, Callable[[], None]] = {}
        self._watch_lock = threading.Lock()  # one listener per job, none left after removal or close
        self._closed = False
        for job in manager().list():
            self._watch(job)
        self.refresh()

    @property
    def widget(self) -> "Controls":
        return self

    # -- notifications -----------------------------------------------------
    def _on_job_event(self, event: str, job: Job) -> None:
        if event == "started":
            self._watch(job)
        elif event == "removed":
            with self._watch_lock:
                unsubscribe = self._watched.pop(job.id, None)
            if unsubscribe is not None:
                unsubscribe()
        self._soon()

    def _watch(self, job: Job) -> None:
        """Listen to ``job``'s status once; never to a removed job or after close()."""
        with self._watch_lock:
            if job.id in self._watched or job.removed or self._closed:
                return
            self._watched[job.id] = job.channels.subscribe(lambda ch: self._soon() if ch == "status" else None)

    def _soon(self) -> None:
        """Refresh now, or once at the end of the current rate window."""
        with self._rate_lock:
            if self._pending is not None:
                return
            wait = self._last + self.refresh_s - time.monotonic()
            if wait > 0:
                self._pending = threading.Timer(wait, self._refresh_pending)
                self._pending.daemon = True
                self._pending.start()
                return
            self._last = time.monotonic()
        self._safe_refresh()

    def _refresh_pending(self) -> None:
        with self._rate_lock:
            self._pending, self._last = None, time.monotonic()
        self._safe_refresh()

    def _safe_refresh(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - a broken panel never breaks a job
            log.exception("cl.controls() could not refresh")

    def _guard(self, fn: Any) -> None:
        try:
            job = fn()
            self.message.value = f"started job {job.id} ({escape(job.name)})"
        except Exception as exc:  # noqa: BLE001 - bad input is shown, never raised into the kernel
            self.message.value = error_html(exc)
        self.refresh()

    def _maps(self) -> Any:
        return parse_maps(self.map.value)

    def start_train(self) -> Job:
        import cnnlive as cl

        data = cl.data.load(self.data.value)
        self.model = build_model(self.arch.value, data.input_shape, data.num_classes)
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
        """Bring the job table up to date (any thread)."""
        with self._table_lock:
            self._refresh_table()

    def _refresh_table(self) -> None:
        jobs = manager().list()
        for job in jobs:
            if job.id not in self._rows:
                label = w.HTML()
                pause = w.Button(description="Pause", icon="pause", layout=w.Layout(width="90px"))
                stop = w.Button(description="Stop", icon="stop", layout=w.Layout(width="80px"))
                cancel = w.Button(description="Cancel", icon="times", layout=w.Layout(width="90px"))
                pause.on_click(lambda _, j=job: self._act(j.resume if j.paused else j.pause))
                stop.on_click(lambda _, j=job: self._act(j.stop))
                cancel.on_click(lambda _, j=job: self._act(j.cancel))
                self._rows[job.id] = (label, pause, stop, cancel, self._adjust_form(job))
            label, pause, stop, cancel, form = self._rows[job.id]
            frac = job.progress_fraction
            label.value = (f"<code>#{job.id} {escape(job.name)} · {escape(job.kind)} · "
                           f"<b>{escape(job.state.value)}</b>"
                           f"{'' if frac is None else f' · {100 * frac:.0f}%'} · {job.elapsed:.0f}s</code>")
            paused = job.paused and not job.done  # paused, or pausing: Resume takes the pause back
            pause.description, pause.icon = ("Resume", "play") if paused else ("Pause", "pause")
            pause.disabled = job.state.value not in ("running", "paused")
            stop.disabled = job.state.value not in ("running", "paused")
            cancel.disabled = job.done
            form.layout.display = "none" if job.done else None
            self._placeholders(job, form)
        ids = [j.id for j in jobs]
        for gone in [i for i in self._rows if i not in ids]:
            for part in self._rows.pop(gone):
                for child in getattr(part, "children", ()):  # the adjust form's fields and button
                    child.close()
                part.close()
        if [r.children[0] for r in self.table.children] != [self._rows[i][0] for i in ids]:
            # a row wraps (the adjust form under the buttons): it fits a 600 px output area
            self.table.children = [w.HBox(list(self._rows[i]), layout=w.Layout(flex_flow="row wrap"))
                                   for i in ids]

    def _act(self, action: Callable[[], Any]) -> None:
        """A row button: errors (e.g. the job ended meanwhile) are shown, never raised."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never raised into the kernel
            self.message.value = error_html(exc)
        self.refresh()

    def _adjust_form(self, job: Job) -> w.HBox:
        """Learning rate and epochs of a training job (kinds train and fit)."""
        if job.kind not in ("train", "fit"):
            return w.HBox()
        # empty fields; the current values are their placeholders (an empty field is left as it is)
        lr = w.Text(description="lr", layout=w.Layout(width="150px"), style={"description_width": "20px"})
        epochs = w.Text(description="epochs", layout=w.Layout(width="130px"), style={"description_width": "52px"})
        apply = w.Button(description="Adjust", icon="sliders", layout=w.Layout(width="90px"))

        def adjust(_: Any) -> None:
            try:
                job.adjust(learning_rate=_number(lr.value, float, "learning rate"),
                           epochs=_number(epochs.value, int, "epochs"))
                lr.value = epochs.value = ""
                self.message.value = f"job {job.id}: adjusted"
            except Exception as exc:  # noqa: BLE001 - bad input is shown, never raised into the kernel
                self.message.value = error_html(exc)

        apply.on_click(adjust)
        return w.HBox([lr, epochs, apply], layout=w.Layout(flex_flow="row wrap"))

    @staticmethod
    def _placeholders(job: Job, form: w.HBox) -> None:
        """The training job's present learning rate and planned epochs as the fields' placeholders."""
        if len(form.children) != 3:
            return
        latest = job.channels.latest("metrics") or {}
        rate = str(latest.get(RATE_KEYS, "")).split(",")[0]  # cnnlive's rate, never a user's metric "lr"
        lr = job.steering.pending_learning_rate or latest.get(rate)
        total = job.steering.epochs or getattr(job.result, "epochs_total", None) or latest.get("epochs")
        form.children[0].placeholder = f"{lr:.3g}" if isinstance(lr, (int, float)) and lr > 0 else "new value"
        form.children[1].placeholder = f"{total:g}" if isinstance(total, (int, float)) and total > 0 else "total"

    def close(self) -> None:
        """Stop listening to jobs and close the widgets."""
        with self._watch_lock:
            self._closed = True
            listeners, self._watched = self._unsubscribe + list(self._watched.values()), {}
            self._unsubscribe = []
        for unsubscribe in listeners:
            unsubscribe()
        with self._rate_lock:
            if self._pending is not None:
                self._pending.cancel()
        super().close()


def _number(text: str, kind: type, what: str) -> Any:
    """A field's number, None when it is empty; a clear error otherwise."""
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{what} must be a {'whole ' if kind is int else ''}number, got {text!r}") from None


def controls() -> Controls:
    """Show the widget panel in the notebook (uses the notebook's ``model``)."""
    try:
        from IPython import get_ipython

        ns = get_ipython().user_ns if get_ipython() is not None else {}
    except ImportError:
        ns = {}
    return Controls(ns)
