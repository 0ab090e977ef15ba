"""load_pipeline: file and module references, attrs, builder functions, and every error."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from glacier import Pipeline
from glacier.errors import DefinitionError, PipelineReferenceError
from glacier.loader import load_pipeline, split_ref

PIPELINE_SRC = """
from glacier import Dataset, Pipeline

raw = Dataset("raw")
out = Dataset("out")
pipeline = Pipeline(name={name!r})


@pipeline.task()
def step(data: raw) -> out:
    return data
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(autouse=True)
def _restore_sys_path() -> object:
    saved = list(sys.path)
    yield
    sys.path[:] = saved


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("a/b.py", ("a/b.py", None)),
        ("a/b.py:build", ("a/b.py", "build")),
        ("pkg.mod:ns.pipe", ("pkg.mod", "ns.pipe")),
        ("C:\\work\\p.py", ("C:\\work\\p.py", None)),
        ("pkg.mod:", ("pkg.mod:", None)),
    ],
)
def test_split_ref(ref: str, expected: tuple[str, str | None]) -> None:
    assert split_ref(ref) == expected


def test_file_without_attr_finds_the_only_pipeline(
    pipelines_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pipelines_dir.parent.parent)
    pipeline = load_pipeline("tests/pipelines/core_future.py")
    assert pipeline.name == "future"
    assert pipeline.source == "tests/pipelines/core_future.py:pipeline"
    # Imported under a stable name, so the task functions can be imported again by a runtime.
    assert pipeline.tasks[0].fn.__module__ == "core_future"
    assert sys.modules["core_future"].pipeline is pipeline
    assert str(pipelines_dir) in sys.path


