"""Issue 13, item 3: the send path runs in a straight line, messaging -> away ->
notifications, with no import cycle among these apps' modules (imports inside
functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import backsoon

ROOT = Path(backsoon.__file__).resolve().parent
APPS = ("backsoon.messaging", "backsoon.away", "backsoon.notifications")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every module ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # "from . import storage" imports a module too.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {
        _module_name(path): path
        for app in APPS
        for path in (ROOT.parent / app.replace(".", "/")).rglob("*.py")
        if "migrations" not in path.parts
    }
    return {
        name: {m for m in _imports(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _app(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_messaging_away_and_notifications():
    """A cycle inside one app (away's models and calendar models, say) is that app's
    affair; none may run through two of these apps."""
    graph = _graph()
    assert "backsoon.away.queries" in graph["backsoon.messaging.actions"]
    across = [sorted(c) for c in _cycles(graph) if len({_app(m) for m in c}) > 1]
    assert across == []


def test_away_and_notifications_do_not_import_messagings_writes():
    graph = _graph()
    for name, imported in graph.items():
        if not name.startswith("backsoon.messaging"):
            assert "backsoon.messaging.actions" not in imported, name
            assert "backsoon.messaging.storage" not in imported, name


def test_the_cycle_check_finds_a_cycle():
    graph = {"a.x.m": {"b.y.n"}, "b.y.n": {"c.z.o"}, "c.z.o": {"a.x.m"}, "d.w.p": set()}
    assert _cycles(graph) == [{"a.x.m", "b.y.n", "c.z.o"}]
