"""Every arrow points down (issue 14.3): the floors of ARCHITECTURE.md, read from the imports.

models ← services ← jobs ← views (and the demo above the services). A module imports only from its own
floor or below; only the entry wiring climbs: the app factory (app/__init__.py) and the CLI / worker
that start it. The test parses the source (ast), so it needs no database and imports nothing.

* no import circle among app modules, counting the module-level imports only (a function-level import
  is run late and cannot deadlock the start, but one that only hides a circle is flagged by review);
* no upward import anywhere in a module (function-level included): services and models never import
  views, jobs, the demo or the app factory; jobs never import views.
"""
from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

# The entry wiring: it may import any floor (the factory registers views, the CLI builds the demo).
ENTRY = {"app", "app.cli", "app.cli_backup", "app.worker"}

# Floor of each package (higher imports lower). Modules at app/ top level not named here are shared
# helpers of the floor given in TOP_LEVEL.
FLOORS = {"app.models": 0, "app.services": 1, "app.jobs": 2, "app.demo": 2, "app.views": 3, "app.forms": 3}
TOP_LEVEL = {
    "app.extensions": 0,  # the SQLAlchemy / Babel / AppBuilder singletons
    "app.i18n": 0,
    "app.ip_region": 0,  # 登录地点 from an IP (offline database), read by the log models
    "app.role_labels": 0,
    "app.expiry": 1,
    "app.oplog": 1,
    "app.health": 3,
    "app.security": 3,
    "app.serving": 3,
}

# Upward imports that other helpers' modules still had when this test was written (issue 14 is being
# done by several people at once); each names its owner. Remove a line when the import is gone.
ALLOWED_UPWARD: set[tuple[str, str]] = {
    # The RQ entry point builds the app once per process in a plain `rq worker` (entry wiring: the
    # worker starts the factory); it is named by path in queued jobs, so it stays in app.jobs.
    ("app.jobs", "app"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in APP.rglob("*.py")}


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, bool, int]]:
    """(imported app module, module-level?, line) of every import in the file."""
    name = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        top.add(id(node))
        if isinstance(node, ast.If | ast.Try):  # `if TYPE_CHECKING:` is not a run-time import
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            for child in ast.walk(node):
                top.add(id(child))
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, name, path.name == "__init__.py")
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("app") and target != name:
                out.append((target, id(node) in top, node.lineno))
    return out


def floor(module: str) -> int | None:
    if module in ENTRY:
        return None
    for prefix, level in FLOORS.items():
        if module == prefix or module.startswith(prefix + "."):
            return level
    return TOP_LEVEL.get(module)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_floor():
    """A new top-level module must say which floor it is on (add it to TOP_LEVEL or a package)."""
    homeless = [m for m in modules() if m not in ENTRY and floor(m) is None]
    assert homeless == []


def test_no_import_circle_among_app_modules():
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        for target, module_level, _line in imports(path, known):
            # A package's __init__ importing its own submodules is how a package is assembled, and a
            # submodule importing its package's __init__ only reads what it defines first.
            if module_level and not (target.startswith(name + ".") or name.startswith(target + ".")):
                graph.setdefault(name, set()).add(target)
    cycles = _cycles(graph)
    assert not cycles, "\n".join(" ↔ ".join(c) for c in cycles)


# Circles that only function-level imports close (run late, so they start, but the two modules still
# lean on each other). Each names its owner; remove a line when the circle is gone.
ALLOWED_LATE_CIRCLES: list[set[str]] = [
]


def test_no_circle_even_through_function_level_imports():
    """A function-level import that only hides a circle is a circle all the same."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        for target, _module_level, _line in imports(path, known):
            if not (target.startswith(name + ".") or name.startswith(target + ".")):
                graph.setdefault(name, set()).add(target)
    cycles = [c for c in _cycles(graph) if not any(set(c) <= allowed for allowed in ALLOWED_LATE_CIRCLES)]
    assert not cycles, "\n".join(" ↔ ".join(c) for c in cycles)


def test_every_arrow_points_down():
    known = modules()
    upward = []
    for name, path in sorted(known.items()):
        mine = floor(name)
        if mine is None:
            continue
        for target, _module_level, line in imports(path, known):
            theirs = floor(target)
            climbs = target in ENTRY if theirs is None else theirs > mine
            if climbs and (name, target) not in ALLOWED_UPWARD:
                upward.append(f"{name}:{line} imports {target}")
    assert not upward, "\n".join(upward)


def test_the_checker_sees_a_circle_and_an_upward_import(tmp_path):
    """The scan itself: a two-module circle is a component; a service importing a view is upward."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert floor("app.services.scope") < floor("app.views.base")
    assert floor("app.jobs.common") < floor("app.views.base")
    assert floor("app.cli") is None
