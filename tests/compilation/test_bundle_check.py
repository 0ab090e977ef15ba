"""``compile`` gives a complete function bundle, and imports it in a clean interpreter first:
an import the bundle cannot satisfy is a CompilationError then, not a failure in the cloud.

Every compile here starts that interpreter (a process): the module is marked slow."""

from __future__ import annotations

import importlib.metadata
import textwrap
import uuid
from pathlib import Path

import pytest

from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

pytestmark = pytest.mark.slow

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"

_PIPELINE = """\
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage
from {pkg} import helpers

raw = Dataset("raw", storage=ObjectStorage())
out = Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="proj"{requirements})


@pipeline.task()
def work(rows: raw) -> out:
    return helpers.clean(rows)
"""

#: A helper that imports a distribution by a name computed at import time: no import
#: statement names it, so only the clean interpreter sees the bundle lacks it.
_HELPERS = """\
import importlib

CODEC = importlib.import_module("id" + "na")


def clean(rows):
    return rows
"""


def _project(
    tmp_path: Path, requirements: tuple[str, ...] = (), helpers: str = _HELPERS
) -> tuple[str, Path]:
    """A package of its own name (unique: modules stay imported between tests)."""
    package = f"proj_{uuid.uuid4().hex[:10]}"
    root = tmp_path / package
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "helpers.py").write_text(helpers)
    declared = f", requirements={list(requirements)!r}" if requirements else ""
    text = _PIPELINE.format(pkg=package, requirements=declared)
    (root / "pipeline.py").write_text(text)
    return package, root / "pipeline.py"


def test_a_helper_module_beside_the_pipeline_and_its_third_party_import_reach_the_bundle() -> None:
    """``from conformance_helpers import positive`` (a module beside the pipeline) which does
    ``import yaml``: the stack's bundle holds the helper and pins PyYAML."""
    infra = load_pipeline(str(PIPELINES / "conformance_project.py")).compile(AWSCompiler())
    files = infra.stacks["aws"].files
    assert files["app/conformance_helpers.py"] == (PIPELINES / "conformance_helpers.py").read_text()
    yaml = f"PyYAML=={importlib.metadata.version('pyyaml')}"
    for name in ("app/requirements.txt", "app/requirements-lambda.txt"):
        assert yaml in files[name].splitlines(), (name, files[name])


def test_compile_bundles_a_package_of_helpers_and_the_declared_requirements() -> None:
    """A pipeline whose task uses helpers of its own package (one reached by a relative
    import, one through a package ``__init__``) and ``yaml``, and declares ``idna``: the
    bundle holds every module and ``__init__``; both requirement files carry the PyYAML pin
    and the declared requirement; the manifest records the declaration."""
    infra = load_pipeline(str(PIPELINES / "bundle_shop" / "pipeline.py")).compile(AWSCompiler())
    files = infra.stacks["aws"].files
    for rel in ("__init__.py", "helpers/__init__.py", "helpers/rules.py", "helpers/limits.py"):
        assert f"app/bundle_shop/{rel}" in files, rel
    yaml = f"PyYAML=={importlib.metadata.version('pyyaml')}"
    for name in ("app/requirements.txt", "app/requirements-lambda.txt"):
        lines = files[name].splitlines()
        assert yaml in lines and "idna>=3" in lines, (name, lines)
    manifest = files["app/manifest.json"]
    assert '"requirements": [\n    "idna>=3"\n  ]' in manifest


def test_an_import_nothing_provides_is_a_compile_error_naming_module_file_and_fix(
    tmp_path: Path,
) -> None:
    helpers = "def clean(rows):\n    import not_installed_xyz\n    return rows\n"
    package, path = _project(tmp_path, helpers=helpers)
    pipeline = load_pipeline(str(path))
    message = (
        f"pipeline 'proj': module 'not_installed_xyz', imported by .*{package}/helpers.py:2, "
        "cannot go in the function bundle: it is not importable here and no requirement provides "
        r"it; install it where glacier compile runs .*add it to Pipeline\(requirements=\[...\]\), "
        "or make it importable"
    )
    with pytest.raises(CompilationError, match=message):
        pipeline.compile(AWSCompiler())


def test_an_import_the_clean_interpreter_cannot_satisfy_is_a_compile_error(tmp_path: Path) -> None:
    package, path = _project(tmp_path)
    pipeline = load_pipeline(str(path))
    message = (
        r"pipeline 'proj': the function bundle does not import in a clean interpreter: module "
        rf"'idna', imported by .*{package}/helpers.py:3, is missing \(No module named "
        r"'idna'\); import it with an import statement .* or add its distribution to "
        r"Pipeline\(requirements=\[...\]\)"
    )
    with pytest.raises(CompilationError, match=message):
        pipeline.compile(AWSCompiler())


def test_declaring_the_requirement_makes_the_same_bundle_import(tmp_path: Path) -> None:
    _, path = _project(tmp_path, requirements=("idna>=3",))
    files = load_pipeline(str(path)).compile(AWSCompiler()).stacks["aws"].files
    assert "idna>=3" in files["app/requirements-lambda.txt"].splitlines()


def test_the_check_sees_the_bundle_not_this_process(tmp_path: Path) -> None:
    """A module importable here only through the working directory's ``sys.path`` (not part
    of the project the pipeline imports by name) is not in the bundle: the check says so."""
    package = f"proj_{uuid.uuid4().hex[:10]}"
    root = tmp_path / package
    root.mkdir()
    (root / "__init__.py").write_text("")
    (tmp_path / f"{package}_plugin.py").write_text("VALUE = 1\n")
    pipeline_text = textwrap.dedent(
        f"""\
        import importlib
        from glacier import Dataset, Pipeline
        from glacier.storage import ObjectStorage

        PLUGIN = importlib.import_module("{package}" + "_plugin")
        raw = Dataset("raw", storage=ObjectStorage())
        out = Dataset("out", storage=ObjectStorage())
        pipeline = Pipeline(name="proj")


        @pipeline.task()
        def work(rows: raw) -> out:
            return rows
        """
    )
    (root / "pipeline.py").write_text(pipeline_text)
    pipeline = load_pipeline(str(root / "pipeline.py"))
    with pytest.raises(CompilationError, match=f"module '{package}_plugin', imported by "):
        pipeline.compile(AWSCompiler())


def test_a_module_that_ends_the_interpreter_at_import_is_a_compile_error(tmp_path: Path) -> None:
    helpers = "import os\n\nos._exit(3)\n\n\ndef clean(rows):\n    return rows\n"
    _, path = _project(tmp_path, helpers=helpers.replace("os._exit(3)", "X = 1"))
    pipeline = load_pipeline(str(path))
    path.with_name("helpers.py").write_text(helpers)  # what the bundle will hold
    message = r"the bundle import check stopped \(exit code 3: no output\); a module ends"
    with pytest.raises(CompilationError, match=message):
        pipeline.compile(AWSCompiler())
