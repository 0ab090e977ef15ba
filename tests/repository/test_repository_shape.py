"""The library's shape: modules a maintainer reads in one sitting, and a core whose code names
no cloud (provider knowledge lives in the provider packages, behind the provider protocol)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Helpers copied verbatim into every generated AWS stack: vendored, not library modules.
VENDORED = ROOT / "glacier_aws" / "stack"
MAX_LINES = 450
PROVIDER_PACKAGES = ("glacier_aws", "glacier_gcp", "glacier_azure")
#: The one place the core may name Glacier's own providers: the registry's built-in table,
#: for installs without entry-point metadata (decision 075).
REGISTRY = ROOT / "glacier" / "compilation" / "registry.py"


def _library() -> list[Path]:
    return sorted(
        path
        for package in ("glacier", *PROVIDER_PACKAGES)
        for path in (ROOT / package).rglob("*.py")
        if VENDORED not in path.parents
    )


def test_no_library_module_exceeds_the_size_read_in_one_sitting() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines()) for p in _library()}
    assert len(sizes) > 60  # the walk found the packages
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert over == {}, f"split these along their seams (one idea per module): {over}"


def _code_strings(tree: ast.Module) -> list[ast.Constant]:
    """String constants that are code, not docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_cores_code_names_no_provider_package() -> None:
    """A string naming ``glacier_aws.storage.S3`` or ``glacier_gcp`` in the core is provider
    knowledge the provider should declare (e.g. ``Provider.storage_class``)."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for path in (ROOT / "glacier").rglob("*.py")
        if path != REGISTRY
        for node in _code_strings(ast.parse(path.read_text()))
        if any(package in node.value for package in PROVIDER_PACKAGES)
    ]
    assert found == []
