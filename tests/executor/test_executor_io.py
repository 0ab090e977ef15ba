"""glacier.io, glacier.writes and glacier.invoke (shared with the cloud runtime), formats, schemas."""

from __future__ import annotations

from pathlib import Path

import executor_pipelines as samples
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Dataset, task
from glacier.compilation.layout import dataset_uri
from glacier.errors import SchemaError, TaskFailedError
from glacier.invoke import call_task
from glacier.io import scan_dataset
from glacier.ir import DatasetIR
from glacier.writes import prepare_write, write_dataset

FORMATS = ["parquet", "csv", "ndjson", "ipc", "delta"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_round_trips_through_a_run(workdir, orders, customers, fmt):
    result = samples.analytics("out", fmt=fmt).run(
        inputs={"orders": orders, "customers": customers}
    )
    ext = {"ipc": "arrow"}.get(fmt, fmt)
    assert result.path("by_region") == str(Path("out") / f"by_region.{ext}")
    expected = samples.eager_reference(orders, customers)["by_region"]
    assert_frame_equal(result["by_region"].collect(), expected)
    assert result.tasks["region_totals"].rows == expected.height


def test_dataset_uri_for_folders_and_urls():
    ds = DatasetIR(name="sales", format="ipc")
    assert dataset_uri(ds, "data/") == "data/sales.arrow"
    assert dataset_uri(ds, "s3://bucket/prefix") == "s3://bucket/prefix/sales.arrow"


def test_write_dataset_is_atomic_when_the_stream_fails_midway(tmp_path):
    ds = DatasetIR(name="big")
    uri = str(tmp_path / "big.parquet")
    write_dataset(ds, pl.DataFrame({"id": [1]}), uri)

    def fail_late(batch: pl.DataFrame) -> pl.DataFrame:
        if batch["id"].max() > 150_000:
            raise RuntimeError("crash mid-write")
        return batch

    frame = pl.LazyFrame({"id": range(300_000)}).map_batches(fail_late, streamable=True)
    pending = prepare_write(ds, frame, uri)
    assert pending.temp is not None and Path(pending.temp).parent == tmp_path
    with pytest.raises(Exception, match="crash mid-write"):
        pl.collect_all([pending.sink])  # type: ignore[list-item]
    pending.abort()  # what the executor does: any partial temporary file goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet"]
    assert pl.read_parquet(uri)["id"].to_list() == [1]  # the old version is intact


def test_schema_mismatch_names_dataset_column_expected_and_found(tmp_path):
    ds = Dataset("typed", schema={"id": pl.Int64, "amount": pl.Float64}).to_ir()
    uri = str(tmp_path / "typed.parquet")
    with pytest.raises(
        SchemaError, match=r"dataset 'typed' .* column 'amount': expected Float64, found String"
    ):
        write_dataset(ds, pl.DataFrame({"id": [1], "amount": ["x"]}), uri)
    with pytest.raises(
        SchemaError, match=r"column 'amount': expected Float64, found no such column"
    ):
        write_dataset(ds, pl.DataFrame({"id": [1]}), uri)
    with pytest.raises(SchemaError, match=r"unexpected columns \['extra'\]"):
        write_dataset(ds, pl.DataFrame({"id": [1], "amount": [1.0], "extra": [1]}), uri)
    assert list(tmp_path.iterdir()) == []
    written = write_dataset(ds, pl.DataFrame({"amount": [1.0], "id": [1]}), uri)
    assert written.rows == 1 and pl.read_parquet(uri).columns == ["id", "amount"]


def test_pydantic_non_optional_columns_must_hold_no_nulls(workdir):
    bad = pl.DataFrame({"id": [1, None], "amount": [1.0, 2.0], "note": [None, "x"]})
    with pytest.raises(
        TaskFailedError, match=r"dataset 'checked' column 'id': expected no nulls.*found 1 null"
    ) as info:
        samples.typed("out").run(inputs={"src": bad})
    assert isinstance(info.value.__cause__, SchemaError)
    assert not Path("out").exists() or list(Path("out").iterdir()) == []
    # a schema violation raises SchemaError, also from pipeline.run()
    with pytest.raises(SchemaError, match=r"task 'check' failed: .*dataset 'checked'") as caught:
        samples.typed("out").run(inputs={"src": bad})
    assert isinstance(caught.value, TaskFailedError) and caught.value.task == "check"
    assert caught.value.result.tasks["check"].status == "failed"
    good = bad.with_columns(pl.col("id").fill_null(0))  # null in Optional `note` is fine
    assert samples.typed("out").run(inputs={"src": good}).tasks["check"].rows == 2


def test_scan_dataset_reads_each_format(tmp_path):
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for fmt in FORMATS:
        ds = DatasetIR(name="t", format=fmt)  # type: ignore[arg-type]
        uri = dataset_uri(ds, str(tmp_path))
        assert write_dataset(ds, frame.lazy(), uri).rows == 2
        assert_frame_equal(scan_dataset(ds, uri).collect(), frame)


raw_in = Dataset("raw_in")
out_one = Dataset("out_one")
out_two = Dataset("out_two")


def test_call_task_binds_inputs_params_and_checks_outputs():
    from typing import Annotated

    @task
    def both(df: Annotated[pl.DataFrame, raw_in], k: int = 1) -> tuple[out_one, out_two]:
        assert isinstance(df, pl.DataFrame)
        return df.head(k), df.lazy()

    got = call_task(both, {"raw_in": pl.LazyFrame({"a": [1, 2, 3]})}, {"k": 2})
    assert set(got) == {"out_one", "out_two"} and got["out_one"].height == 2  # type: ignore[union-attr]

    @task
    def wrong(df: raw_in) -> tuple[out_one, out_two]:
        return df

    with pytest.raises(
        TaskFailedError,
        match=r"task 'wrong' must return a tuple of 2 frames \(out_one, out_two\), found a polars",
    ):
        call_task(wrong, {"raw_in": pl.LazyFrame({"a": [1]})})

    @task
    def not_frame(df: raw_in) -> out_one:
        return [1]

    with pytest.raises(
        TaskFailedError,
        match=r"output 'out_one': expected a pl.LazyFrame or pl.DataFrame, found a list of 1",
    ):
        call_task(not_frame, {"raw_in": pl.LazyFrame({"a": [1]})})
