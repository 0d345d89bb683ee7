"""The import graph of intake, parsers, tracker and notifier: no cycles, and one direction only.

Every module is read with ``ast`` (nothing is imported), and every import counts wherever it
stands: at the top, inside a function, under ``if TYPE_CHECKING:``. Relative imports are
resolved against the module's package; ``from package import name`` points at the submodule
``package.name`` when there is one, else at the package. Importing a submodule does not count as
importing its parent package's ``__init__``.

DESIGN.md, "Architecture": ``parsers`` imports nothing of the other three; ``tracker`` and
``notifier`` never import ``intake``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intake", "parsers", "tracker", "notifier")

KNOWN_CYCLES_TO_BE_REMOVED: set[frozenset[str]] = set()
"""Pairs of modules that still import each other; their edges are left out of the cycle check."""


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the four packages: dotted name -> (file, is a package ``__init__``)."""
    found = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _ours(name: str) -> str | None:
    """The module of ours that importing ``name`` runs (its longest known prefix), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    """The modules of ours that ``module`` imports anywhere in its source."""
    path, is_package = MODULES[module]
    package = module if is_package else module.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(_ours(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(
                    parts[: len(parts) - node.level + 1] + ([node.module] if node.module else [])
                )
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in MODULES else _ours(base))
    targets.discard(None)
    targets.discard(module)
    return targets


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_the_packages():
    assert {"intake.cli", "parsers.registry", "tracker.records", "notifier.outbox"} <= set(MODULES)
    assert "tracker.records" in GRAPH["intake.service"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back():
    graph = {
        module: {
            target
            for target in targets
            if frozenset({module, target}) not in KNOWN_CYCLES_TO_BE_REMOVED
        }
        for module, targets in GRAPH.items()
    }
    assert _cycles(graph) == []


def test_the_known_cycles_are_still_there():
    """A pair that no longer imports each other comes out of ``KNOWN_CYCLES_TO_BE_REMOVED``."""
    for pair in KNOWN_CYCLES_TO_BE_REMOVED:
        first, second = sorted(pair)
        assert second in GRAPH[first] and first in GRAPH[second], (
            f"remove {sorted(pair)} from the list"
        )


def test_imports_go_one_way():
    forbidden = {
        "parsers": {"intake", "tracker", "notifier"},
        "tracker": {"intake"},
        "notifier": {"intake"},
    }
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target.split(".")[0] in forbidden.get(module.split(".")[0], ())
    )
    assert wrong == []
