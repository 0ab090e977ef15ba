"""Atomic writes under failed multi-sink queries, remote formats, bytes reporting, input paths."""

from __future__ import annotations

import os
import time
from pathlib import Path

import executor_pipelines as samples
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import BaseModel

from glacier import Dataset, LocalExecutor, Pipeline
from glacier.errors import InputError
from glacier.executor.result import RunResult, TaskResult
from glacier.io import exists, scan_dataset
from glacier.ir import DatasetIR
from glacier.writes import WriteResult, prepare_write, write_dataset
from glacier_aws.storage import S3


def _fail_late(batch: pl.DataFrame) -> pl.DataFrame:
    if batch["id"].max() >= 50_000:
        raise RuntimeError("disk on fire")
    return batch


def _settled_listing(folder: Path, seconds: float = 0.3) -> list[str]:
    """The folder's names once any sink Polars left running had time to create files."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        names = sorted(p.name for p in folder.iterdir())
        if names:
            return names
        time.sleep(0.01)
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.slow  # 15 rounds of a race, each waiting for late sinks to settle: ~5 s
def test_a_failed_multi_sink_query_leaves_nothing_even_when_sinks_finish_late(tmp_path):
    """Polars returns a sink's error while sibling sinks still write; none may leave a file.

    Before temporary folders this left a file in roughly a third of the rounds.
    """
    src = pl.LazyFrame({"id": range(100_000)})
    for round_ in range(15):
        folder = tmp_path / f"round{round_}"
        frames = {
            "even": src.filter(pl.col("id") % 2 == 0),
            "bad": src.map_batches(_fail_late, streamable=True),
            "count": src.select(pl.len()),
        }
        writes = [
            prepare_write(DatasetIR(name=n), f, str(folder / f"{n}.parquet"))
            for n, f in frames.items()
        ]
        with pytest.raises(Exception, match="disk on fire"):
            pl.collect_all([w.sink for w in writes if w.sink is not None])
        for w in writes:
            w.abort()
        assert _settled_listing(folder) == [], f"round {round_}"


def test_temporary_folders_of_a_dead_writer_are_swept(tmp_path):
    uri = tmp_path / "t.parquet"
    stale = tmp_path / ".t.parquet.0123456789ab.tmp"
    stale.mkdir()
    (stale / "t.parquet").write_bytes(b"partial")
    written = write_dataset(DatasetIR(name="t"), pl.DataFrame({"id": [1, 2]}), str(uri))
    assert written.bytes == uri.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]


class Order(BaseModel):
    id: int
    amount: float


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet", "ipc"])
def test_remote_write_of_a_non_nullable_schema_in_each_format(s3_options, fmt):
    """Nulls are checked on the collected frame, then uploaded (no write_ndjson options)."""
    ds = Dataset("typed", schema=Order, format=fmt).to_ir()  # type: ignore[arg-type]
    uri = f"s3://lake/typed/{fmt}/typed.{ds.extension}"
    frame = pl.DataFrame({"id": [1, 2], "amount": [1.5, 2.5]})
    written = write_dataset(ds, frame, uri, s3_options)
    assert written.rows == 2 and written.bytes is None  # Polars reports no object size
    assert_frame_equal(scan_dataset(ds, uri, s3_options).collect(), frame)
    assert exists(uri, s3_options, ds.format)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_remote_text_source_is_found_in_its_storage(workdir, orders, s3_options, fmt):
    """A csv/ndjson object is not parquet: probing it as parquet called it missing."""
    raw = Dataset("raw", storage=S3("lake", prefix=f"src-{fmt}/"), format=fmt)  # type: ignore[arg-type]
    out = Dataset("out", storage=S3("lake", prefix=f"src-{fmt}/"))
    p = Pipeline(name=f"text_{fmt}")

    @p.task()
    def copy(r: raw) -> out:
        return r.select("id", "amount")

    getattr(orders.lazy(), f"sink_{fmt}")(
        f"s3://lake/src-{fmt}/raw.{fmt}", storage_options=s3_options
    )
    result = LocalExecutor(storage="remote", storage_options={"aws": s3_options}).run(p)
    assert result["out"].collect().height == orders.height


def lake(prefix: str, fmt: str = "parquet") -> Pipeline:
    raw = Dataset("raw")
    summary = Dataset("summary", storage=S3("lake", prefix=prefix), format=fmt)  # type: ignore[arg-type]
    p = Pipeline(name="lake_bytes")

    @p.task()
    def summarize(r: raw) -> summary:
        return r.group_by("customer").agg(pl.col("amount").sum()).sort("customer")

    return p


@pytest.mark.slow
def test_s3_parquet_bytes_are_unknown_and_shown_as_a_dash(workdir, orders, s3_options):
    executor = LocalExecutor(storage="remote", storage_options={"aws": s3_options})
    result = executor.run(lake("bytes/"), inputs={"raw": orders})
    summary = result.tasks["summarize"]
    assert summary.bytes is None and summary.rows > 0
    row = dict((r[0], r) for r in result.summary_rows())["summarize"]
    assert row[4] == "-"


@pytest.mark.slow
def test_s3_delta_bytes_are_measured_from_the_table(workdir, orders, s3_options):
    options = {**s3_options, "aws_s3_allow_unsafe_rename": "true"}
    executor = LocalExecutor(storage="remote", storage_options={"aws": options})
    result = executor.run(lake("bytes-delta/", "delta"), inputs={"raw": orders})
    assert (result.tasks["summarize"].bytes or 0) > 0


def test_task_bytes_become_unknown_when_any_output_is_unknown():
    task = TaskResult("t")
    task.record(WriteResult("a.parquet", 1, 10), "a")
    assert task.bytes == 10
    task.record(WriteResult("s3://b/b.parquet", 1, None), "b")
    assert task.bytes is None and task.rows == 2
    assert RunResult("p", {"t": task}).summary_rows()[0][4] == "-"


def test_path_of_an_input_given_as_a_path_is_that_path(workdir, orders, customers):
    orders.write_parquet("orders_in.parquet")
    result = samples.analytics("out").run(
        inputs={"orders": "orders_in.parquet", "customers": customers}
    )
    assert result.path("orders") == "orders_in.parquet"
    assert os.path.exists(result.path("orders") or "")
    assert_frame_equal(result["orders"].collect(), orders)
    with pytest.raises(
        InputError, match=r"dataset 'customers' was given to run\(\) as an in-memory frame"
    ):
        result.path("customers")
    assert_frame_equal(result["customers"].collect(), customers)


def test_tasks_that_wrote_nothing_show_dashes_not_zeros():
    wrote = TaskResult("wrote", status="succeeded")
    wrote.record(WriteResult("a.parquet", 0, 10), "a")  # an empty dataset really has 0 rows
    rows = RunResult("p", {"wrote": wrote, "skipped": TaskResult("skipped", status="skipped")})
    assert [r[3:] for r in rows.summary_rows()] == [("0", "10 B"), ("-", "-")]


@pytest.mark.slow
def test_a_remote_run_whose_query_fails_midway_keeps_yesterdays_objects(workdir, s3_options):
    """A Polars sink to an object store finishes its upload even when the query fails; a
    remote run computes first, so the previous objects stay whole (writes are atomic)."""
    rows = 100_000
    src = Dataset("src", storage=S3("lake", prefix="midway/"))
    good = Dataset("good", storage=S3("lake", prefix="midway/"))
    kept = Dataset("kept", storage=S3("lake", prefix="midway/"))
    p = Pipeline(name="midway")

    @p.task()
    def fail_late(data: src) -> tuple[good, kept]:
        late = pl.when(pl.col("x") > rows - 10).then(pl.lit("z")).otherwise(pl.lit("1"))
        return data, data.select(pl.col("x"), boom=late.str.to_integer())

    pl.DataFrame({"x": list(range(rows))}).write_parquet(
        "s3://lake/midway/src.parquet", storage_options=s3_options
    )
    yesterday = pl.DataFrame({"x": [7] * 5, "boom": [1] * 5})
    yesterday.write_parquet("s3://lake/midway/kept.parquet", storage_options=s3_options)
    remote = LocalExecutor(storage="remote", storage_options={"aws": s3_options})
    with pytest.raises(Exception, match="strict integer parsing failed"):
        remote.run(p)
    assert not exists("s3://lake/midway/good.parquet", s3_options, "parquet")
    kept_now = pl.read_parquet("s3://lake/midway/kept.parquet", storage_options=s3_options)
    assert_frame_equal(kept_now, yesterday)  # not partial rows, not empty
