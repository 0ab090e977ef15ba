"""What the function bundle holds, read from the code: the project's modules, transitively,
with their packages; each imported distribution pinned; the declared requirements. These
tests stop before the clean-interpreter import check (``test_bundle_check.py`` runs it)."""

from __future__ import annotations

import importlib.metadata
import textwrap
import uuid
from pathlib import Path

import pytest

from glacier import Pipeline
from glacier.compilation.imports import ImportSite, import_sites
from glacier.compilation.sources import PipelineSource, locate_source
from glacier.errors import CompilationError, DefinitionError
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
YAML = f"PyYAML=={importlib.metadata.version('pyyaml')}"

_PIPELINE = """\
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage
{imports}

raw = Dataset("raw", storage=ObjectStorage())
out = Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="proj"{requirements})


@pipeline.task()
def work(rows: raw) -> out:
{body}
    return rows
"""


def _project(tmp_path: Path, files: dict[str, str]) -> tuple[str, Path]:
    """A package of its own name (unique: modules stay imported between tests) in
    ``tmp_path``; ``files`` maps paths inside it to their text ({pkg} is its name)."""
    package = f"proj_{uuid.uuid4().hex[:10]}"
    root = tmp_path / package
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).replace("{pkg}", package))
    return package, root


def _pipeline_module(imports: str = "", body: str = "", requirements: tuple[str, ...] = ()) -> str:
    declared = f", requirements={list(requirements)!r}" if requirements else ""
    return _PIPELINE.format(
        imports=imports, body=textwrap.indent(body or "pass", "    "), requirements=declared
    )


def _source(path: Path) -> PipelineSource:
    return locate_source(load_pipeline(str(path)).validated())


# -- declared requirements ----------------------------------------------------------------------


def test_declared_requirements_are_checked_and_travel_in_the_ir() -> None:
    pipeline = Pipeline(
        name="p", requirements=[" pyyaml>=6 ", "requests[socks]>=2; python_version>'3'"]
    )
    assert pipeline.spec().requirements == ("pyyaml>=6", "requests[socks]>=2; python_version>'3'")
    assert Pipeline(name="p").spec().requirements == ()


@pytest.mark.parametrize(
    ("requirements", "message"),
    [
        ("pyyaml", "requirements must be a list of requirement strings, found 'pyyaml'"),
        (["--index-url https://evil.example"], "a leading '-' \\(a pip option\\)"),
        (["pyyaml\n--pre"], "a line break"),
        (["py yaml"], "requirement 'py yaml' is invalid"),
        ([""], "expected a non-empty str"),
        ([3], "requirement 3 is invalid"),
    ],
)
def test_a_requirement_pip_would_not_read_as_one_is_refused(
    requirements: object, message: str
) -> None:
    with pytest.raises(DefinitionError, match=message):
        Pipeline(name="p", requirements=requirements)  # type: ignore[arg-type]


# -- reading imports ----------------------------------------------------------------------------


def test_imports_are_read_from_the_source_including_functions_and_relative_ones() -> None:
    source = textwrap.dedent(
        """\
        import a.b
        from . import sibling
        from .inner import thing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import typing_only
        else:
            import at_runtime
        try:
            import fast_json
        except ImportError:
            import json
        if sys.version_info < (3, 11):
            import tomli
        def f():
            import inside
            return importlib.import_module("by_name")
        """
    )
    sites = import_sites(source, "m.py", "pkg")
    found = {(s.module, s.optional, s.submodule) for s in sites}
    assert {("a", False, False), ("a.b", False, False), ("pkg", False, False)} <= found
    assert {("pkg.sibling", False, True), ("pkg.inner", False, False)} <= found
    assert {
        ("at_runtime", False, False),
        ("fast_json", True, False),
        ("json", False, False),
    } <= found
    assert {("tomli", True, False), ("inside", False, False), ("by_name", False, False)} <= found
    assert "typing_only" not in {s.module for s in sites}
    assert ImportSite("inside", 16) in sites  # the line it is on


# -- what the bundle holds ------------------------------------------------------------------


def test_the_bundle_holds_every_project_module_the_pipeline_imports_with_its_packages() -> None:
    source = _source(PIPELINES / "bundle_shop" / "pipeline.py")
    assert sorted(source.files) == [
        "bundle_shop/__init__.py",
        "bundle_shop/helpers/__init__.py",
        "bundle_shop/helpers/limits.py",  # reached only through a relative import
        "bundle_shop/helpers/rules.py",
        "bundle_shop/pipeline.py",
    ]
    assert (
        source.files["bundle_shop/helpers/limits.py"]
        == (PIPELINES / "bundle_shop" / "helpers" / "limits.py").read_text()
    )
    polars = f"polars=={importlib.metadata.version('polars')}"
    assert source.requirements == (polars, YAML, "idna>=3")
    assert source.entries == ("bundle_shop.pipeline",)


def test_optional_and_type_checking_imports_of_missing_modules_are_not_errors(
    tmp_path: Path,
) -> None:
    imports = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import not_installed_types_xyz\n"
        "try:\n    import not_installed_fast_xyz\nexcept ImportError:\n    pass\n"
    )
    _, root = _project(tmp_path, {"pipeline.py": _pipeline_module(imports)})
    source = _source(root / "pipeline.py")
    assert not any("not_installed" in r for r in source.requirements)


def test_a_declared_requirement_satisfies_an_import_not_installed_here(tmp_path: Path) -> None:
    body = "import not_installed_xyz"
    module = _pipeline_module(body=body, requirements=("not-installed-xyz>=1",))
    _, root = _project(tmp_path, {"pipeline.py": module})
    assert _source(root / "pipeline.py").requirements == ("not-installed-xyz>=1",)


def test_a_requirement_the_installed_version_contradicts_is_a_compile_error(tmp_path: Path) -> None:
    module = _pipeline_module("import yaml", requirements=("pyyaml<1",))
    _, root = _project(tmp_path, {"pipeline.py": module})
    pipeline = load_pipeline(str(root / "pipeline.py"))
    message = (
        "requirement 'pyyaml<1' conflicts with the code the bundle pins: PyYAML .* is installed "
        "here"
    )
    with pytest.raises(CompilationError, match=message):
        pipeline.compile(AWSCompiler())
