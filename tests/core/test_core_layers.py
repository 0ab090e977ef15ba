"""The core's modules form layers: no import cycle, and no import of a provider package.

Every import counts: at module level, inside functions (a deferred import is still a
dependency) and under ``TYPE_CHECKING`` (an executor whose signature names ``Pipeline``
depends on it as much as one that imports it). Only the implicit import of a parent
package (``glacier.x`` runs ``glacier/__init__``) is left out: every module has it.
"""

from __future__ import annotations

import ast
from collections.abc import Container
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = "glacier"
PROVIDER_PACKAGES = ("glacier_aws", "glacier_gcp", "glacier_azure")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / CORE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: Container[str] = ()) -> set[str]:
    """Every module named by an import anywhere in ``path`` (relative imports resolved).

    ``from pkg import sub`` names the submodule ``pkg.sub`` when it is one of ``modules``,
    and ``pkg`` itself only for names that are not submodules.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            subs = {f"{base}.{a.name}" for a in node.names} & set(modules)
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(base)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {m for m in _imports(name, path, modules) if m in modules} - {name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the chain of modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_core_has_no_import_cycle() -> None:
    graph = _graph()
    assert len(graph) > 40  # the walk found the package
    cycle = _cycle(graph)
    assert cycle is None, "import cycle in the core: " + " -> ".join(cycle or [])


def test_the_core_never_imports_a_provider_package() -> None:
    modules = _modules()
    offenders = sorted(
        f"{name} imports {imported}"
        for name, path in modules.items()
        for imported in _imports(name, path)
        if imported.split(".")[0] in PROVIDER_PACKAGES
    )
    assert offenders == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module loop through a deferred import is reported."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
