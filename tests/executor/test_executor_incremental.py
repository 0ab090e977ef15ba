"""Incremental runs, failures, resume, retries, timeouts and atomic writes."""

from __future__ import annotations

import importlib.util
import os
import textwrap
import time
from pathlib import Path

import executor_pipelines as samples
import polars as pl
import pytest

from glacier import LocalExecutor, Pipeline
from glacier.errors import TaskFailedError


def statuses(result) -> dict[str, str]:
    return {n: t.status for n, t in result.tasks.items()}


def write_raw(frame: pl.DataFrame) -> None:
    Path(".glacier/datasets").mkdir(parents=True, exist_ok=True)
    frame.write_parquet(".glacier/datasets/raw.parquet")


def test_second_run_skips_and_force_reruns(workdir, orders, customers):
    inputs = {"orders": orders, "customers": customers}
    calls: list[str] = []
    samples.analytics("out", calls).run(inputs=inputs)
    assert len(calls) == 4
    calls.clear()
    again = samples.analytics("out", calls).run(inputs=inputs)
    assert set(statuses(again).values()) == {"skipped"} and calls == [] and again.queries == 0
    assert again["totals"].collect()["n"].item() > 0  # still readable from storage
    assert again.path("enriched") is None  # ephemeral, not computed: no path, no KeyError
    with pytest.raises(KeyError, match="'enriched' is ephemeral and no task of this run computed"):
        again["enriched"]
    forced = samples.analytics("out", calls).run(inputs=inputs, force=True)
    assert set(statuses(forced).values()) == {"succeeded"} and len(calls) == 4


def test_param_change_reruns_the_task_and_its_downstream(workdir, orders, customers):
    inputs = {"orders": orders, "customers": customers}
    samples.analytics("out").run(inputs=inputs)
    calls: list[str] = []
    samples.analytics("out", calls).run(inputs=inputs, params={"clean_orders.min_amount": 3.0})
    assert sorted(calls) == ["clean_orders", "enrich", "grand_total", "region_totals"]


def test_input_change_reruns_only_what_reads_it(workdir, orders):
    write_raw(orders)
    samples.chain().run()
    assert set(statuses(samples.chain().run()).values()) == {"skipped"}
    time.sleep(0.01)
    write_raw(orders.head(10))
    result = samples.chain().run()
    assert set(statuses(result).values()) == {"succeeded"}
    assert result["c"].collect().height == 10


def test_deleted_output_is_rebuilt_and_its_downstream_reruns(workdir, orders):
    # make_c's input was rewritten: it must read what make_b writes now (a task is skipped
    # only when its inputs are unchanged)
    write_raw(orders)
    samples.chain().run()
    os.remove(".glacier/datasets/b.parquet")
    assert statuses(samples.chain().run()) == {
        "make_a": "skipped",
        "make_b": "succeeded",
        "make_c": "succeeded",
    }
    assert set(statuses(samples.chain().run()).values()) == {"skipped"}


def _module(path: Path, body: str) -> Pipeline:
    path.write_text(textwrap.dedent(body))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pipeline


CODE = """
import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

raw = Dataset("raw", storage=ObjectStorage())
out = Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="versions")

@pipeline.task()
def compute(r: raw) -> out:
    return r.select(pl.col("amount") * FACTOR)
"""


def test_code_change_invalidates(workdir, orders):
    write_raw(orders)
    v1 = _module(workdir / "mod_v1.py", CODE.replace("FACTOR", "2"))
    assert statuses(v1.run()) == {"compute": "succeeded"}
    assert statuses(v1.run()) == {"compute": "skipped"}
    v2 = _module(workdir / "mod_v2.py", CODE.replace("FACTOR", "3"))
    result = v2.run()
    assert statuses(result) == {"compute": "succeeded"}
    assert result["out"].collect()["amount"].sum() == pytest.approx(orders["amount"].sum() * 3)


