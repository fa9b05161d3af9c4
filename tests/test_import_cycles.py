"""No import cycles between the modules of python/cnnlive, counting every
import a module makes (top level, inside functions, under TYPE_CHECKING and
``import_module("...")`` strings), read with the same reader as the layering
test."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_layers import PKG, module_name

MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _module(target: str) -> str | None:
    """The cnnlive module a dotted name lives in (longest module prefix)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def edges_of(name: str) -> set[str]:
    """Modules of cnnlive that module ``name`` imports. ``from pkg import a``
    names the submodule ``pkg.a`` where one exists, else the package."""
    path = MODULES[name]
    package = _package_of(name, path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                root = ".".join(base + ([node.module] if node.module else []))
            else:
                root = node.module or ""
            subs = [f"{root}.{alias.name}" for alias in node.names]
            targets = [s if s in MODULES else root for s in subs]
        elif isinstance(node, ast.Call):
            fn = node.func
            called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if called in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                value = node.args[0].value
                if isinstance(value, str):
                    targets = [package + value if value.startswith(".") else value]
        for target in targets:
            module = _module(target) if target.startswith("cnnlive") else None
            if module and module != name:
                found.add(module)
    return found


def cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    graph = {name: edges_of(name) for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_the_reader_sees_a_cycle():
    """The checker finds the cycles it is meant to find: a package __init__
    that imports a module which imports a sibling back through the package."""
    assert "cnnlive.jobs.job" in edges_of("cnnlive.jobs")
    assert "cnnlive.config" in edges_of("cnnlive")


def test_no_import_cycles_between_modules():
    found = cycles()
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_package_exports_do_not_shadow_their_modules():
    """A package's lazily exported name never equals one of its submodules:
    once the submodule is imported, the package attribute would be the module
    (``from cnnlive.engines.oip import search`` gave a module, not the function)."""
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        exports = [key.value for node in ast.walk(tree) if isinstance(node, ast.Dict)
                   for key in node.keys if isinstance(key, ast.Constant)]
        submodules = {m.rsplit(".", 1)[1] for m in MODULES if "." in m and m.rsplit(".", 1)[0] == name}
        assert not set(exports) & submodules, (name, sorted(set(exports) & submodules))
