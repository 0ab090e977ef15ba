"""run_task writing to an object store (moto's S3): a task failing midway changes no object."""

from __future__ import annotations

import io

import polars as pl
import pytest

from glacier import Dataset, Pipeline, task
from glacier.runtime import run_task
from glacier.storage import ObjectStorage

pytestmark = pytest.mark.slow

ROWS = 100_000


def _pipeline() -> Pipeline:
    src = Dataset("src", storage=ObjectStorage())
    good = Dataset("good", storage=ObjectStorage())
    kept = Dataset("kept", storage=ObjectStorage())

    @task()
    def fail_late(data: src) -> tuple[good, kept]:
        # the last rows fail to parse: Polars has streamed most of the rows out by then
        late = pl.when(pl.col("x") > ROWS - 10).then(pl.lit("z")).otherwise(pl.lit("1"))
        return data, data.select(pl.col("x"), boom=late.str.to_integer())

    return Pipeline([fail_late], name="remote-writes")


def _put(s3, bucket: str, key: str, frame: pl.DataFrame) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def test_a_task_failing_midway_leaves_every_object_as_it_was(s3, storage_options) -> None:  # type: ignore[no-untyped-def]
    s3.create_bucket(Bucket="remote-writes")
    _put(s3, "remote-writes", "src.parquet", pl.DataFrame({"x": list(range(ROWS))}))
    yesterday = pl.DataFrame({"x": [7] * 5, "boom": [1] * 5})
    _put(s3, "remote-writes", "kept.parquet", yesterday)
    pipeline = _pipeline()
    locations = {n: f"s3://remote-writes/{n}.parquet" for n in ("src", "good", "kept")}

    with pytest.raises(pl.exceptions.ComputeError, match="strict integer parsing failed"):
        run_task(
            pipeline.spec(),
            "fail_late",
            locations,
            run_id="r1",
            pipeline=pipeline,
            storage_options=storage_options,
        )

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="remote-writes")["Contents"])
    assert keys == ["kept.parquet", "src.parquet"]  # no `good` written by a failed task
    body = s3.get_object(Bucket="remote-writes", Key="kept.parquet")["Body"].read()
    assert pl.read_parquet(io.BytesIO(body)).equals(yesterday)  # not partial rows, not empty
