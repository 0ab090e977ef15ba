"""Edge cases a data engineer hits in local runs: typed text formats across incremental runs,
select= with inputs/params for the whole pipeline, final ephemeral datasets, all-or-nothing
task outputs, deterministic errors, timeouts, interrupts and in-memory input fingerprints."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import polars as pl
import pytest
from pydantic import BaseModel

from glacier import Dataset, LocalExecutor, Pipeline, task
from glacier.errors import DefinitionError, InputError, TaskFailedError
from glacier.storage import ObjectStorage


def statuses(result) -> dict[str, str]:
    return {n: t.status for n, t in result.tasks.items()}


def leftovers(folder: str = ".glacier/datasets") -> list[str]:
    """Temporary folders and locks a write left behind."""
    if not os.path.isdir(folder):
        return []
    return sorted(n for n in os.listdir(folder) if n.endswith((".tmp", ".lock")))


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_text_format_output_of_a_skipped_task_is_read_with_its_declared_dtypes(workdir, fmt):
    raw = Dataset("raw")
    daily = Dataset(
        "daily", storage=ObjectStorage(), format=fmt, schema={"day": pl.Date, "n": pl.Int32}
    )
    total = Dataset("total", storage=ObjectStorage(), schema={"day": pl.Date, "n": pl.Int32})
    p = Pipeline(name="typed")

    @p.task()
    def make_daily(r: raw) -> daily:
        return r.select("day", pl.col("n").cast(pl.Int32))

    @p.task()
    def make_total(d: daily, k: int = 1) -> total:
        return d.group_by("day").agg(pl.col("n").sum() * k).sort("day")

    frame = pl.DataFrame({"day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "n": [1, 2]})
    p.run(inputs={"raw": frame})
    # only make_total reruns: it reads daily.<fmt> back, which must keep Date and Int32
    result = p.run(inputs={"raw": frame}, params={"make_total.k": 2})
    assert statuses(result) == {"make_daily": "skipped", "make_total": "succeeded"}
    assert result["daily"].collect_schema() == pl.Schema({"day": pl.Date, "n": pl.Int32})
    assert result["total"].collect()["n"].to_list() == [2, 4]


def _selectable() -> tuple[Pipeline, list[str]]:
    calls: list[str] = []
    orders, customers = Dataset("orders"), Dataset("customers")
    clean = Dataset("clean", storage=ObjectStorage())
    joined = Dataset("joined", storage=ObjectStorage())
    p = Pipeline(name="selectable")

    @p.task()
    def make_clean(o: orders, min_amount: float = 0.0) -> clean:
        calls.append("make_clean")
        return o.filter(pl.col("amount") > min_amount)

    @p.task()
    def make_joined(c: clean, cu: customers, how: str = "inner") -> joined:
        calls.append("make_joined")
        return c.join(cu, on="customer", how=how)  # type: ignore[arg-type]

    return p, calls


def test_select_ignores_inputs_and_params_meant_for_tasks_it_does_not_run(workdir):
    p, calls = _selectable()
    orders = pl.DataFrame({"customer": [1, 2], "amount": [1.0, -1.0]})
    customers = pl.DataFrame({"customer": [1], "region": ["n"]})
    everything = {
        "inputs": {"orders": orders, "customers": customers},
        "params": {"make_clean.min_amount": -5.0, "make_joined.how": "left"},
    }
    result = p.run(select=["clean"], **everything)
    assert statuses(result) == {"make_clean": "succeeded"} and calls == ["make_clean"]
    assert result["clean"].collect().height == 2  # its own param was applied
    with pytest.raises(KeyError, match="has no dataset 'customers'"):
        result.path("customers")
    # names that are wrong for the whole pipeline are still errors
    with pytest.raises(InputError, match=r"inputs= names 'clean', which is not a source"):
        p.run(select=["clean"], inputs={"orders": orders, "clean": orders})
    with pytest.raises(DefinitionError, match=r"task 'make_joined' has no parameter 'nope'"):
        p.run(select=["clean"], inputs={"orders": orders}, params={"make_joined.nope": 1})
    with pytest.raises(DefinitionError, match=r"pipeline 'selectable' has no task 'other'"):
        p.run(select=["clean"], inputs={"orders": orders}, params={"other.x": 1})
    # selecting only sources would run nothing and look like success
    with pytest.raises(
        DefinitionError,
        match=r"select=\['orders'\] names only sources .*select datasets a task produces: ",
    ):
        p.run(select=["orders"], inputs={"orders": orders})


def test_a_final_ephemeral_dataset_is_computed_on_every_run(workdir):
    calls: list[str] = []
    raw, summary = Dataset("raw"), Dataset("summary")
    stored = Dataset("stored", storage=ObjectStorage())
    p = Pipeline(name="final_ephemeral")

    @p.task()
    def store(r: raw) -> stored:
        calls.append("store")
        return r

    @p.task()
    def summarize(s: stored) -> summary:
        calls.append("summarize")
        return s.select(pl.len().alias("n"))

    inputs = {"raw": pl.DataFrame({"x": [1, 2, 3]})}
    first = p.run(inputs=inputs)
    assert statuses(first) == {"store": "succeeded", "summarize": "succeeded"}
    assert first["summary"].collect()["n"].item() == 3
    assert calls == ["store", "summarize"]
    calls.clear()  # the tasks read `calls`: the same list each run, or they would rerun
    again = p.run(inputs=inputs)  # store is fresh and read back; summary exists only in runs
    assert statuses(again) == {"store": "skipped", "summarize": "succeeded"}
    assert again["summary"].collect()["n"].item() == 3
    assert calls == ["summarize"]
    calls.clear()
    assert p.run(inputs=inputs, select=["summary"])["summary"].collect()["n"].item() == 3
    assert calls == ["summarize"]


class Checked(BaseModel):
    id: int
    v: int


def test_a_task_whose_second_output_breaks_its_schema_writes_neither(workdir):
    raw = Dataset("raw")
    good = Dataset("good", storage=ObjectStorage())
    bad = Dataset("bad", storage=ObjectStorage(), schema=Checked)
    p = Pipeline(name="all_or_nothing")

    @p.task()
    def split(r: raw) -> tuple[good, bad]:
        return r, r

    frame = pl.DataFrame({"id": [1, 2], "v": [1, None]})
    with pytest.raises(TaskFailedError, match=r"dataset 'bad' column 'v': expected no nulls"):
        p.run(inputs={"raw": frame})
    assert not Path(".glacier/datasets/good.parquet").exists()
    assert leftovers() == []


def test_write_outputs_of_the_runtime_publish_all_or_nothing(tmp_path):
    from glacier.runtime.runner import write_outputs

    raw = Dataset("raw")
    good = Dataset("good", storage=ObjectStorage())
    bad = Dataset("bad", storage=ObjectStorage(), schema=Checked)
    p = Pipeline(name="runtime_all_or_nothing")

    @p.task()
    def split(r: raw) -> tuple[good, bad]:
        return r, r

    spec = p.spec()
    frame = pl.DataFrame({"id": [1, 2], "v": [1, None]})
    locations = {"good": str(tmp_path / "good.parquet"), "bad": str(tmp_path / "bad.parquet")}
    with pytest.raises(Exception, match=r"dataset 'bad' column 'v': expected no nulls"):
        write_outputs(spec, spec.tasks[0], {"good": frame, "bad": frame}, locations)
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize(
    ("returned", "found"),
    [
        (lambda r: r, r"found a polars.lazyframe.frame.LazyFrame"),
        (lambda r: None, r"found None"),
        (lambda r: (r, r, r), r"found a tuple of 3"),
    ],
)
def test_a_wrong_return_shape_names_the_task_and_is_not_retried(workdir, returned, found):
    raw = Dataset("raw")
    left, right = Dataset("left", storage=ObjectStorage()), Dataset("right")
    p = Pipeline(name="shape")

    @p.task(retries=3)
    def split(r: raw) -> tuple[left, right]:
        return returned(r)

    msg = rf"task 'split' failed: .*task 'split' must return a tuple of 2 frames \(left, right\), {found}"
    with pytest.raises(TaskFailedError, match=msg) as info:
        p.run(LocalExecutor(retry_delay=30.0), inputs={"raw": pl.DataFrame({"x": [1]})})
    assert info.value.result is not None
    assert info.value.result.tasks["split"].attempts == 1


def test_a_task_with_a_timeout_is_flushed_without_its_stage_neighbours(workdir):
    computed: list[int] = []

    def slow(s: pl.Series) -> pl.Series:
        computed.append(1)
        time.sleep(1.0)  # longer than quick's timeout: fused with it, this query timed out
        return s

    raw = Dataset("raw")
    a, b = Dataset("a", storage=ObjectStorage()), Dataset("b", storage=ObjectStorage())
    p = Pipeline(name="deadline")

    @p.task()
    def heavy(r: raw) -> a:
        return r.with_columns(pl.col("x").map_batches(slow, return_dtype=pl.Int64))

    @p.task(timeout=0.2)
    def quick(r: raw) -> b:
        return r

    result = p.run(inputs={"raw": pl.DataFrame({"x": [1, 2]})})
    assert statuses(result) == {"heavy": "succeeded", "quick": "succeeded"}
    assert computed == [1]  # heavy's query ran once, not again after a spurious timeout
    assert result.tasks["heavy"].query != result.tasks["quick"].query


def test_an_interrupted_run_releases_its_locks_for_the_next_run_in_the_same_process(workdir):
    interrupt = [True]
    raw = Dataset("raw")
    a, b = Dataset("a", storage=ObjectStorage()), Dataset("b", storage=ObjectStorage())
    p = Pipeline(name="interrupted")

    @p.task()
    def make_a(r: raw) -> a:
        return r

    @p.task()
    def make_b(x: a) -> b:
        if interrupt[0]:
            raise KeyboardInterrupt  # Ctrl-C in a notebook while make_a's write is pending
        return x

    inputs = {"raw": pl.DataFrame({"x": [1]})}
    with pytest.raises(KeyboardInterrupt):
        p.run(inputs=inputs)
    assert leftovers() == []
    interrupt[0] = False
    assert statuses(p.run(inputs=inputs)) == {"make_a": "succeeded", "make_b": "succeeded"}


def test_reordered_dataframe_input_reruns_its_readers(workdir):
    src, first = Dataset("src"), Dataset("first", storage=ObjectStorage())
    p = Pipeline(name="order")

    @p.task()
    def take_first(s: src) -> first:
        return s.head(1)

    p.run(inputs={"src": pl.DataFrame({"x": [1, 2]})})
    assert statuses(p.run(inputs={"src": pl.DataFrame({"x": [1, 2]})})) == {"take_first": "skipped"}
    result = p.run(inputs={"src": pl.DataFrame({"x": [2, 1]})})
    assert statuses(result) == {"take_first": "succeeded"}
    assert result["first"].collect()["x"].to_list() == [2]


class Address(BaseModel):
    zip: str


def test_csv_check_reads_the_written_file_with_declared_dtypes(workdir):
    # numeric-looking strings for more rows than csv inference looks at, then a letter:
    # inferred as Int64, the written file's null/row check failed to parse its own data
    raw = Dataset("raw")
    out = Dataset("out", storage=ObjectStorage(), format="csv", schema=Address)
    p = Pipeline(name="zips")

    @p.task()
    def copy(r: raw) -> out:
        return r

    zips = [str(10000 + i) for i in range(300)] + ["SW1A 1AA"]
    result = p.run(inputs={"raw": pl.DataFrame({"zip": zips})})
    assert result.tasks["copy"].rows == 301
    assert result["out"].collect()["zip"].to_list() == zips


def test_delta_without_deltalake_is_refused_before_any_task_runs(workdir, monkeypatch):
    import sys

    calls: list[str] = []
    src, table = Dataset("src"), Dataset("table", storage=ObjectStorage(), format="delta")

    def write(data: src) -> table:
        calls.append("write")
        return data

    p = Pipeline([task()(write)], name="deltas")
    monkeypatch.setitem(sys.modules, "deltalake", None)  # as if not installed
    with pytest.raises(
        DefinitionError,
        match=r"dataset 'table' has format 'delta', which needs the deltalake package; "
        r"it is not installed: pip install 'glacier\[delta\]'",
    ):
        p.run(inputs={"src": pl.DataFrame({"x": [1]})})
    assert calls == [] and leftovers() == []
