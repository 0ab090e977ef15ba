"""The public contract (datasets, tasks, pipelines, storage, resources, command line), checked
as a user meets them: forms that must work, and the errors (class and message) for the slips a
user makes.

This module uses ``from __future__ import annotations``, so every annotation below is a
string that ``@task`` resolves at decoration time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline, Secret, compute, task
from glacier.cli import main
from glacier.errors import CycleError, DefinitionError, PipelineReferenceError, ResourceError
from glacier.ir import from_json, to_json
from glacier.loader import load_pipeline
from glacier.storage import LocalFS, ObjectStorage

raw = Dataset("raw")
out = Dataset("out")

# -- tasks ------------------------------------------------------------------------------------


def test_positional_only_parameters_are_refused_at_decoration() -> None:
    # Tasks are called with keyword arguments; a '/' used to fail only when the pipeline ran.
    with pytest.raises(
        DefinitionError, match=r"parameter 'data' is positional-only; .*remove the '/'"
    ):

        @task()
        def f(data: raw, /, k: int = 3) -> out:
            return data


@pytest.mark.parametrize("kind", ["async", "generator"])
def test_async_and_generator_functions_are_refused(kind: str) -> None:
    if kind == "async":

        async def f(data: raw) -> out:
            return data

        pattern = r"task 'f' \(.*\) is an async function; a task must be a plain function"
    else:

        def f(data: raw) -> out:  # type: ignore[misc]
            yield data

        pattern = r"task 'f' \(.*\) is a generator function .*; a task must be a plain function"
    with pytest.raises(DefinitionError, match=pattern):
        task(f)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"description": 5}, r"task 'f': description must be a str, found 5"),
        ({"timeout": True}, r"task 'f': timeout must be a number of seconds > 0, found True"),
        (
            {"depends_on": None},
            r"task 'f': depends_on must be a list of Task objects, found None; e\.g\. depends_on=\[",
        ),
        ({"depends_on": {"a": 1}}, r"depends_on must be a list of Task objects, found \{'a': 1\}"),
        ({"depends_on": 3}, r"depends_on must be a list of Task objects, found 3"),
    ],
)
def test_bad_task_options_are_definition_errors(kwargs: dict[str, Any], pattern: str) -> None:
    def f(data: raw) -> out:
        return data

    with pytest.raises(DefinitionError, match=pattern):
        task(**kwargs)(f)


def test_annotation_that_cannot_be_evaluated_is_a_definition_error() -> None:
    # Under `from __future__ import annotations` these only fail when @task evaluates them;
    # they used to escape as a bare TypeError / AttributeError.
    with pytest.raises(
        DefinitionError,
        match=r"task 'f' \(.*\): cannot evaluate the annotation of 'data', 'raw \| None': "
        r"TypeError: unsupported operand",
    ):

        @task()
        def f(data: raw | None = None) -> out:  # type: ignore[operator]
            return data

    with pytest.raises(
        DefinitionError,
        match=r"task 'g' \(.*\): cannot evaluate the return annotation, 'Annotated\[pl\.LazyFrme, out\]': "
        r"AttributeError: .*LazyFrme",
    ):

        @task()
        def g(data: raw) -> Annotated[pl.LazyFrme, out]:  # type: ignore[name-defined]
            return data


def test_quoted_annotation_in_a_future_module_resolves() -> None:
    @task()
    def f(data: "raw") -> "out":  # noqa: UP037
        return data

    assert [i.dataset for i in f.inputs] == [raw] and f.outputs == (out,)


def test_same_dataset_in_and_out_is_a_cycle_error() -> None:
    with pytest.raises(
        CycleError, match=r"'raw' is both an input and an output .* a cycle: f -> f"
    ):

        @task()
        def f(data: raw) -> raw:
            return data


# -- datasets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "example"),
    [
        (pl.List, r"pl\.List\(pl\.Int64\)"),
        (pl.Array, r"pl\.Array\(pl\.Int64, 3\)"),
        (pl.Struct, r"pl\.Struct\("),
        (pl.Enum, r"pl\.Enum\("),
    ],
)
def test_parametrised_dtype_without_parameters_names_the_column(dtype: Any, example: str) -> None:
    pattern = (
        rf"Dataset 'a' column 'c': pl\.{dtype.__name__} needs its parameters, e\.g\. {example}"
    )
    with pytest.raises(DefinitionError, match=pattern):
        Dataset("a", schema={"c": dtype})


# -- pipelines --------------------------------------------------------------------------------


def _extract() -> Any:
    @task()
    def extract() -> raw:
        return pl.LazyFrame({"a": [1]})

    return extract


@pytest.mark.parametrize(
    ("tasks", "pattern"),
    [
        (
            "analytics",
            r"Pipeline\('analytics'\): the first argument is the list of tasks.*Pipeline\(name='analytics'\)",
        ),
        (None, r"pipeline 'pipeline': tasks must be a list of Tasks, found None"),
        (
            "task",
            r"tasks must be a list of Tasks, found <Task extract.*e\.g\. Pipeline\(\[extract\]\)",
        ),
    ],
)
def test_pipeline_tasks_argument_slips(tasks: Any, pattern: str) -> None:
    if tasks == "task":
        tasks = _extract()
    with pytest.raises(DefinitionError, match=pattern):
        Pipeline(tasks)


def test_upstream_of_something_that_is_not_a_task_or_dataset() -> None:
    pipeline = Pipeline([_extract()])
    with pytest.raises(
        DefinitionError, match=r"pipeline 'pipeline': expected a Task, a Dataset or a name, found 3"
    ):
        pipeline.upstream(3)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match=r"expected a Task, a Dataset or a name, found None"):
        pipeline.downstream(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("99 2 * * *", r"minute 99 is out of range \(0-59\)"),
        ("0 24 * * *", r"hour 24 is out of range \(0-23\)"),
        ("0 0 0 * *", r"day-of-month 0 is out of range \(1-31\)"),
        ("0 0 1,32 * *", r"day-of-month 32 is out of range \(1-31\)"),
        ("0 0 * 13 *", r"month 13 is out of range \(1-12\)"),
        ("0 0 * * 1-8", r"day-of-week 8 is out of range \(0-7\)"),
    ],
)
def test_schedule_values_out_of_range(schedule: str, problem: str) -> None:
    pattern = rf"pipeline 'p': schedule '.*' is not a cron expression \({problem}\); expected five"
    with pytest.raises(DefinitionError, match=pattern):
        Pipeline(name="p", schedule=schedule)


@pytest.mark.parametrize(
    "schedule", ["59 23 31 12 7", "*/90 * * * *", "0 0 * * MON#2", "0 0 15W * *", "0 0 L * 5L"]
)
def test_schedule_edge_values_are_accepted(schedule: str) -> None:
    assert Pipeline(name="p", schedule=schedule).schedule == schedule


# -- storage ----------------------------------------------------------------------------------


def test_localfs_takes_a_path_positionally_or_by_keyword(tmp_path: Path) -> None:
    assert LocalFS(base_path=tmp_path).base_path == str(tmp_path)
    assert LocalFS(tmp_path) == LocalFS(base_path=tmp_path) == LocalFS(str(tmp_path))
    assert Dataset("d", storage=LocalFS(base_path=tmp_path)).storage == LocalFS(str(tmp_path))


# -- command line -----------------------------------------------------------------------------


def test_graph_output_that_cannot_be_written_is_one_line(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path, tmp_path: Path
) -> None:
    ref = str(pipelines_dir / "core_plain.py")
    code = main(["graph", ref, "--output", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 1
    assert err == f"error: cannot write {tmp_path}: it is a folder; pass a file path\n"
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["graph", ref, "--output", str(blocker / "g.mmd")])
    _, err = capsys.readouterr()
    assert code == 1 and err.startswith(f"error: cannot write {blocker / 'g.mmd'}: ")
    assert "internal error" not in err and err.count("\n") == 1


def test_spec_made_at_import_carries_the_loaded_reference(tmp_path: Path) -> None:
    # A module that draws or checks its pipeline at import caches spec() before the loader
    # sets `source`; the IR (and so the cloud runtime's way back to the code) must have it.
    (tmp_path / "drawn_at_import.py").write_text(
        "from glacier import Dataset, Pipeline\n"
        "a, b = Dataset('a'), Dataset('b')\n"
        "pipeline = Pipeline(name='drawn')\n"
        "@pipeline.task()\n"
        "def t(x: a) -> b:\n"
        "    return x\n"
        "GRAPH = pipeline.visualize('text')\n"
    )
    pipeline = load_pipeline(str(tmp_path / "drawn_at_import.py"))
    assert pipeline.source is not None and pipeline.source.endswith("drawn_at_import.py:pipeline")
    assert pipeline.spec().source == pipeline.source


_retrying = task(retries=1)  # made at module level, applied inside the builder below


def test_annotations_resolve_where_the_decorator_is_applied() -> None:
    # annotations are resolved when the task is decorated, against the defining scope
    def build() -> Pipeline:
        pipeline = Pipeline(name="built")
        register = pipeline.task(retries=2)  # made before the Datasets exist
        first, second, third = Dataset("first"), Dataset("second"), Dataset("third")

        @_retrying
        def one(x: first) -> second:
            return x

        @register
        def two(x: second) -> third:
            return x

        pipeline.add(one)
        return pipeline

    pipeline = build()
    assert [(t.name, t.retries) for t in pipeline.tasks] == [("one", 1), ("two", 2)]
    assert [d.name for d in pipeline.sources] == ["first"]


def test_graph_text_format_with_an_image_output_is_refused(
    capsys: pytest.CaptureFixture[str], pipelines_dir: Path, tmp_path: Path
) -> None:
    # It used to write an SVG, silently ignoring the --format the user asked for.
    target = tmp_path / "g.svg"
    code = main(
        ["graph", str(pipelines_dir / "core_plain.py"), "--format", "text", "-o", str(target)]
    )
    _, err = capsys.readouterr()
    assert code == 1 and not target.exists()
    assert err == (
        f"error: --format text asks for text, but --output {target} is an image (.svg is rendered "
        "by Graphviz); drop --format, or write the text to a file ending in .mmd, .dot or .txt\n"
    )


@pytest.mark.parametrize(
    "value", [float("nan"), float("-inf"), [1.0, float("inf")], {1: "a"}, {"a": (1,)}]
)
def test_param_defaults_json_cannot_carry_are_refused(value: Any) -> None:
    # NaN and int keys used to reach the IR, whose JSON then did not round-trip; a nested
    # tuple failed only at spec(), with pydantic's ValueError.
    def f(data: raw, k: Any = value) -> out:
        return data

    with pytest.raises(
        DefinitionError, match=r"parameter 'k' has default .*; task parameter defaults must be JSON"
    ):
        task(f)


def test_param_defaults_round_trip_through_the_ir() -> None:
    @task()
    def f(data: raw, nested: Any = {"a": [1, 2.5, None, True, "x"]}) -> out:  # noqa: B006
        return data

    assert f.params[0].default == {"a": [1, 2.5, None, True, "x"]}
    spec = Pipeline([f]).spec()
    assert from_json(to_json(spec)) == spec


@pytest.mark.parametrize("value", [float("nan"), [float("inf")]])
def test_metadata_json_cannot_carry_is_refused(value: Any) -> None:
    with pytest.raises(
        DefinitionError,
        match=r"Dataset 'a': metadata values must be JSON values \(str, finite number, .*\): Out of range float",
    ):
        Dataset("a", metadata={"x": value})


# -- resource errors (compute and storage) ----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: compute.serverless(memory=0),
            "Serverless: memory must be an int greater than 0, found 0",
        ),
        (
            lambda: ObjectStorage(colour="blue"),
            "ObjectStorage: got an unexpected keyword argument 'colour'; ObjectStorage takes: "
            "access_pattern, aws_storage_class, gcp_storage_class, azure_tier, versioning, retention_days",
        ),
        (
            lambda: ObjectStorage(azure_tier="Frozen"),
            "ObjectStorage: azure_tier: Azure has no tier 'Frozen'; expected one of Hot, Cool, Cold, Archive",
        ),
        (
            lambda: Secret("bad name!"),
            "Secret: secret must be a secret name of 1-128 letters, digits and /_+=.@- starting "
            "with a letter or digit, found 'bad name!'",
        ),
    ],
)
def test_bad_resource_arguments_are_glacier_errors(make: Any, message: str) -> None:
    # They used to be bare pydantic ValidationErrors, which `except GlacierError` missed.
    with pytest.raises(DefinitionError) as caught:
        make()
    assert str(caught.value) == message
    assert isinstance(caught.value, ResourceError) and isinstance(caught.value, ValueError)


def test_bad_resource_in_a_pipeline_module_is_one_clear_cli_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = tmp_path / "bad_memory.py"
    module.write_text(
        "from glacier import Dataset, Pipeline, compute\n"
        "pipeline = Pipeline(name='p')\n"
        "@pipeline.task(compute=compute.serverless(memory=0))\n"
        "def t(x: Dataset('a')) -> Dataset('b'):\n"
        "    return x\n"
    )
    assert main(["validate", str(module)]) == 1
    _, err = capsys.readouterr()
    assert err == "error: Serverless: memory must be an int greater than 0, found 0\n"


def test_invalid_function_name_says_how_to_name_the_task() -> None:
    def Extract() -> None:
        return None

    with pytest.raises(
        DefinitionError,
        match=r"Task name 'Extract' \(the function's name; rename it or pass task\(name=\.\.\.\)\) "
        r"is invalid: expected 1-63 .*; try 'extract'",
    ):
        task(Extract)


def test_file_reference_without_py_suggests_the_file(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text("")
    with pytest.raises(
        PipelineReferenceError,
        match=rf"pipeline file '{re.escape(str(tmp_path))}/flow' does not exist "
        rf"\(did you mean '{re.escape(str(tmp_path))}/flow\.py'\?\); expected path/to/file\.py",
    ):
        load_pipeline(f"{tmp_path}/flow")
