"""The layering rules of ARCHITECTURE.md, read from every module's imports
(``import``, ``from ... import`` and ``import_module("...")`` strings), and
the rule that private members of ipympl and ipykernel are touched only in
the compat modules."""

from __future__ import annotations

import ast
import importlib.util
import re
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
    # views see jobs only through the read-only Watch/WatchSource of events/watch.py
    "views": (("jobs", "surfaces", "engines"), TENSORFLOW),
    "surfaces": ((), ()),
    "imaging": (("*",), JUPYTER + TENSORFLOW),  # numpy helpers of engines and views: nothing of cnnlive
    "markup": (("*",), JUPYTER + TENSORFLOW),  # the one HTML escaping helper: nothing of cnnlive
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


def test_views_reach_jobs_only_through_a_watch():
    """No view module imports the job layer (Job.plot hands views a read-only watch)."""
    views = sorted((PKG / "views").glob("*.py"))
    assert views
    for path in views:
        assert not [n for n in imports_of(path) if n == "cnnlive.jobs" or n.startswith("cnnlive.jobs.")], path


# -- private members of ipympl and ipykernel ---------------------------------------
COMPAT = {PKG / "views" / "compat.py", PKG / "surfaces" / "compat.py"}
FOREIGN = ("ipympl", "ipykernel", "comm")
_DEFINED = re.compile(r"(?:\bdef\s+|\bclass\s+|\bself\.|\bcls\.)(_[A-Za-z]\w*)"
                      r"|^[ \t]*(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=", re.M)
_USED = re.compile(r"\.(_[A-Za-z]\w*)\b|[\"'](_[A-Za-z]\w*)[\"']")


def _private_names(paths) -> set[str]:
    names: set[str] = set()
    for path in paths:
        names.update(m.group(1) or m.group(2) for m in _DEFINED.finditer(path.read_text(errors="replace")))
    return {n for n in names if not n.endswith("__")}


def _foreign_private_names() -> set[str]:
    """Private members ipympl, ipykernel and comm define (read from their sources)."""
    paths = []
    for package in FOREIGN:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        for root in spec.submodule_search_locations:
            paths += Path(root).rglob("*.py")
    return _private_names(paths)


def _private_uses(path: Path, foreign: set[str]) -> set[str]:
    text = path.read_text()
    return {a or b for a, b in _USED.findall(text)} & foreign


def test_private_ipympl_and_ipykernel_members_only_in_compat_modules():
    """Every private member of ipympl/ipykernel/comm that cnnlive reads or
    writes (``._last_buff``, ``._force_full``, ``_reply_subshell_for``, ...)
    appears only in views/compat.py or surfaces/compat.py; names cnnlive
    defines itself (``self._lock``) do not count. Patching the kernel's
    ``do_shutdown`` is a compat matter too."""
    own = _private_names(p for p in PKG.rglob("*.py") if p not in COMPAT)
    foreign = _foreign_private_names() - own
    used_in_compat = set().union(*(_private_uses(p, foreign) for p in COMPAT))
    # the checker sees what the compat modules use: the names it must find elsewhere too
    assert {"_last_buff", "_force_full", "_to_show", "_reply_subshell_for"} <= used_in_compat
    outside = {str(p.relative_to(PKG)): sorted(_private_uses(p, foreign))
               for p in PKG.rglob("*.py") if p not in COMPAT}
    assert {k: v for k, v in outside.items() if v} == {}
    patched = [str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
               if p not in COMPAT and re.search(r"\.do_shutdown\s*=", p.read_text())]
    assert patched == []


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


def html_escapers(path: Path) -> list[str]:
    """Where a module escapes HTML other than through cnnlive.markup (issue 24: one helper)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "escape" and \
                isinstance(node.value, ast.Name) and node.value.id == "html":
            found.append(f"{path.name}:{node.lineno} html.escape")
        elif isinstance(node, ast.ImportFrom) and node.module in ("html", "markupsafe", "xml.sax.saxutils"):
            found.append(f"{path.name}:{node.lineno} from {node.module} import ...")
    return found


def test_html_is_escaped_by_the_one_helper_only(tmp_path):
    others = [f for p in PKG.rglob("*.py") if p != PKG / "markup.py" for f in html_escapers(p)]
    assert others == [], "escape HTML with cnnlive.markup.escape"
    probe = tmp_path / "probe.py"
    probe.write_text("import html\nfrom html import escape\nx = html.escape('<')\n")
    assert sorted(html_escapers(probe)) == ["probe.py:2 from html import ...", "probe.py:3 html.escape"]
