"""What a module imports, read from its source, and where an imported module lives.

The function bundle must hold everything the pipeline's code imports. The imports are read
from each module's syntax tree (``import x``, ``from x import y``, relative imports, imports
inside functions, and ``importlib.import_module("x")`` with a literal name), not from the
modules a compile happened to import: a task imports most of what it needs only when it runs.

Two kinds of import are *optional*, because the code states that it runs without them:
imports inside a ``try`` whose handler catches ``ImportError`` (a fallback follows), and
imports under an ``if`` on the interpreter or the platform (``sys.version_info``,
``sys.platform``, ``os.name``, ``platform.*``): those may run in the cloud and not here, or
the reverse. Imports under ``if TYPE_CHECKING:`` never run and are left out.

Modules are found without importing anything new: a dotted name whose parent is not imported
yet is looked up in the parent's folders, so finding a module never runs a project's code.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib.machinery import ModuleSpec

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_ENVIRONMENT = frozenset({"version_info", "platform", "implementation"})
#: ``try`` statements (``try``/``except*`` too from Python 3.11).
_TRY = tuple(t for t in (ast.Try, getattr(ast, "TryStar", None)) if t is not None)


@dataclass(frozen=True)
class ImportSite:
    """One import statement's module: the absolute name, where it is, and how it is imported.

    ``submodule`` marks ``y`` of ``from x import y``: a module only if ``x.y`` is one (else
    an attribute of ``x``, and nothing to bundle).
    """

    module: str
    line: int
    optional: bool = False
    submodule: bool = False


def _names_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _on_environment(test: ast.expr) -> bool:
    """Whether an ``if`` test reads the interpreter or the platform (``sys.version_info``...)."""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner, attr = node.value.id, node.attr
            if (owner == "sys" and attr in _ENVIRONMENT) or (owner, attr) == ("os", "name"):
                return True
            if owner == "platform":
                return True
    return False


def _catches_import_errors(node: ast.Try) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names = {c.id if isinstance(c, ast.Name) else getattr(c, "attr", "") for c in caught}
        if names & _IMPORT_ERRORS:
            return True
    return False


class _Reader:
    """Walks the statements of one module (expressions only for ``import_module`` calls, and
    only when the text names one)."""

    def __init__(self, package: str, by_name: bool) -> None:
        self.package = package
        self.by_name = by_name
        self.found: list[ImportSite] = []

    def body(self, statements: list[ast.stmt], optional: bool) -> None:
        for node in statements:
            self.statement(node, optional)

    def statement(self, node: ast.stmt, optional: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.add(alias.name, node.lineno, optional)
        elif isinstance(node, ast.ImportFrom):
            self.import_from(node, optional)
        elif isinstance(node, ast.If):
            if not _names_type_checking(node.test):
                self.body(node.body, optional or _on_environment(node.test))
            self.body(node.orelse, optional or _on_environment(node.test))
        elif isinstance(node, _TRY):
            self.guarded(node, optional)  # type: ignore[arg-type]
        else:
            if self.by_name:
                self.calls(node, optional)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    self.body(inner, optional)
            for case in getattr(node, "cases", ()):  # match statements
                self.body(case.body, optional)

    def guarded(self, node: ast.Try, optional: bool) -> None:
        self.body(node.body, optional or _catches_import_errors(node))
        for handler in node.handlers:
            self.body(handler.body, optional)
        self.body(node.orelse + node.finalbody, optional)

    def import_from(self, node: ast.ImportFrom, optional: bool) -> None:
        try:
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), self.package)
        except (ImportError, ValueError):
            return  # a relative import beyond the top package fails where it runs, as here
        if node.module:
            self.add(base, node.lineno, optional)
        for alias in node.names:
            if alias.name != "*":
                site = ImportSite(f"{base}.{alias.name}", node.lineno, optional, submodule=True)
                self.found.append(site)

    def calls(self, node: ast.stmt, optional: bool) -> None:
        """``importlib.import_module("x")`` / ``__import__("x")`` with a literal name, in the
        statement's own expressions (not in nested statements, which are walked themselves)."""
        for field, value in ast.iter_fields(node):
            if field in ("body", "orelse", "finalbody", "handlers", "cases"):
                continue
            for item in value if isinstance(value, list) else [value]:
                for inner in ast.walk(item) if isinstance(item, ast.AST) else ():
                    name = _imported_by_name(inner)
                    if name:
                        self.add(name, node.lineno, optional)

    def add(self, name: str, line: int, optional: bool) -> None:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # ``import a.b.c`` imports a, a.b and a.b.c
            self.found.append(ImportSite(".".join(parts[:i]), line, optional))


def _imported_by_name(node: ast.AST) -> str | None:
    """``x`` of ``importlib.import_module("x")`` or ``__import__("x")`` (absolute names)."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0]
    if called not in ("import_module", "__import__") or not isinstance(first, ast.Constant):
        return None
    name = first.value
    return name if isinstance(name, str) and name and not name.startswith(".") else None


@functools.lru_cache(maxsize=128)
def import_sites(source: str, filename: str, package: str) -> tuple[ImportSite, ...]:
    """Every import in ``source`` (a module of ``package``), in order; a SyntaxError as is.

    Cached by the text itself: compiling again in one process reads the same modules."""
    reader = _Reader(package, by_name="import_module" in source or "__import__" in source)
    reader.body(ast.parse(source, filename).body, optional=False)
    return tuple(reader.found)


# -- finding modules without importing them ---------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A module located on this machine: its file (None: built in, or a namespace package)."""

    name: str
    file: str | None
    package: bool


def _spec(name: str) -> ModuleSpec | None:
    """The module's spec, importing nothing: a parent that is not imported yet is searched
    through its own spec's folders."""
    parent = name.rpartition(".")[0]
    try:
        if not parent or parent in sys.modules:
            return importlib.util.find_spec(name)
        above = _spec(parent)
        if above is None or above.submodule_search_locations is None:
            return None
        return importlib.machinery.PathFinder.find_spec(
            name, list(above.submodule_search_locations)
        )
    except (ImportError, ValueError, AttributeError):
        return None


def locate(name: str) -> Found | None:
    """Where module ``name`` comes from here, or None when it cannot be imported."""
    module = sys.modules.get(name)
    if module is not None:
        file = getattr(module, "__file__", None)
        return Found(name, os.fspath(file) if file else None, hasattr(module, "__path__"))
    spec = _spec(name)
    if spec is None:
        return None
    file = spec.origin if spec.has_location else None
    return Found(name, file, spec.submodule_search_locations is not None)


__all__ = ["Found", "ImportSite", "import_sites", "locate"]
