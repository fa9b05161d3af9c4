"""The layering rules of ARCHITECTURE.md, read from every module's imports
(``import``, ``from ... import`` and ``import_module("...")`` strings)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "python" / "cnnlive"
JUPYTER = ("IPython", "ipykernel", "ipywidgets", "ipympl", "comm", "jupyter_client", "jupyterlab")
TENSORFLOW = ("tensorflow", "keras", "tf_keras")

# layer -> (cnnlive layers it must not import, third-party packages it must not import)
FORBIDDEN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "config": (("jobs", "events", "views", "surfaces", "engines", "protocol"), JUPYTER + TENSORFLOW),
    "protocol": (("jobs", "events", "views", "surfaces", "engines"), JUPYTER + TENSORFLOW),
    "events": (("jobs", "views", "surfaces", "engines"), JUPYTER + TENSORFLOW),
    "jobs": (("views", "surfaces", "engines"), ("ipywidgets", "ipympl", "comm") + TENSORFLOW),
    "engines": (("views", "surfaces"), JUPYTER),
    "views": (("surfaces", "engines"), TENSORFLOW),
    "surfaces": ((), ()),
    "imaging": (("*",), JUPYTER + TENSORFLOW),  # numpy helpers of engines and views: nothing of cnnlive
}
# engines see the job layer only through the Reporter protocol
ALLOWED = {"engines": ("cnnlive.jobs.reporter",)}


def layer_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["cnnlive", *parts])


def imports_of(path: Path) -> set[str]:
    """Absolute names of everything a module imports, however it does it."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                root = ".".join(base + ([node.module] if node.module else []))
            else:
                root = node.module or ""
            found.add(root)
            found.update(f"{root}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    target = arg.value
                    if target.startswith("."):
                        target = package + target
                    found.add(target)
    return found


def breaks(path: Path, layer: str | None = None) -> list[str]:
    layer = layer or layer_of(path)
    if layer not in FORBIDDEN:
        return []
    layers, packages = FORBIDDEN[layer]
    out = []
    for name in sorted(imports_of(path)):
        if any(name == ok or name.startswith(ok + ".") for ok in ALLOWED.get(layer, ())):
            continue
        top = name.split(".")
        if top[0] == "cnnlive" and ("*" in layers or len(top) > 1 and top[1] in layers):
            out.append(f"{module_name(path)} ({layer}) imports {name}")
        elif top[0] in packages:
            out.append(f"{module_name(path)} ({layer}) imports {name}")
    return out


MODULES = sorted(p for p in PKG.rglob("*.py") if p.parent != PKG or p.name not in ("__init__.py",))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_module_keeps_to_its_layer(path):
    assert breaks(path) == []


def test_the_checker_sees_every_kind_of_import(tmp_path):
    """The checker itself: a hidden import_module string and a relative import both count."""
    probe = PKG / "jobs" / "_probe_for_test.py"
    probe.write_text("from importlib import import_module\nfrom ..views import live\n"
                     "x = import_module('cnnlive.surfaces.api')\nimport tensorflow\n")
    try:
        found = breaks(probe)
    finally:
        probe.unlink()
    assert any("cnnlive.views.live" in b for b in found)
    assert any("cnnlive.surfaces.api" in b for b in found)
    assert any("imports tensorflow" in b for b in found)


def test_the_shared_image_helpers_may_import_nothing_of_cnnlive():
    probe = PKG / "_imaging_probe_for_test.py"
    probe.write_text("import numpy as np\nfrom .config import config\nfrom . import jobs\n")
    try:
        found = breaks(probe, layer="imaging")
    finally:
        probe.unlink()
    assert any(b.endswith("imports cnnlive.config") for b in found)
    assert any(b.endswith("imports cnnlive.jobs") for b in found)
    assert not any("numpy" in b for b in found)
