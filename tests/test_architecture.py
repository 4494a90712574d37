"""The layout of app/, read from the code's own imports with ast: feature packages around a
small frame, no module taking another's private names, no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
FRAME = {
    "app",
    "app.asgi",
    "app.cli",
    "app.settings",
    "app.db",
    "app.tables",
    "app.piccolo_app",
    "app.errors",
    "app.sessions",
    "app.backup",
    "app.home",
}
PACKAGES = {
    "lib",
    "accounts",
    "course",
    "banks",
    "quizzes",
    "trainings",
    "reports",
    "api",
    "demo",
    "unit_reports",
}
# Packages with pages: each lists its routes in one place, `routes.py`, that asgi.py includes.
WITH_ROUTES = PACKAGES - {"lib", "demo"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        if "piccolo_migrations" in path.parts:
            continue
        parts = path.relative_to(APP.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every app import of a module,
    at any depth (imports inside functions count: they run too)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app" or node.module.startswith("app."):
                for alias in node.names:
                    out.append((node.module, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("app."):
                    out.append((alias.name, None, node.lineno))
    return out


def _target(module: str, taken: str | None) -> str:
    """The module an import depends on: `from app.x import y` is app.x.y when y is a module."""
    if taken is not None and f"{module}.{taken}" in MODULES:
        return f"{module}.{taken}"
    return module


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph[name] = set()
        for module, taken, _ in _imports(name):
            target = _target(module, taken)
            # A package's __init__ runs on any import of its modules; it imports nothing here.
            if target != name and target in MODULES:
                graph[name].add(target)
    return graph


def test_every_module_outside_the_frame_sits_in_a_feature_package():
    loose = sorted(
        name
        for name in MODULES
        if name not in FRAME and name.split(".")[1] not in PACKAGES and name != "app.static"
    )
    assert loose == []
    assert sorted(name for name in MODULES if name.count(".") == 1 and name not in FRAME) == (
        sorted(f"app.{package}" for package in PACKAGES)
    )


def test_every_import_of_app_names_a_module_that_exists():
    missing = [
        f"{name}:{line} imports {module}"
        for name in MODULES
        for module, _, line in _imports(name)
        if module not in MODULES
    ]
    assert missing == []


def test_no_module_takes_another_modules_private_names():
    taken = [
        f"{name}:{line} takes {module}.{what}"
        for name in MODULES
        for module, what, line in _imports(name)
        if what
        and what.startswith("_")
        and not what.startswith("__")
        and _target(module, what) == module
        and module != name
    ]
    assert taken == []


def test_no_import_cycles():
    """Strongly connected components of the import graph (Tarjan): every one is one module."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def test_lib_depends_on_no_feature_package():
    reaching = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if name.startswith("app.lib.")
        for target in targets
        if target.split(".")[1] in PACKAGES - {"lib"}
    ]
    assert reaching == []


def test_each_package_with_pages_lists_its_routes_in_one_place_that_asgi_includes():
    asgi = {_target(module, taken) for module, taken, _ in _imports("app.asgi")}
    for package in sorted(WITH_ROUTES):
        assert f"app.{package}.routes" in MODULES, package
        assert f"app.{package}.routes" in asgi, package
    # No page module is wired into the app by asgi.py directly, past its package's routes.
    for module in asgi:
        parts = module.split(".")
        if len(parts) > 2 and parts[1] in WITH_ROUTES:
            assert parts[2] != "pages", module


def test_no_module_passes_on_names_it_imports():
    """A moved name is imported from its new home, not re-exported by an old one: no
    `import x as x`, and no `__all__` that lists a name imported from another app module."""
    passed_on = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                for alias in node.names:
                    imported.add(alias.asname or alias.name)
                    if alias.asname == alias.name:
                        passed_on.append(f"{name}:{node.lineno} re-exports {alias.name}")
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                listed = {
                    e.value for e in getattr(node.value, "elts", []) if isinstance(e, ast.Constant)
                }
                passed_on += [f"{name} lists {n} in __all__" for n in sorted(listed & imported)]
    assert passed_on == []
