"""cnnlive: train CNNs, search OIPs and dream in the background of a notebook,
watch it live and stop it with a click.

``import cnnlive`` is light: TensorFlow loads only when a model, data set or
engine is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from . import jobs
from .config import config
from .engines import tfquiet as _tfquiet

# the user's own `import tensorflow` keeps its start-up noise out of cells too (no TensorFlow import here)
_tfquiet.install()


def _watch_gui_loop() -> None:
    """In a kernel, desktop windows' event loops get the wake-up watch
    (surfaces/compat.py) also without ``%load_ext cnnlive``."""
    import sys

    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from .surfaces.compat import watch_gui_after_cells

        watch_gui_after_cells(shell)


_watch_gui_loop()

_LAZY = {
    "models": ("cnnlive.engines.training.models", None),
    "data": ("cnnlive.engines.training.data", None),
    "train": ("cnnlive.surfaces.api", "train"),
    "oip": ("cnnlive.surfaces.api", "oip"),
    "dream": ("cnnlive.surfaces.api", "dream"),
    "objectives": ("cnnlive.engines.oip.objectives", None),
    "TrainingResult": ("cnnlive.engines.training.result", "TrainingResult"),
    "LiveCallback": ("cnnlive.engines.training.callback", "LiveCallback"),
    "controls": ("cnnlive.surfaces.widgets", "controls"),
    "activation_grid": ("cnnlive.surfaces.api", "activation_grid"),
    "exemplars": ("cnnlive.surfaces.api", "exemplars"),
    "oip_grid": ("cnnlive.surfaces.api", "oip_grid"),
    "runs": ("cnnlive.surfaces.api", "runs"),
    "compare": ("cnnlive.surfaces.api", "compare"),
}


# The package root is where the layers are wired: job.plot() loads the views
# layer on first use and registers its show/save, so neither the job layer
# imports views nor the views layer imports jobs.
def _load_viewer() -> None:
    live = importlib.import_module("cnnlive.views.live")
    jobs.viewers.register_viewer(live.show, live.save_plots)


jobs.viewers.set_loader(_load_viewer)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cnnlive' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext cnnlive``: the %cnnlive magic and the panel's comm target."""
    from .surfaces.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .surfaces.extension import unload

    unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """For ``jupyter labextension develop``: the built front end, the
    repository's top-level ``labextension/`` (wheels install it through
    shared-data into ``share/jupyter/labextensions/cnnlive``)."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "labextension")
    if not os.path.isdir(built):  # a source checkout: python/cnnlive/ -> ../../labextension
        built = os.path.join(here, os.pardir, os.pardir, "labextension")
    return [{"src": os.path.relpath(built, here), "dest": "cnnlive"}]


__all__ = ["__version__", "config", "jobs", *_LAZY]
