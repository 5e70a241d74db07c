"""The shape of the code: small modules, no import hidden in a function to dodge the floors, pure cores.

See docs/architecture.md ("The floors", "How it is kept").
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "tickets", "sla", "notifications", "routing", "deferrals", "escalations", "reports", "intake",
        "portal", "opsdesk")
MAX_LINES = 600
# Pure cores may be longer: they are one algorithm each, tested without the database.
LONG_ALLOWED = {"sla/businesstime.py"}
PURE = ("sla/businesstime.py", "escalations/rules.py", "routing/strategies.py", "reports/metrics.py")


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield app, path


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [] if node.level else [node.module or ""]  # a relative import stays in its own app


def test_no_module_is_over_600_lines():
    long = {}
    for _app, path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and _rel(path) not in LONG_ALLOWED:
            long[_rel(path)] = lines
    assert not long, "split by responsibility:\n" + "\n".join(f"{m}: {n} lines" for m, n in sorted(long.items()))


def _imports_in_functions(node: ast.AST, function: str | None = None):
    """``(function name, import node)`` for every import inside a function (the innermost one named)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports_in_functions(child, child.name)
        elif isinstance(child, ast.Import | ast.ImportFrom):
            if function is not None:
                yield function, child
        else:
            yield from _imports_in_functions(child, function)


def test_no_module_imports_another_app_inside_a_function():
    lazy = []
    for app, path in _modules():
        if path.name == "apps.py":  # AppConfig.ready imports once the registry is ready
            continue
        for function, node in _imports_in_functions(ast.parse(path.read_text(encoding="utf-8"))):
            for module in _imported(node):
                top = module.split(".")[0]
                if top in APPS and top != app:  # the same app, or a third-party package, may be imported lazily
                    lazy.append(f"{_rel(path)}:{node.lineno} {function}() imports {module}")
    assert not lazy, "import at the top (from a lower floor), or publish an event:\n" + "\n".join(lazy)


def test_the_pure_cores_import_only_the_standard_library():
    impure = []
    for rel in PURE:
        for node in ast.walk(ast.parse((ROOT / rel).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for module in _imported(node) or ["(relative)"]:
                    if module.split(".")[0] not in sys.stdlib_module_names | {"__future__"}:
                        impure.append(f"{rel}:{node.lineno} {module}")
    assert not impure, "\n".join(impure)
