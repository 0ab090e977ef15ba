"""glacier.runtime.run_task on local paths: the provider-neutral part of the cloud runtime."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from glacier import Dataset, Pipeline, task
from glacier.errors import DefinitionError, InputError, PipelineReferenceError, SchemaError
from glacier.runtime import run_task
from glacier.storage import ObjectStorage


def _pipeline() -> Pipeline:
    raw = Dataset("raw", storage=ObjectStorage())
    out = Dataset("out", storage=ObjectStorage(), schema={"x": pl.Int64, "y": pl.Int64})

    @task()
    def double(data: raw, factor: int = 2, bad: bool = False) -> out:
        result = data.with_columns(y=pl.col("x") * factor)
        return result.with_columns(pl.col("y").cast(pl.String)) if bad else result

    return Pipeline([double], name="runner")


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Pipeline, dict[str, str]]:
    pl.DataFrame({"x": [1, 2, 3]}).write_parquet(tmp_path / "raw.parquet")
    locations = {
        "raw": str(tmp_path / "raw.parquet"),
        "out": str(tmp_path / "runs" / "{run_id}" / "out.parquet"),
    }
    return _pipeline(), locations


def test_run_task_reads_calls_writes_and_reports(setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pipeline, locations = setup
    report = run_task(
        pipeline.spec(), "double", locations, run_id="r1", pipeline=pipeline, params={"factor": 10}
    )
    written = tmp_path / "runs" / "r1" / "out.parquet"
    assert report["task"] == "double" and report["run_id"] == "r1"
    assert report["status"] == "succeeded"
    assert report["rows"] == 3 and report["bytes"] == written.stat().st_size > 0
    assert report["outputs"] == {"out": str(written)}
    assert report["datasets"]["out"]["rows"] == 3
    assert pl.read_parquet(written)["y"].to_list() == [10, 20, 30]


def test_schema_violation_writes_nothing(setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pipeline, locations = setup
    with pytest.raises(SchemaError, match=r"dataset 'out' .*'y'"):
        run_task(
            pipeline.spec(),
            "double",
            locations,
            run_id="r2",
            pipeline=pipeline,
            params={"bad": True},
        )
    folder = tmp_path / "runs" / "r2"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_run_task_errors_name_what_is_wrong(setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pipeline, locations = setup
    spec = pipeline.spec()
    with pytest.raises(
        DefinitionError, match=r"pipeline 'runner' has no task 'nope'; its tasks: double"
    ):
        run_task(spec, "nope", locations, run_id="r", pipeline=pipeline)
    with pytest.raises(
        InputError, match=r"task 'double': no location for dataset 'out'; locations given for: raw"
    ):
        run_task(spec, "double", {"raw": locations["raw"]}, run_id="r", pipeline=pipeline)
    missing = {**locations, "raw": str(tmp_path / "absent.parquet")}
    with pytest.raises(
        InputError,
        match=r"cannot read input dataset 'raw' at .*absent\.parquet .*; upload it there",
    ):
        run_task(spec, "double", missing, run_id="r", pipeline=pipeline)
    with pytest.raises(ValueError, match=r"run id '' is invalid"):
        run_task(spec, "double", locations, run_id="", pipeline=pipeline)


def test_code_that_no_longer_matches_the_manifest_is_refused(setup) -> None:  # type: ignore[no-untyped-def]
    pipeline, locations = setup
    other = Dataset("other")

    @task(name="double")
    def changed(data: other) -> Dataset(
        "out", storage=ObjectStorage(), schema={"x": pl.Int64, "y": pl.Int64}
    ):  # type: ignore[valid-type]
        return data

    with pytest.raises(
        DefinitionError,
        match=r"task 'double': the bundled code reads \['other'\] .* manifest says it reads \['raw'\] .*recompile",
    ):
        run_task(
            pipeline.spec(),
            "double",
            locations,
            run_id="r",
            pipeline=Pipeline([changed], name="runner"),
        )


def test_tasks_inside_functions_need_a_ref(setup) -> None:  # type: ignore[no-untyped-def]
    pipeline, locations = setup
    with pytest.raises(
        PipelineReferenceError,
        match=r"task 'double' .*<locals>.* is defined inside a function.*compile from a REF",
    ):
        run_task(pipeline.spec(), "double", locations, run_id="r")


def test_a_long_object_store_error_keeps_its_http_status() -> None:
    from glacier.runtime.runner import _first_line

    # retry details of varying length come before the status in Polars' messages
    for padding in (10, 200, 400):
        exc = OSError(f"Generic S3 error: {'x' * padding} after 2 retries: 403 Forbidden <Error>")
        line = _first_line(exc)
        assert len(line) <= 240 and "403 Forbidden" in line
    assert _first_line(OSError("short 404 Not Found")) == "short 404 Not Found"
    assert _first_line(OSError("y" * 300)) == "y" * 237 + "..."