def test_failed_task_keeps_finished_datasets_and_the_next_run_resumes(workdir, orders, monkeypatch):
    write_raw(orders)
    calls: list[str] = []

    # one hook for both runs (the code and values a task reaches are in its fingerprint), with
    # the failure's cause outside the program, as a flaky input or service would be
    def hook(name: str) -> None:
        calls.append(name)
        if name == "make_c" and os.environ.get("GLACIER_TEST_FAIL"):
            raise ValueError("bad input in c")

    monkeypatch.setenv("GLACIER_TEST_FAIL", "1")
    with pytest.raises(
        TaskFailedError, match=r"task 'make_c' failed: ValueError: bad input in c"
    ) as info:
        samples.chain(hook).run()
    result = info.value.result
    assert info.value.task == "make_c"
    assert statuses(result) == {"make_a": "succeeded", "make_b": "succeeded", "make_c": "failed"}
    assert not Path(".glacier/datasets/c.parquet").exists()
    monkeypatch.delenv("GLACIER_TEST_FAIL")
    calls.clear()
    resumed = samples.chain(hook).run()
    assert calls == ["make_c"]
    assert statuses(resumed)["make_c"] == "succeeded"


def test_failure_during_the_fused_query_is_attributed_and_isolated(workdir):
    src = pl.DataFrame({"id": range(100_000)})
    with pytest.raises(TaskFailedError, match=r"task 'split' failed: .*disk on fire") as info:
        samples.two_outputs(fail_second=True).run(inputs={"src": src})
    result = info.value.result
    assert result.tasks["independent"].status == "succeeded"  # the other branch finished
    data = Path(".glacier/datasets")
    assert sorted(p.name for p in data.iterdir()) == ["other.parquet"]  # no partial, no temp
    ok = samples.two_outputs(fail_second=False).run(inputs={"src": src})
    assert statuses(ok) == {"independent": "skipped", "split": "succeeded"}
    assert ok["second"].collect().height == 100_000


def test_downstream_of_a_failed_task_does_not_run(workdir, orders):
    write_raw(orders)

    def boom(name: str) -> None:
        if name == "make_a":
            raise RuntimeError("nope")

    with pytest.raises(TaskFailedError) as info:
        samples.chain(boom).run()
    tasks = info.value.result.tasks
    assert tasks["make_b"].status == "not_run"
    assert tasks["make_b"].error == "upstream task 'make_a' failed"


def test_retries_with_backoff_then_success(workdir, orders):
    write_raw(orders)
    attempts: list[str] = []

    def flaky(name: str) -> None:
        attempts.append(name)
        if name == "make_b" and attempts.count("make_b") < 3:
            raise ConnectionError("transient")

    result = LocalExecutor(retry_delay=0.001).run(samples.chain(flaky, retries=2))
    assert result.tasks["make_b"].attempts == 3 and result.tasks["make_b"].status == "succeeded"


def test_retries_exhausted_fail_the_task(workdir, orders):
    write_raw(orders)

    def always(name: str) -> None:
        if name == "make_a":
            raise ConnectionError("down")

    with pytest.raises(TaskFailedError, match=r"'make_a' failed after 2 attempts: ConnectionError"):
        LocalExecutor(retry_delay=0.001).run(samples.chain(always, retries=1))


def test_timeout_fails_the_task(workdir, orders):
    from glacier import Dataset
    from glacier.storage import ObjectStorage

    raw, out = Dataset("raw", ObjectStorage()), Dataset("out", ObjectStorage())
    p = Pipeline(name="slow")

    @p.task(timeout=0.05)
    def slow(r: raw) -> out:
        time.sleep(2)
        return r

    write_raw(orders)
    with pytest.raises(
        TaskFailedError, match=r"task 'slow' failed: TimeoutError: .*timeout of 0.05s"
    ):
        p.run()
    assert not Path(".glacier/datasets/out.parquet").exists()


def test_a_second_writer_is_refused_and_a_stale_lock_taken_over(workdir, orders):
    write_raw(orders)
    lock = Path(".glacier/datasets/.a.parquet.lock")
    lock.write_text("1")  # pid 1 is alive: another writer
    with pytest.raises(TaskFailedError, match=r"another writer is writing .*a.parquet"):
        samples.chain().run()
    lock.write_text("999999999")  # no such process: stale
    assert samples.chain().run().ok
    assert not lock.exists()
