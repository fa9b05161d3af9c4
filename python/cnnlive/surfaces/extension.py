"""``%load_ext cnnlive`` / ``%unload_ext cnnlive``, and the kernel's shutdown.

Loading hooks the kernel's ``do_shutdown`` (shutdown and restart requests;
the hook is in :mod:`.compat`):
every job is stopped (grace, then cancel, then halt), threads are joined with
a timeout, the panel gets the final cards and its comms close. The whole of
it is bounded by ``cnnlive.config.shutdown_timeout`` so a shutdown never
hangs (jupyter_client kills a kernel that takes longer than 5 s). The
JobManager's ``atexit`` hook covers plain IPython and interpreter exit.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ..jobs import Job, manager
from .compat import hook_shutdown, unwatch_gui_after_cells, watch_gui_after_cells
from .panel_bridge import PanelBridge

log = logging.getLogger("cnnlive")
_bridge: PanelBridge | None = None
_unhook: Callable[[], None] | None = None  # undoes the kernel's shutdown hook


def bridge() -> PanelBridge | None:
    """The panel bridge of this kernel, once the extension is loaded."""
    return _bridge


def shutdown(restart: bool = False) -> list[Job]:
    """End all jobs and the panel link (bounded; never raises). Returns the
    jobs whose threads still run sync code that cannot be interrupted."""
    alive: list[Job] = []
    try:
        alive = manager().shutdown()
    except Exception:  # noqa: BLE001 - shutting down: report, go on
        log.warning("cnnlive: ending the jobs at kernel %s failed", "restart" if restart else "shutdown",
                    exc_info=True)
    b = _bridge
    if b is not None:
        b.final_update()
        b.close()
    return alive


def _hook_kernel(ipython: Any) -> None:
    global _unhook
    kernel = getattr(ipython, "kernel", None)
    if kernel is None or _unhook is not None:
        return
    _unhook = hook_shutdown(kernel, shutdown)


def _unhook_kernel() -> None:
    global _unhook
    if _unhook is not None:
        _unhook()
        _unhook = None


def load(ipython: Any) -> None:
    global _bridge
    from .magics import CnnliveMagics

    ipython.register_magics(CnnliveMagics)
    _hook_kernel(ipython)
    watch_gui_after_cells(ipython)
    if _bridge is None:
        _bridge = PanelBridge(manager())
        try:
            _bridge.register()
        except Exception:  # noqa: BLE001 - plain IPython has no comm manager
            log.debug("cnnlive: no comm manager; the side panel is not available here", exc_info=True)
        _bridge.announce()


def unload(ipython: Any) -> None:
    global _bridge
    _unhook_kernel()
    unwatch_gui_after_cells(ipython)
    if _bridge is not None:
        _bridge.close()
        _bridge = None
    magics = ipython.magics_manager.magics.get("line", {})
    magics.pop("cnnlive", None)
