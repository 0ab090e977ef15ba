"""The cloud runtime checks a source's declared schema when a task reads it, as local runs do."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from glacier import Dataset, Pipeline, task
from glacier.errors import SchemaError
from glacier.runtime import run_task
from glacier.storage import ObjectStorage


def _pipeline(calls: list[str]) -> Pipeline:
    raw = Dataset("raw", storage=ObjectStorage(), schema={"x": pl.Int64})
    out = Dataset("out", storage=ObjectStorage())

    @task()
    def double(data: raw) -> out:
        calls.append("double")
        return data.with_columns(y=pl.col("x") * 2)

    return Pipeline([double], name="sources")


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (pl.DataFrame({"x": ["1"]}), r"column 'x': expected Int64, found String"),
        (pl.DataFrame({"z": [1]}), r"column 'x': expected Int64, found no such column"),
    ],
)
def test_a_source_breaking_its_schema_fails_before_the_task_is_called(tmp_path, frame, problem):
    frame.write_parquet(tmp_path / "raw.parquet")
    locations = {"raw": str(tmp_path / "raw.parquet"), "out": str(tmp_path / "out.parquet")}
    calls: list[str] = []
    pipeline = _pipeline(calls)
    msg = rf"source dataset 'raw' \(at .*raw.parquet, read by task 'double'\) .*{problem}"
    with pytest.raises(SchemaError, match=msg):
        run_task(pipeline.spec(), "double", locations, run_id="r1", pipeline=pipeline)
    assert calls == [] and not Path(locations["out"]).exists()


def test_a_source_matching_its_schema_is_read(tmp_path):
    pl.DataFrame({"x": [1, 2]}).write_parquet(tmp_path / "raw.parquet")
    locations = {"raw": str(tmp_path / "raw.parquet"), "out": str(tmp_path / "out.parquet")}
    calls: list[str] = []
    pipeline = _pipeline(calls)
    report = run_task(pipeline.spec(), "double", locations, run_id="r1", pipeline=pipeline)
    assert report["rows"] == 2 and calls == ["double"]
