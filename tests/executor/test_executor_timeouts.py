"""Timeouts that stop the work: a timed-out attempt is ended before it is retried, and nothing
it does lands after ``run()`` returned; in a worker process for tasks another process can
import, in a stoppable thread for the others."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import executor_timeouts as timed
import polars as pl
import pytest

from glacier import Dataset, LocalExecutor, Pipeline
from glacier.errors import TaskFailedError
from glacier.loader import load_pipeline
from glacier.storage import ObjectStorage

pytestmark = pytest.mark.slow  # worker processes, and waits for what must not happen

RAW = pl.DataFrame({"x": [1, 2, 3]})


def _nothing_more_happens(seconds: float) -> list[str]:
    """The log now, after checking it stays so for ``seconds`` (longer than any task sleeps)."""
    before = timed.lines()
    time.sleep(seconds)
    assert timed.lines() == before, "a timed-out attempt went on after run() returned"
    return before


def test_a_worker_attempt_is_killed_at_its_timeout_before_its_retry(workdir):
    msg = (
        r"task 'sleepy' failed after 2 attempts: TimeoutError: task 'sleepy' did not finish "
        r"within its timeout of 0.4s; its worker process was killed"
    )
    with pytest.raises(TaskFailedError, match=msg):
        timed.late.run(LocalExecutor(retry_delay=0.01), inputs={"raw": RAW})
    assert _nothing_more_happens(2.0) == ["start", "start"]  # never "late": killed on time
    assert os.getpid() not in timed.pids() and len(timed.pids()) == 2  # one process each
    assert not Path(".glacier/datasets/out.parquet").exists()


def test_a_worker_query_is_killed_with_its_python_functions(workdir):
    with pytest.raises(TaskFailedError, match=r"'slow_sum' failed: TimeoutError: .*0.4s"):
        timed.slow_query.run(inputs={"raw": RAW})
    assert _nothing_more_happens(2.0) == ["start"]


def test_an_in_process_attempt_is_stopped_and_waited_for_before_its_retry(workdir):
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="local_sleepy")

    @p.task(timeout=0.3, retries=1)
    def sleepy(r: raw) -> out:  # defined in a function: no other process can import it
        timed.log("start")
        time.sleep(1.0)  # in C: the stop lands when it returns, before the next line
        timed.log("late")
        return r

    with pytest.raises(TaskFailedError, match=r"failed after 2 attempts: TimeoutError: .*0.3s"):
        p.run(LocalExecutor(retry_delay=0.01), inputs={"raw": RAW})
    assert _nothing_more_happens(1.5) == ["start", "start"]
    assert timed.pids() == {os.getpid()}


def test_an_in_process_python_loop_is_stopped_on_time(workdir):
    raw = Dataset("raw")
    p = Pipeline(name="busy")

    @p.task(timeout=0.3)
    def busy(r: raw) -> None:
        timed.log("start")
        end = time.monotonic() + 3.0
        while time.monotonic() < end:  # pure Python: stopped between two bytecodes
            pass
        timed.log("late")

    started = time.monotonic()
    with pytest.raises(TaskFailedError, match=r"'busy' failed: TimeoutError"):
        p.run(inputs={"raw": RAW})
    assert time.monotonic() - started < 2.0
    assert _nothing_more_happens(3.0) == ["start"]


def test_an_in_process_query_is_cancelled_and_waited_for(workdir):
    calls: list[float] = []

    def slow(s: pl.Series) -> pl.Series:
        time.sleep(1.0)
        calls.append(time.monotonic())
        return s

    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="local_query")

    @p.task(timeout=0.3)
    def slow_sum(r: raw) -> out:
        return r.with_columns(pl.col("x").map_batches(slow, return_dtype=pl.Int64))

    with pytest.raises(TaskFailedError, match=r"'slow_sum' failed: TimeoutError"):
        p.run(inputs={"raw": RAW})
    returned = time.monotonic()
    time.sleep(1.5)
    assert all(t <= returned for t in calls)  # the running call ended before run() returned
    assert not Path(".glacier/datasets/out.parquet").exists()


def test_a_worker_attempt_that_finishes_in_time_is_written_like_any_task(workdir):
    executor = LocalExecutor(retry_delay=0.01)
    result = timed.worked.run(executor, inputs={"raw": RAW}, params={"combine.offset": 5})
    assert result.ok and timed.lines() == ["ran"]
    out = result["out"].collect().sort("x")
    assert out["y"].to_list() == [15, 25, 35]  # the unpicklable input plan arrived as data
    assert set(out["pid"]) == timed.pids() != {os.getpid()}  # computed in the worker
    assert result["extra"].collect()["z"].to_list() == [2, 4, 6]  # an ephemeral output too
    assert result.tasks["combine"].rows == 3


def test_a_worker_does_not_retry_a_missing_column_but_retries_an_os_error(workdir):
    with pytest.raises(TaskFailedError, match=r"ColumnNotFoundError") as info:
        timed.failing.run(LocalExecutor(retry_delay=0.01), inputs={"raw": RAW})
    assert timed.lines().count("missing") == 1  # retries=3, but it can never succeed
    tasks = info.value.result.tasks
    assert tasks["missing_column"].attempts == 1
    assert tasks["flaky_disk"].status == "succeeded" and tasks["flaky_disk"].attempts == 2
    assert timed.lines().count("flaky") == 2


def test_a_task_built_by_a_function_runs_in_a_worker_through_the_pipelines_ref(workdir):
    Path("built.py").write_text(BUILT)
    pipeline = load_pipeline("built.py:build")  # the REF lets a worker build it again
    result = pipeline.run(inputs={"raw": RAW})
    assert set(result["out"].collect()["pid"]) != {os.getpid()}


def test_a_module_edited_since_it_was_imported_runs_the_imported_code_in_this_process(
    workdir, monkeypatch
):
    monkeypatch.syspath_prepend(str(workdir))
    Path("edited_tasks.py").write_text(EDITED.format(value=1))
    module = importlib.import_module("edited_tasks")
    Path("edited_tasks.py").write_text(EDITED.format(value=1000))  # not reloaded
    result = module.pipeline.run(inputs={"raw": RAW})
    out = result["out"].collect()
    assert set(out["value"]) == {1} and set(out["pid"]) == {os.getpid()}


def test_a_late_in_process_stop_is_warned_about(workdir, monkeypatch):
    monkeypatch.setattr("glacier.executor.timeouts._GRACE", 0.1)
    raw = Dataset("raw")
    p = Pipeline(name="stubborn")

    @p.task(timeout=0.1)
    def stubborn(r: raw) -> None:
        time.sleep(1.0)

    with (
        pytest.warns(RuntimeWarning, match=r"task 'stubborn' passed its timeout and has not"),
        pytest.raises(TaskFailedError, match=r"TimeoutError"),
    ):
        p.run(inputs={"raw": RAW})


BUILT = """
import os

import polars as pl

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage


def build():
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="built")

    @p.task(timeout=60)
    def stamp(r: raw) -> out:
        return r.with_columns(pid=pl.lit(os.getpid()))

    return p
"""

EDITED = """
import os

import polars as pl

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="edited")


@pipeline.task(timeout=60)
def stamp(r: raw) -> out:
    return r.with_columns(value=pl.lit({value}), pid=pl.lit(os.getpid()))
"""


def test_a_worker_attempt_runs_in_its_tasks_env_with_secrets_resolved(workdir, monkeypatch):
    monkeypatch.setenv("API_TOKEN", "s3cr3t-value")
    monkeypatch.delenv("MODE", raising=False)
    timed.secretive.run(inputs={"raw": RAW})
    with open(timed.LOG) as fh:
        seen = fh.read().split()[0]
    assert seen == "batch:s3cr3t-value"
    assert "MODE" not in os.environ  # nothing leaks into this process
