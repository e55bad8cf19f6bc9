"""The layout keeps its promises: read from the source, not assumed.

* No import circle among the modules of ``hubbub.server``, counting imports
  made only for type hints (``if TYPE_CHECKING:``) too: parts depend on small
  Protocols instead of on each other.
* Only the app and the transports import asyncio; the rest of the server runs
  on any loop that fits :class:`hubbub.server.interfaces.Loop`.
* Only :mod:`hubbub.server.apply` calls the primitives that change the
  network (the replay test checks the behaviour; this checks the code).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hubbub"
SERVER = SRC / "server"

#: The Network methods that change it.
NETWORK_PRIMITIVES = {
    "add_user", "remove_user", "remember", "rename", "set_user_mode", "set_userhost",
    "join", "rename_channel", "part", "hold_channel", "register_channel",
}  # fmt: skip


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every hubbub module ``path`` imports, wherever the import statement is."""
    tree = ast.parse(path.read_text())
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            # "from . import x" imports the module x.
            found.update(f"{mod}.{a.name}" for a in node.names)
    # "from . import x" in a package's __init__ names the package itself too.
    return {m for m in found if m.startswith("hubbub")} - {module_name(path)}


def server_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in SERVER.rglob("*.py")}
    return {name: imports_of(path) & set(modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_server_package_has_no_import_circle() -> None:
    graph = server_graph()
    assert len(graph) > 20  # the scan found the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_only_the_app_and_transports_import_asyncio() -> None:
    users = set()
    for path in SERVER.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            if any(n == "asyncio" or n.startswith("asyncio.") for n in names):
                users.add(path.relative_to(SERVER).as_posix())
    assert users == {"app.py", "transports/tcp.py", "transports/websocket.py"}


def test_only_apply_calls_the_network_primitives() -> None:
    callers = set()
    for path in SERVER.rglob("*.py"):
        if path.name in ("apply.py", "state.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in NETWORK_PRIMITIVES
                and "network" in ast.unparse(node.func.value)
            ):
                callers.add(f"{path.name}: {ast.unparse(node)}")
    assert callers == set()
