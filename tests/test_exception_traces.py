"""Every broad exception handler in python/cnnlive leaves a trace: it
re-raises, logs, reports the exception (uses its name, publishes a
traceback), or is narrowed to the exceptions it expects."""

from __future__ import annotations

import ast

from tests.test_layers import PKG

BROAD = {"Exception", "BaseException"}


def silent_handlers(source: str) -> list[int]:
    """Lines of ``except`` clauses catching everything whose body leaves no trace."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ExceptHandler):
            continue
        caught = node.type
        names = ({"<bare>"} if caught is None else {caught.id} if isinstance(caught, ast.Name) else
                 {e.id for e in caught.elts if isinstance(e, ast.Name)} if isinstance(caught, ast.Tuple) else set())
        if not names & (BROAD | {"<bare>"}):
            continue
        body = ast.Module(body=node.body, type_ignores=[])
        text = ast.unparse(body)
        traced = (any(isinstance(n, ast.Raise) for n in ast.walk(body)) or "log." in text or "logging." in text
                  or "traceback" in text or "warn" in text or bool(node.name and node.name in text))
        if not traced:
            found.append(node.lineno)
    return found


def test_the_checker_sees_a_silent_handler():
    probe = ("try:\n    f()\nexcept Exception:\n    pass\n"
             "try:\n    f()\nexcept OSError:\n    pass\n"
             "try:\n    f()\nexcept Exception:\n    log.debug('x', exc_info=True)\n"
             "try:\n    f()\nexcept:\n    return None\n")
    assert silent_handlers(probe) == [3, 15]


def test_no_broad_exception_is_swallowed_without_a_trace():
    silent = {str(p.relative_to(PKG)): lines for p in sorted(PKG.rglob("*.py"))
              if (lines := silent_handlers(p.read_text()))}
    assert silent == {}
