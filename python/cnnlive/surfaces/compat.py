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


__all__ = ["IPYKERNEL_CHECKED", "hook_shutdown", "ipykernel_version", "keep_replies_on_panel_subshell",
           "kernel_has_subshells"]
