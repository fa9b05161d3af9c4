"""``%load_ext cnnlive`` / ``%unload_ext cnnlive``."""

from __future__ import annotations

from typing import Any

from ..jobs import manager
from .panel_bridge import PanelBridge

_bridge: PanelBridge | None = None


def bridge() -> PanelBridge | None:
    """The panel bridge of this kernel, once the extension is loaded."""
    return _bridge


def load(ipython: Any) -> None:
    global _bridge
    from .magics import CnnliveMagics

    ipython.register_magics(CnnliveMagics)
    if _bridge is None:
        _bridge = PanelBridge(manager())
        try:
            _bridge.register()
        except Exception:  # noqa: BLE001 - plain IPython has no comm manager
            pass
        _bridge.announce()


def unload(ipython: Any) -> None:
    global _bridge
    if _bridge is not None:
        _bridge.close()
        _bridge = None
    magics = ipython.magics_manager.magics.get("line", {})
    magics.pop("cnnlive", None)
