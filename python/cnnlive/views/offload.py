"""Live dashboards drawn in a helper process, so that drawing takes neither
the GIL nor a full core from the training in the kernel.

The kernel keeps the figure the user sees (its canvas, comm and size). A
helper process, started once per kernel at a lower priority, holds a twin of
the view on an Agg canvas. Each frame the kernel sends what the job's watch
gained since the last one (:meth:`Channels.changes`, a few hundred bytes);
the helper draws and answers with the frame as ipympl wants it (a whole PNG
or only the changed pixels), which the kernel forwards through the comm.

Dashboards (training, own fits) are drawn here for ipympl (once a front end
has answered) and for desktop windows, whose GUI timer copies the changed
pixels into the window's buffer. Until the helper is up, when it cannot start, or after it
fails, views draw in the kernel as before (said once in the log). The last
frame of a job is always drawn in the kernel, so the kernel's figure is
complete for saving and for the backend's own later redraws.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from types import SimpleNamespace
from typing import Any

from ..events.channels import Channels
from . import compat

log = logging.getLogger("cnnlive")

#: how much lower the helper's priority is than the kernel's (Unix nice steps)
NICE = 10
#: seconds the helper may take to answer a frame before the kernel gives up on it and draws itself
ANSWER_DEADLINE = 10.0


class Helper:
    """The helper process and its pipe. Two daemon threads do all the
    pipe's blocking work, so no caller waits on it: one writes the queued
    requests, one reads every answer as it comes (the helper never waits
    on a full pipe either). Thread-safe."""

    def __init__(self) -> None:
        # the helper imports this cnnlive, wherever it was imported from; appended, so it shadows nothing
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = (f"import sys; sys.path.append({package_parent!r}); "
                f"from cnnlive.views.offload import main; main({NICE})")
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)  # a kernel interrupt (SIGINT to its group) is not for it
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._out = Connection(os.dup(self.proc.stdin.fileno()), readable=False)
        self._in = Connection(os.dup(self.proc.stdout.fileno()), writable=False)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.ready = False
        self.failed = False
        self._lock = threading.Lock()
        self._replies: dict[int, Any] = {}
        self._forgotten: set[int] = set()
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        threading.Thread(target=self._write, name="cnnlive-helper-write", daemon=True).start()
        threading.Thread(target=self._read, name="cnnlive-helper-read", daemon=True).start()

    def _write(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                self._out.send_bytes(data)
            except Exception as exc:  # noqa: BLE001 - any broken pipe ends the helper
                self.fail(f"{type(exc).__name__}: {exc}")
                return

    def _read(self) -> None:
        while not self.failed:
            try:
                message = self._in.recv()
            except EOFError:
                self.fail("it exited")
                return
            except Exception as exc:  # noqa: BLE001
                self.fail(f"{type(exc).__name__}: {exc}")
                return
            with self._lock:
                if message[0] == "ready":
                    self.ready = True
                elif message[1] in self._forgotten:
                    self._forgotten.discard(message[1])
                else:
                    self._replies[message[1]] = message

    def fail(self, why: str) -> None:
        """Give up on the helper (said once): every view draws in the kernel from now on."""
        with self._lock:
            if self.failed:
                return
            self.failed = True
        log.warning("cnnlive: the drawing helper process stopped (%s); live figures draw in the kernel", why)
        self.close()

    def send(self, message: tuple[Any, ...]) -> bool:
        """Queue a request; False when the helper is gone or the message cannot be sent."""
        if self.failed:
            return False
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - something in this view's state; the view draws in the kernel
            log.warning("cnnlive: a live figure's state cannot go to the drawing helper", exc_info=True)
            return False
        self._queue.put(data)
        return True

    def reply(self, vid: int) -> Any:
        """The answer for view ``vid``, once (None while none came)."""
        with self._lock:
            return self._replies.pop(vid, None)

    def forget(self, vid: int, owed: bool) -> None:
        """Drop what came for view ``vid``, and the answer still ``owed`` when it comes."""
        with self._lock:
            if self._replies.pop(vid, None) is None and owed:
                self._forgotten.add(vid)

    def close(self) -> None:
        """End the helper (it also ends by itself when the kernel's end of the pipe closes)."""
        self.failed = True
        self._queue.put(None)
        try:
            self.proc.terminate()
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        except OSError:
            pass
        for end in (self._out, self._in):
            try:
                end.close()
            except OSError:
                pass


_helper: Helper | None = None
_helper_lock = threading.Lock()
_ids = itertools.count(1)


def helper() -> Helper | None:
    """The kernel's helper process, started on first use; None when it failed
    (or off Unix: its pipe ends are file descriptors)."""
    global _helper
    if os.name != "posix":
        return None
    with _helper_lock:
        if _helper is None:
            try:
                _helper = Helper()
            except OSError as exc:
                log.warning("cnnlive: no drawing helper process (%s); live figures draw in the kernel", exc)
                return None
            import atexit

            atexit.register(_helper.close)
        return None if _helper.failed else _helper


class Twin:
    """The kernel's end of one view drawn by the helper: sends the watch's
    changes, forwards the frames that come back. One request at a time;
    nothing here waits on the helper."""

    def __init__(self, view: Any, helper: Helper) -> None:
        self.view = view
        self.helper = helper
        self.vid = next(_ids)
        self.marks: dict[str, Any] = {}
        self.in_flight = False
        self.asked_at = 0.0
        self.owed = False  # the watch changed while a request was out
        self.dropped = False  # this view draws in the kernel from now on
        self.desktop = view.push.kind == "gui"  # pixels into a window's buffer, not PNG frames
        self._whole = True  # the screen's picture did not come from the helper
        self._whole_lock = threading.Lock()

    def want_whole(self) -> None:
        """The next frame is a whole one (the screen shows a picture the helper did not send)."""
        with self._whole_lock:
            self._whole = True

    def _take_whole(self) -> bool:
        with self._whole_lock:
            whole, self._whole = self._whole, False
            return whole

    def _pixel_size(self) -> tuple[int, int]:
        """The size of the picture on screen: a window's drawn buffer, an ipympl canvas."""
        if self.desktop:
            height, width = self.view.canvas.get_renderer().buffer_rgba().shape[:2]
            return width, height
        return self.view.canvas.get_width_height(physical=True)

    def tick(self, changed: bool) -> bool:
        """Forward a frame that came back; ask for the next one when the
        watch changed. False when this view must draw in the kernel now."""
        canvas = self.view.canvas
        if self.dropped or self.helper.failed or getattr(canvas, "syncing_data_url", False):
            return False  # no front end has answered yet: the kernel keeps the saved picture too
        if not self.helper.ready:
            return False
        if compat.ipympl_wants_whole(canvas):
            self.want_whole()
        if self.in_flight:
            answer = self.helper.reply(self.vid)
            if answer is None and time.monotonic() - self.asked_at > ANSWER_DEADLINE:
                self.helper.fail(f"no answer in {ANSWER_DEADLINE:.0f} s")
                return False
            if answer is not None:
                self.in_flight = False
                if not self._show(answer):
                    return False
        self.owed = self.owed or changed
        if self.owed and not self.in_flight:
            self._ask()
        return not self.helper.failed and not self.dropped

    def _show(self, answer: tuple[Any, ...]) -> bool:
        """Put a frame that came back on the screen; False when the helper failed on this view."""
        if answer[0] == "error":
            log.warning("cnnlive: the drawing helper failed on job %s's figure; it draws in the kernel:\n%s",
                        self.view.watch.id, answer[2])
            self.close()
            return False
        _, _, frame, size = answer
        with self.view.lock:  # ipympl's own draws (refresh, resize) send under this lock too
            if size != self._pixel_size():  # resized on the way: start over
                self.want_whole()
            elif frame is not None:
                if self.desktop:
                    compat.put_pixels(self.view.canvas, *frame)
                else:
                    compat.forward_ipympl_frame(self.view.canvas, *frame)
                self.view.frames += 1
        return True

    def _ask(self) -> None:
        view, watch = self.view, self.view.watch
        self.owed = False
        head = {"id": watch.id, "name": watch.name, "kind": watch.kind, "state": watch.state.value,
                "done": watch.done, "progress_fraction": watch.progress_fraction, "elapsed": watch.elapsed,
                "epochs_total": getattr(watch.result, "epochs_total", None)}
        view.resources.sample()  # the kernel's CPU, RAM and GPU, at most once a second
        resources: dict[str, Any] = {"latest": view.resources.latest}
        if not self.marks:  # the first request: the kernel's matplotlib settings (a style the user chose)
            import matplotlib

            head["rc"] = {k: v for k, v in matplotlib.rcParams.items() if k not in ("backend", "interactive")}
            resources["history"] = view.resources.state()  # the graphs so far
        size = (tuple(view.fig.get_size_inches()), view.fig.dpi)
        message = ("frame", self.vid, head, watch.channels.changes(self.marks), resources, size,
                   self._take_whole(), "rgba" if self.desktop else "png")
        self.asked_at = time.monotonic()
        self.in_flight = self.helper.send(message)
        if not self.in_flight:
            self.dropped = True

    def close(self) -> None:
        """Let the helper drop its twin (and forget an answer still owed). Never raises."""
        self.dropped = True
        self.helper.forget(self.vid, self.in_flight)
        self.helper.send(("close", self.vid))


# ---------------------------------------------------------------- the helper's side


class MirrorWatch:
    """A watch in the helper: the job's channels and status as last sent."""

    def __init__(self) -> None:
        self.id, self.name, self.kind = 0, "", "train"
        self.channels = Channels()
        self.state = SimpleNamespace(value="running")
        self.done = False
        self.progress_fraction: float | None = None
        self.elapsed = 0.0
        self.result = SimpleNamespace(epochs_total=None)

    def apply(self, head: dict[str, Any], changes: dict[str, Any]) -> None:
        self.id, self.name, self.kind = head["id"], head["name"], head["kind"]
        self.state = SimpleNamespace(value=head["state"])
        self.done, self.progress_fraction, self.elapsed = head["done"], head["progress_fraction"], head["elapsed"]
        self.result = SimpleNamespace(epochs_total=head["epochs_total"])
        self.channels.apply(changes)


class ShippedMeter:
    """A resource meter that gives the kernel's last sample (sent with a frame)."""

    def __init__(self) -> None:
        self.latest: dict[str, Any] = {"cpu_percent": 0.0, "rss_mb": 0.0, "gpus": []}

    def sample(self) -> dict[str, Any]:
        return self.latest


_rc_in_use: list[Any] = [None]


def _use_rc(rc: dict[str, Any]) -> None:
    """Use the matplotlib settings of the kernel that made this view (set
    only when another view's differ: a full update costs a millisecond)."""
    import matplotlib

    if _rc_in_use[0] is not rc:
        matplotlib.rcParams.update(rc)
        _rc_in_use[0] = rc


def _draw(twins: dict[int, Any], message: tuple[Any, ...]) -> tuple[Any, ...]:
    """Draw one frame of a twin view (made on its first frame, with the
    kernel's matplotlib settings)."""
    from .factory import make_view

    _, vid, head, changes, resources, (inches, dpi), whole, kind = message
    if vid not in twins:
        mirror = MirrorWatch()
        mirror.apply(head, changes)
        rc = head.get("rc", {})
        _use_rc(rc)
        view = make_view(mirror)
        view.push = compat.FramePush(kind)
        view.resources.meter = ShippedMeter()
        twins[vid] = (view, mirror, rc)
    else:
        view, mirror, rc = twins[vid]
        mirror.apply(head, changes)
        _use_rc(rc)
    view.resources.meter.latest = resources["latest"]
    if "history" in resources:
        view.resources.restore(resources["history"])
    if tuple(view.fig.get_size_inches()) != tuple(inches) or view.fig.dpi != dpi:
        view.fig.set_dpi(dpi)
        view.fig.set_size_inches(*inches, forward=False)
    view.push.whole_next = view.push.whole_next or whole
    view.push.frame = None
    view.render()
    return ("frame", vid, view.push.frame, view.canvas.get_width_height(physical=True))


def main(nice: int) -> None:
    """The helper: draw what the kernel asks for until the pipe closes."""
    requests = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a stray print must not reach the pipe
    try:
        os.nice(nice)
    except OSError:
        pass
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from . import factory  # noqa: F401 - imported before "ready", so the first frame is quick

    answers.send(("ready",))
    twins: dict[int, Any] = {}
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return
        if message[0] == "close":
            entry = twins.pop(message[1], None)
            if entry is not None:
                plt.close(entry[0].fig)
            continue
        try:
            answer = _draw(twins, message)
        except Exception:  # noqa: BLE001 - told to the kernel, which draws this view itself from now on
            twins.pop(message[1], None)
            answer = ("error", message[1], traceback.format_exc())
        try:
            answers.send(answer)
        except OSError:  # the kernel has gone
            return


if __name__ == "__main__":
    main(NICE)
