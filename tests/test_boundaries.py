"""Package boundaries: tools are the ground floor, the agent core knows no front end, nothing imports in a circle."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Our top-level packages; imports between them must form no cycle.
PACKAGES = ("agent", "tools", "bot", "demo", "benchmarks")

FORBIDDEN = {
    "agent": {"slack_bolt", "slack_sdk", "typer", "rich", "apscheduler", "bot"},
    "tools": {"anthropic", "slack_bolt", "slack_sdk", "typer", "rich", "apscheduler", "agent", "bot"},
}


def _imported_top_levels(path: Path) -> set[str]:
    """Every top-level name a module imports: at module level, in functions and in TYPE_CHECKING blocks alike."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@cache
def _package_imports() -> dict[str, set[str]]:
    """Which of our other packages each package imports."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        imported: set[str] = set()
        for path in (ROOT / package).rglob("*.py"):
            imported |= _imported_top_levels(path)
        graph[package] = (imported & set(PACKAGES)) - {package}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the packages along it, or None when the graph has none."""
    done: set[str] = set()

    def visit(package: str, path: list[str]) -> list[str] | None:
        if package in path:
            return [*path[path.index(package) :], package]
        if package in done:
            return None
        for imported in sorted(graph.get(package, ())):
            found = visit(imported, [*path, package])
            if found:
                return found
        done.add(package)
        return None

    for package in sorted(graph):
        found = visit(package, [])
        if found:
            return found
    return None


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_inside_their_boundary(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_top_levels(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "\n".join(offenders)


def test_the_import_graph_is_read_from_the_sources() -> None:
    # The layering as it stands: front doors over the agent over the tools; the agent bundles the demo.
    graph = _package_imports()
    assert "tools" in graph["agent"] and "agent" in graph["bot"] and "demo" in graph["agent"]


def test_no_import_cycle_between_packages() -> None:
    cycle = _cycle(_package_imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert _cycle({"tools": {"agent"}, "agent": {"tools"}, "bot": {"agent"}}) == ["agent", "tools", "agent"]
    assert _cycle({"bot": {"agent", "tools"}, "agent": {"tools"}, "tools": set()}) is None


# Front doors reach conversations only through the sessions API (agent.sessions), never the store's tables.
FORBIDDEN_MODULES = {"bot": ("agent.store",)}


def _imported_modules(path: Path) -> set[str]:
    """The full dotted names a module imports from (`from a.b import c` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN_MODULES))
def test_front_doors_reach_sessions_only_through_the_sessions_api(package: str) -> None:
    prefixes = FORBIDDEN_MODULES[package]
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)
    ]
    assert not offenders, "\n".join(offenders)
