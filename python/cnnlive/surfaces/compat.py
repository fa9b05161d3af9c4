"""Every workaround for ipykernel internals, in one place (the ipympl ones
are in :mod:`cnnlive.views.compat`).

Each piece names the upstream behaviour it works around and is guarded by the
ipykernel versions it was checked against; outside that range cnnlive does
without it (a Stop click may wait for the running cell; never broken). Only
the surfaces layer talks to the kernel, so these live beside their users.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger("cnnlive")

#: ipykernel versions whose private members below were read and tested (min inclusive, max exclusive)
IPYKERNEL_CHECKED = ((7, 0), (8, 0))


def ipykernel_version() -> tuple[int, ...] | None:
    try:
        import ipykernel
    except ImportError:
        return None
    parts = []
    for piece in ipykernel.__version__.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


def kernel_has_subshells() -> bool:
    """ipykernel 7 runs comm handlers on subshell threads (kernel subshells,
    JEP 91, ipython/ipykernel#1249), so a Stop click is handled while a cell
    runs; older kernels queue it behind the cell."""
    v = ipykernel_version()
    return v is not None and v >= (7,)


def keep_replies_on_panel_subshell(comm: Any) -> bool:
    """Let the panel's messages run on the subshell the panel chose.

    Works around ipykernel 7's comm routing (``ipykernel/comm/comm.py``,
    ``BaseComm._reply_subshell_for``, read by ``Kernel.shell_channel_thread_main``):
    an incoming comm message is sent to the subshell that last *sent* on that
    comm. cnnlive sends from its transport thread, which is on no subshell,
    so without this Stop/Cancel would queue behind a running cell, although
    JupyterLab sends them on the comm's own subshell (jupyterlab/jupyterlab#17363).
    Replaces the private hook on this one comm; checked for ipykernel 7.x.
    Returns whether it applied."""
    v = ipykernel_version()
    if v is None or not IPYKERNEL_CHECKED[0] <= v < IPYKERNEL_CHECKED[1]:
        return False
    if not hasattr(comm, "_reply_subshell_for"):
        return False
    comm._reply_subshell_for = lambda data, default: default
    return True


def hook_shutdown(kernel: Any, before: Callable[[bool], Any]) -> Callable[[], None] | None:
    """Run ``before(restart)`` when the kernel shuts down or restarts, ahead
    of its own ``do_shutdown``; returns a function that undoes the hook, or
    None when ``kernel`` has no ``do_shutdown`` (plain IPython).

    ipykernel offers no shutdown hook for extensions (only subclasses override
    ``Kernel.do_shutdown``), and jupyter_client kills a kernel that takes more
    than 5 s, so IPython's ``atexit`` comes too late for the panel's final
    cards. Wraps the bound method of this one kernel instance; works for the
    sync (ipykernel 6) and async (ipykernel 7) ``do_shutdown`` alike, since
    the original's return value is passed on."""
    original = getattr(kernel, "do_shutdown", None)
    if original is None:
        return None

    def do_shutdown(restart: bool) -> Any:
        before(restart)
        return original(restart)

    kernel.do_shutdown = do_shutdown

    def unhook() -> None:
        kernel.do_shutdown = original

    return unhook


#: how often a desktop event loop checks for a request it was not woken for (ms)
GUI_WATCH_MS = 100


def _work_waiting(stream: Any) -> bool:
    """A shell request or a scheduled task waits while the GUI loop sleeps:
    the main shell's stream has a message (dispatched now, as ipykernel's own
    notifier does), or the kernel's asyncio loop has callbacks ready (a
    request already read, its task woken but not yet run)."""
    import asyncio

    try:
        if stream is not None and stream.flush(limit=1):
            return True
    except Exception:  # noqa: BLE001 - a closed stream: nothing waits on it
        log.debug("the shell stream could not be flushed", exc_info=True)
        return False
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return False
    return bool(getattr(loop, "_ready", ()))


def _count_wake(kernel: Any) -> None:
    """How often the watch woke the kernel (``kernel._cnnlive_gui_wakes``, for tests)."""
    kernel._cnnlive_gui_wakes = getattr(kernel, "_cnnlive_gui_wakes", 0) + 1


def _tk_watch(kernel: Any, stream: Any) -> Any:
    import tkinter

    import zmq

    root = tkinter.Tk()
    root.withdraw()

    def tick() -> None:
        wrapper = getattr(kernel, "app_wrapper", None)  # there while ipykernel's Tk mainloop runs
        if wrapper is not None and _work_waiting(stream):
            app = wrapper.app  # what ipykernel's exit_loop does (eventloops.loop_tk)
            try:
                app.tk.deletefilehandler(stream.getsockopt(zmq.FD))
            except Exception:  # noqa: BLE001 - the handler is gone already: nothing to delete
                log.debug("Tk file handler of the shell stream was not there", exc_info=True)
            _count_wake(kernel)
            app.quit()
            app.destroy()
            if getattr(kernel, "app_wrapper", None) is wrapper:
                del kernel.app_wrapper
        root.after(GUI_WATCH_MS, tick)

    root.after(GUI_WATCH_MS, tick)
    return root