def test_file_with_attr_and_builder_function(
    pipelines_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # outside the cwd, the source is the absolute path
    built = load_pipeline(f"{pipelines_dir}/core_future.py:build")
    assert (
        built.name == "built" and built.source == f"{pipelines_dir.as_posix()}/core_future.py:build"
    )
    first = load_pipeline(f"{pipelines_dir}/core_two.py:first")
    assert (
        first.name == "first"
        and first.source is not None
        and first.source.endswith("core_two.py:first")
    )
    assert load_pipeline(f"{pipelines_dir}/core_two.py:alias") is first


def test_module_reference(
    pipelines_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(tmp_path / "modpkg" / "__init__.py", "")
    _write(tmp_path / "modpkg" / "flows.py", PIPELINE_SRC.format(name="flows"))
    monkeypatch.chdir(tmp_path)  # the working directory is importable, as with `python -m`
    pipeline = load_pipeline("modpkg.flows")
    assert pipeline.source == "modpkg.flows:pipeline"
    assert pipeline.tasks[0].fn.__module__ == "modpkg.flows"
    assert load_pipeline("modpkg.flows:pipeline") is pipeline


def test_file_inside_a_package_is_imported_by_its_dotted_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "proj" / "__init__.py", "")
    _write(tmp_path / "proj" / "sub" / "__init__.py", "")
    _write(
        tmp_path / "proj" / "sub" / "jobs.py", "from .helpers import build\n\npipeline = build()\n"
    )
    _write(
        tmp_path / "proj" / "sub" / "helpers.py",
        "def build():\n"
        + textwrap.indent(PIPELINE_SRC.format(name="rel"), "    ")
        + "    return pipeline\n",
    )
    monkeypatch.chdir(tmp_path)
    pipeline = load_pipeline("proj/sub/jobs.py")
    assert pipeline.source == "proj/sub/jobs.py:pipeline"
    assert pipeline.tasks[0].fn.__module__ == "proj.sub.helpers"
    assert sys.modules["proj.sub.jobs"].pipeline is pipeline and str(tmp_path) in sys.path


def test_two_files_with_the_same_name_in_different_folders(tmp_path: Path) -> None:
    one = _write(tmp_path / "one" / "samename_flow.py", PIPELINE_SRC.format(name="one"))
    two = _write(tmp_path / "two" / "samename_flow.py", PIPELINE_SRC.format(name="two"))
    assert load_pipeline(str(one)).name == "one"
    assert load_pipeline(str(two)).name == "two"
    assert load_pipeline(str(two)).name == "two"


def test_errors_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(
        PipelineReferenceError,
        match=r"pipeline file '.*nope.py' does not exist; expected path/to/file.py\[:attr\] or package.module\[:attr\]",
    ):
        load_pipeline(str(tmp_path / "nope.py"))
    with pytest.raises(PipelineReferenceError, match=r"pipeline file '.*' is a folder"):
        load_pipeline(str(tmp_path) + "/")
    txt = _write(tmp_path / "notes.txt", "x")
    with pytest.raises(PipelineReferenceError, match=r"is not a .py file"):
        load_pipeline(str(txt))
    bad = _write(tmp_path / "my-flow.py", "x = 1\n")
    with pytest.raises(
        PipelineReferenceError, match=r"'my-flow' is not a valid module name; rename the file"
    ):
        load_pipeline(str(bad))
    with pytest.raises(PipelineReferenceError, match=r"empty pipeline reference"):
        load_pipeline("  ")


def test_errors_no_pipeline_and_several(pipelines_dir: Path) -> None:
    with pytest.raises(
        PipelineReferenceError,
        match=r"module 'core_empty' defines no Pipeline; define one at module level",
    ):
        load_pipeline(str(pipelines_dir / "core_empty.py"))
    with pytest.raises(
        PipelineReferenceError,
        match=r"module 'core_two' defines several pipelines \(first, second\); choose one with .*core_two.py:<name>",
    ):
        load_pipeline(str(pipelines_dir / "core_two.py"))


def test_errors_bad_attr(pipelines_dir: Path) -> None:
    ref = f"{pipelines_dir}/core_two.py"
    with pytest.raises(
        PipelineReferenceError,
        match=r"module 'core_two' has no attribute 'third'; its pipelines: first, second",
    ):
        load_pipeline(f"{ref}:third")
    with pytest.raises(
        PipelineReferenceError,
        match=r"'a_in' is a Dataset, not a Pipeline; point at a Pipeline or a function",
    ):
        load_pipeline(f"{ref}:a_in")
    with pytest.raises(PipelineReferenceError, match=r"'not_a_pipeline' is an int, not a Pipeline"):
        load_pipeline(f"{ref}:not_a_pipeline")
    with pytest.raises(PipelineReferenceError, match=r"'make_a' is a Task, not a Pipeline"):
        load_pipeline(f"{ref}:make_a")


def test_errors_builder_that_fails(tmp_path: Path) -> None:
    path = _write(tmp_path / "failing_builder.py", "def build(x):\n    return x\n")
    with pytest.raises(
        PipelineReferenceError,
        match=r"calling build\(\) to build the pipeline failed: TypeError: build\(\) missing 1 required",
    ):
        load_pipeline(f"{path}:build")


def test_errors_import_failures(pipelines_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(
        PipelineReferenceError,
        match=r"cannot import '.*core_broken.py': ModuleNotFoundError: No module named 'glacier_no_such_dependency'; fix the error",
    ) as exc:
        load_pipeline(str(pipelines_dir / "core_broken.py"))
    assert isinstance(exc.value.__cause__, ModuleNotFoundError)
    assert "core_broken" not in sys.modules
    syntax = _write(tmp_path / "syntax_oops.py", "def broken(:\n")
    with pytest.raises(PipelineReferenceError, match=r"cannot import .*: SyntaxError"):
        load_pipeline(str(syntax))


def test_errors_unknown_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        PipelineReferenceError,
        match=r"no module named 'nosuchpkg_xyz' \(from 'nosuchpkg_xyz.flows'\); check the spelling",
    ):
        load_pipeline("nosuchpkg_xyz.flows")
    with pytest.raises(PipelineReferenceError, match=r"'not a ref!' is not a pipeline reference"):
        load_pipeline("not a ref!")
    _write(tmp_path / "dep_missing_mod.py", "import glacier_missing_dep_xyz\n")
    with pytest.raises(
        PipelineReferenceError,
        match=r"cannot import 'dep_missing_mod': ModuleNotFoundError: No module named 'glacier_missing_dep_xyz'",
    ):
        load_pipeline("dep_missing_mod")


def test_glacier_errors_in_the_module_pass_through(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad_dataset_flow.py", "from glacier import Dataset\n\nbad = Dataset('Bad')\n"
    )
    with pytest.raises(DefinitionError, match=r"Dataset name 'Bad' is invalid"):
        load_pipeline(str(path))


def test_file_shadowing_an_imported_module_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "json.py", PIPELINE_SRC.format(name="j"))
    with pytest.raises(
        PipelineReferenceError,
        match=r"would be imported as module 'json', but that name is already the module .*json.*; rename the file",
    ):
        load_pipeline(str(path))


def test_loaded_pipeline_is_a_pipeline(pipelines_dir: Path) -> None:
    assert isinstance(load_pipeline(str(pipelines_dir / "core_plain.py")), Pipeline)
