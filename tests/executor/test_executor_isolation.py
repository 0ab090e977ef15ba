"""Tasks never see each other's changes to a shared input nor change the caller's frames;
sources are checked against their declared schemas before any task runs; only failures that
can succeed when tried again are retried."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import pytest
from pydantic import BaseModel

from glacier import Dataset, LocalExecutor, Pipeline
from glacier.errors import (
    DefinitionError,
    InputError,
    SchemaError,
    TaskFailedError,
    TaskSchemaError,
    WriteConflictError,
    is_retryable,
)
from glacier.storage import ObjectStorage

ORIGINAL = pl.DataFrame({"id": [1, 2, 3], "amount": [10.0, 20.0, 30.0]})


def _siblings(mutate) -> Pipeline:  # type: ignore[no-untyped-def]
    """``changer`` changes its DataFrame input, then ``keeper`` returns its own unchanged."""
    src = Dataset("src")
    changed, kept = (Dataset(n, storage=ObjectStorage()) for n in ("changed", "kept"))
    done = threading.Event()
    p = Pipeline(name="siblings")

    @p.task()
    def changer(df: Annotated[pl.DataFrame, src]) -> changed:
        mutate(df)
        done.set()
        return df

    @p.task()
    def keeper(df: Annotated[pl.DataFrame, src]) -> kept:
        assert done.wait(20)  # the two run side by side: wait until the sibling changed its
        return df

    return p


MUTATIONS = {
    "replace_column": lambda df: df.replace_column(1, pl.Series("amount", [0.0, 0.0, 0.0])),
    "rename": lambda df: setattr(df, "columns", ["a", "b"]),
    "set_item": lambda df: df.__setitem__((0, "amount"), -1.0),
    "insert_and_drop": lambda df: df.insert_column(0, pl.Series("z", [0, 0, 0])).drop_in_place(
        "id"
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("given", ["DataFrame", "LazyFrame"])
def test_a_task_changing_its_dataframe_input_changes_nothing_else(workdir, mutation, given):
    caller = ORIGINAL.clone()
    value = caller if given == "DataFrame" else caller.lazy()
    result = _siblings(MUTATIONS[mutation]).run(inputs={"src": value})
    assert result.ok
    assert result["kept"].collect().equals(ORIGINAL)  # what the sibling stored
    assert caller.equals(ORIGINAL)  # the caller's frame
    if isinstance(value, pl.LazyFrame):
        assert value.collect().equals(ORIGINAL)


def test_a_shared_dataframe_input_is_computed_once_and_each_task_gets_its_own(workdir):
    src, shared = Dataset("src"), Dataset("shared")
    seen: list[pl.DataFrame] = []
    p = Pipeline(name="clones")

    @p.task()
    def prepare(s: src) -> shared:
        return s.with_columns(double=pl.col("amount") * 2)

    for name in ("left", "right"):

        @p.task(name=name)
        def read(df: Annotated[pl.DataFrame, shared]) -> None:
            seen.append(df)

    assert p.run(inputs={"src": ORIGINAL}).ok
    left, right = seen
    assert left is not right
    buffers = [df.to_arrow().column("double").chunk(0).buffers()[1].address for df in seen]
    assert buffers[0] == buffers[1]  # one computation, its buffers shared by both clones


# -- sources checked against their declared schemas ---------------------------------------


def _two_sources(calls: list[str]) -> Pipeline:
    orders = Dataset(
        "orders", storage=ObjectStorage(), schema={"id": pl.Int64, "amount": pl.Float64}
    )
    rates = Dataset("rates", storage=ObjectStorage(), schema={"currency": pl.String})
    out = Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="checked")

    @p.task(retries=3)
    def total(o: orders, r: rates) -> out:
        calls.append("total")
        return o.filter(pl.col("amount") > 0).join(r, how="cross")

    return p


def test_sources_breaking_their_schemas_fail_before_any_task_runs_listing_every_problem(
    workdir,
):
    calls: list[str] = []
    Path(".glacier/datasets").mkdir(parents=True)
    pl.DataFrame({"id": [1], "amount": ["12.5"]}).write_parquet(".glacier/datasets/orders.parquet")
    rates = pl.DataFrame({"code": ["EUR"]})
    msg = (
        r"source dataset 'orders' \(at .glacier/datasets/orders.parquet\) does not match its "
        r"declared schema: column 'amount': expected Float64, found String; "
        r"source dataset 'rates' \(the DataFrame given in inputs=\) does not match its declared "
        r"schema: column 'currency': expected String, found no such column; unexpected columns "
        r"\['code'\] \(expected only \['currency'\]\). Fix the source data, or change the "
        r"Dataset's schema"
    )
    with pytest.raises(SchemaError, match=msg):
        _two_sources(calls).run(inputs={"rates": rates})
    assert calls == []


def test_a_source_matching_its_schema_runs(workdir):
    calls: list[str] = []
    inputs = {"orders": ORIGINAL, "rates": pl.DataFrame({"currency": ["EUR"]})}
    assert _two_sources(calls).run(inputs=inputs).ok and calls == ["total"]


class Order(BaseModel):
    id: int
    amount: float
    note: Optional[str] = None


def _eager_reader(calls: list[str]) -> Pipeline:
    orders = Dataset("orders", storage=ObjectStorage(), schema=Order)
    p = Pipeline(name="nulls")

    @p.task(retries=2)
    def count(df: Annotated[pl.DataFrame, orders]) -> None:
        calls.append("count")

    return p


NULLS = pl.DataFrame(
    {"id": [1, None], "amount": [1.0, 2.0], "note": [None, None]},
    schema={"id": pl.Int64, "amount": pl.Float64, "note": pl.String},
)


def test_nulls_in_a_non_optional_column_of_an_in_memory_source_fail_before_any_task(workdir):
    calls: list[str] = []
    msg = (
        r"source dataset 'orders' \(the DataFrame given in inputs=\) does not match its "
        r"declared schema: column 'id': expected no nulls \(the schema field is not "
        r"Optional\), found 1 null value\(s\)"
    )
    with pytest.raises(SchemaError, match=msg):
        _eager_reader(calls).run(inputs={"orders": NULLS})
    assert calls == []


def test_nulls_in_a_file_source_fail_the_task_reading_it_as_a_dataframe_once(workdir):
    calls: list[str] = []
    NULLS.write_parquet("orders.parquet")
    msg = (
        r"task 'count' failed: SchemaError: source dataset 'orders' \(read as a DataFrame\) .*'id'"
    )
    with pytest.raises(TaskSchemaError, match=msg) as info:
        _eager_reader(calls).run(LocalExecutor(retry_delay=30), inputs={"orders": "orders.parquet"})
    assert calls == [] and info.value.result.tasks["count"].attempts == 1


def test_an_unreadable_source_with_a_schema_is_an_input_error_naming_it(workdir):
    Path("orders.parquet").write_text("not parquet")
    with pytest.raises(InputError, match=r"source dataset 'orders' \(at orders.parquet\) cannot"):
        _two_sources([]).run(inputs={"orders": "orders.parquet", "rates": "orders.parquet"})


# -- what is retried -----------------------------------------------------------------------


def test_a_missing_column_is_not_retried_and_a_transient_os_error_is(workdir):
    raw = Dataset("raw")
    out = Dataset("out", storage=ObjectStorage())
    calls: list[str] = []
    p = Pipeline(name="retries")

    @p.task(retries=3)
    def select_missing(r: raw) -> out:
        calls.append("select_missing")
        return r.select("no_such_column")

    @p.task(retries=3)
    def read_flaky(r: raw) -> None:
        calls.append("read_flaky")
        if calls.count("read_flaky") == 1:
            raise OSError("connection reset by peer")

    with pytest.raises(TaskFailedError, match=r"'select_missing' failed: ColumnNotFoundError"):
        p.run(LocalExecutor(retry_delay=0.001), inputs={"raw": ORIGINAL})
    assert calls.count("select_missing") == 1
    assert calls.count("read_flaky") == 2


def test_a_type_error_in_the_fused_query_is_not_retried(workdir):
    raw = Dataset("raw")
    out = Dataset("out", storage=ObjectStorage())
    calls: list[str] = []
    p = Pipeline(name="late_error")

    def compare(s: pl.Series) -> pl.Series:
        calls.append("compare")
        return s.cast(pl.Int64, strict=True)  # "abc" cannot be cast: fails in the query

    @p.task(retries=3)
    def cast(r: raw) -> out:
        return r.with_columns(pl.col("id").map_batches(compare, return_dtype=pl.Int64))

    with pytest.raises(TaskFailedError, match=r"'cast' failed: InvalidOperationError"):
        p.run(LocalExecutor(retry_delay=0.001), inputs={"raw": pl.DataFrame({"id": ["abc"]})})
    assert len(calls) == 2  # the fused query, then the task's query alone: never a retry


def test_a_type_error_in_a_plan_is_not_retried(workdir):
    raw = Dataset("raw")
    out = Dataset("out", storage=ObjectStorage())
    calls: list[str] = []
    p = Pipeline(name="plan_error")

    @p.task(retries=3)
    def positive(r: raw) -> out:
        calls.append("positive")
        return r.filter(pl.col("id") > 0)  # "id" holds strings

    with pytest.raises(TaskFailedError, match=r"'positive' failed: ComputeError: cannot compare"):
        p.run(LocalExecutor(retry_delay=0.001), inputs={"raw": pl.DataFrame({"id": ["7"]})})
    assert calls == ["positive"]


class Flaky(Exception):
    retryable = False


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (SchemaError("x"), False),
        (TaskSchemaError("x"), False),
        (DefinitionError("x"), False),
        (TaskFailedError("wrong shape"), False),
        (InputError("x"), False),
        (WriteConflictError("x"), True),
        (pl.exceptions.ColumnNotFoundError("x"), False),
        (pl.exceptions.SchemaError("x"), False),
        (pl.exceptions.SchemaFieldNotFoundError("x"), False),
        (pl.exceptions.InvalidOperationError("x"), False),
        (pl.exceptions.ShapeError("x"), False),
        (pl.exceptions.ComputeError("cannot compare string with numeric type (i64)"), False),
        (pl.exceptions.ComputeError("could not parse `x` as dtype `i64` at column 'a'"), False),
        (
            pl.exceptions.ComputeError("Generic S3 error: error sending request: connection reset"),
            True,
        ),
        (pl.exceptions.ComputeError("object-store error: operation timed out"), True),
        (OSError("x"), True),
        (ConnectionError("x"), True),
        (TimeoutError("x"), True),
        (RuntimeError("x"), True),
        (Flaky(), False),
    ],
)
def test_is_retryable(error, retryable):
    assert is_retryable(error) is retryable