def _qt_watch(kernel: Any, stream: Any) -> Any:
    from IPython.external.qt_for_kernel import QtCore

    app = kernel.app
    timer = QtCore.QTimer(app)

    def tick() -> None:
        if getattr(app, "_in_event_loop", False) and _work_waiting(stream):
            _count_wake(kernel)
            notifier = getattr(kernel, "_qt_notifier", None)  # what ipykernel's exit_loop does (loop_qt)
            if notifier is not None:
                notifier.setEnabled(False)
            app.qt_event_loop.quit()

    timer.timeout.connect(tick)
    timer.start(GUI_WATCH_MS)
    return timer


def watch_gui_loop(kernel: Any) -> str | None:
    """Make ipykernel's Tk and Qt loops return to the kernel when a request
    waits; returns the toolkit watched (None: nothing to do or outside the
    checked versions).

    Works around a lost wake-up in ipykernel's GUI integration
    (``ipykernel/eventloops.py``, ``loop_tk`` and ``loop_qt``, via
    ``Kernel.enter_eventloop``): the loop runs the toolkit's main loop until
    the main shell's socket descriptor (edge-triggered) fires. A request
    that was read already (its task woken on the asyncio loop, not yet run)
    or whose edge was consumed leaves the toolkit asleep and the cell never
    starts or never goes idle, until some other request arrives (seen with
    ``py-spy dump``: the main thread idle in ``Misc.mainloop`` under
    ``advance_eventloop``, no cell running; 1 in 4 tries of a train cell; the
    same race as spyder-ide/spyder#21299). A timer on the toolkit's own loop
    checks every ``GUI_WATCH_MS`` and leaves that loop as ipykernel's own
    notifier does. Uses ``kernel.app_wrapper``, ``kernel.app``,
    ``_qt_notifier``, ``qt_event_loop`` and asyncio's ready queue; checked
    for ipykernel 7.x. Installed once per kernel and toolkit."""
    v = ipykernel_version()
    if v is None or not IPYKERNEL_CHECKED[0] <= v < IPYKERNEL_CHECKED[1]:
        return None
    name = getattr(getattr(kernel, "eventloop", None), "__name__", "")
    kind = "tk" if name == "loop_tk" else "qt" if name in ("loop_qt", "loop_qt5", "loop_qt6") else None
    watches = kernel.__dict__.setdefault("_cnnlive_gui_watch", {})
    if kind is None or kind in watches:
        return None
    if kind == "qt" and getattr(kernel, "app", None) is None:
        return None  # no QApplication yet: the next cell installs it
    try:
        from ipykernel.eventloops import get_shell_stream

        stream = get_shell_stream(kernel)
        watches[kind] = _tk_watch(kernel, stream) if kind == "tk" else _qt_watch(kernel, stream)
    except Exception:  # noqa: BLE001 - without the watch the loop is ipykernel's own
        log.debug("cnnlive: could not watch the %s event loop", kind, exc_info=True)
        return None
    return kind


class _AfterCells:
    """IPython ``post_run_cell`` callback: (re)checks the kernel's GUI loop."""

    def __init__(self, ipython: Any) -> None:
        self.ipython = ipython

    def __call__(self, *_: Any) -> None:
        kernel = getattr(self.ipython, "kernel", None)
        if kernel is not None:
            watch_gui_loop(kernel)


def watch_gui_after_cells(ipython: Any) -> None:
    """Watch a desktop event loop chosen now or in any later cell
    (``%matplotlib tk``/``qt``): :func:`watch_gui_loop` now and after every
    cell (a cheap check). ``%load_ext cnnlive`` and ``import cnnlive`` in a
    kernel call it; once per shell."""
    events = getattr(ipython, "events", None)
    if events is None or getattr(ipython, "kernel", None) is None:
        return
    if not any(isinstance(cb, _AfterCells) for cb in events.callbacks.get("post_run_cell", [])):
        events.register("post_run_cell", _AfterCells(ipython))
    watch_gui_loop(ipython.kernel)


def unwatch_gui_after_cells(ipython: Any) -> None:
    events = getattr(ipython, "events", None)
    for cb in list(getattr(events, "callbacks", {}).get("post_run_cell", [])):
        if isinstance(cb, _AfterCells):
            events.unregister("post_run_cell", cb)


__all__ = ["IPYKERNEL_CHECKED", "hook_shutdown", "ipykernel_version", "keep_replies_on_panel_subshell",
           "kernel_has_subshells", "unwatch_gui_after_cells", "watch_gui_after_cells", "watch_gui_loop"]
