"""pipeline.run(): fusion, parallel branches, inputs, results, params and select."""

from __future__ import annotations

import threading
from pathlib import Path

import executor_pipelines as samples
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import LocalExecutor
from glacier.errors import DefinitionError, InputError


def test_all_ephemeral_intermediates_run_as_one_polars_query(workdir: Path, orders, customers):
    p = samples.analytics("out")
    result = p.run(inputs={"orders": orders, "customers": customers})
    assert result.queries == 1
    assert {t.query for t in result.tasks.values()} == {1}
    expected = samples.eager_reference(orders, customers)
    for name, frame in expected.items():
        assert_frame_equal(result[name].collect(), frame)


def test_collect_all_receives_every_stored_output_at_once(workdir, orders, customers, monkeypatch):
    batches: list[int] = []
    real = pl.collect_all

    def spy(frames, **kwargs):
        frames = list(frames)
        batches.append(len(frames))
        return real(frames, **kwargs)

    monkeypatch.setattr("glacier.executor.engine.pl.collect_all", spy)
    samples.analytics("out").run(inputs={"orders": orders, "customers": customers})
    # by_region and totals: one multi-sink query, then one query checking both written files
    assert batches == [2, 2]


def test_layout_under_root_and_localfs_paths(workdir: Path, orders, customers):
    result = samples.analytics("out").run(
        inputs={"orders": orders, "customers": customers}, root="state_here"
    )
    assert result.path("by_region") == str(Path("out") / "by_region.parquet")
    assert result.path("totals") == str(Path("state_here") / "datasets" / "totals.parquet")
    assert result.path("enriched") is None
    assert (workdir / "out" / "by_region.parquet").is_file()
    assert (workdir / "state_here" / "state" / "analytics.json").is_file()
    assert not list(workdir.rglob("*.tmp.*")) and not list(workdir.rglob("*.lock"))


def test_result_reports_status_rows_and_bytes(workdir, orders, customers):
    result = samples.analytics("out").run(inputs={"orders": orders, "customers": customers})
    region = result.tasks["region_totals"]
    assert region.status == "succeeded" and region.rows == 4 and region.bytes > 0
    assert result.tasks["clean_orders"].rows == 0  # ephemeral output: nothing written
    assert result.ok and result.failed == []
    assert [row[0] for row in result.summary_rows()] == list(result.tasks)


def test_ephemeral_dataset_frame_is_available(workdir, orders, customers):
    result = samples.analytics("out").run(inputs={"orders": orders, "customers": customers})
    assert result["enriched"].collect().height == orders.filter(pl.col("amount") > 0).height
    with pytest.raises(KeyError, match="has no data for dataset 'nope'"):
        result["nope"]


def test_independent_branches_run_in_parallel_and_share_one_dataframe(workdir, orders):
    barrier = threading.Barrier(2, timeout=20)  # sequential branches would break it
    seen: list[int] = []
    result = samples.branches(barrier, seen).run(inputs={"src": orders})
    assert result.ok
    assert len(seen) == 2 and seen[0] == seen[1]  # materialized once: the same buffers
    assert result["left"].collect().height + result["right"].collect().height == orders.height


def test_inputs_accept_path_dataframe_and_lazyframe(workdir, orders, customers):
    orders.write_parquet("orders.parquet")
    by_path = samples.analytics("a").run(
        inputs={"orders": "orders.parquet", "customers": customers.lazy()}
    )
    assert by_path["totals"].collect()["n"].item() > 0


def test_missing_source_is_an_input_error_before_any_task_runs(workdir, customers):
    calls: list[str] = []
    p = samples.analytics("out", calls)
    with pytest.raises(
        InputError,
        match=r"source dataset 'orders' has no data: it has no storage.*inputs=\{'orders': ",
    ):
        p.run(inputs={"customers": customers})
    with pytest.raises(
        InputError, match=r"source dataset 'orders' has no data: no data at nope.parquet"
    ):
        p.run(inputs={"customers": customers, "orders": "nope.parquet"})
    with pytest.raises(InputError, match=r"'clean', which is not a source"):
        p.run(inputs={"clean": customers})
    assert calls == []


def test_source_read_from_its_storage(workdir, orders):
    p = samples.chain()
    with pytest.raises(
        InputError, match=r"source dataset 'raw' has no data: no data at .*raw.parquet"
    ):
        p.run()
    Path(".glacier/datasets").mkdir(parents=True)
    orders.write_parquet(".glacier/datasets/raw.parquet")
    assert p.run()["c"].collect()["step"].unique().to_list() == [3]


def test_params_override_defaults(workdir, orders, customers):
    inputs = {"orders": orders, "customers": customers}
    result = samples.analytics("out").run(inputs=inputs, params={"clean_orders.min_amount": 50.0})
    expected = orders.filter(pl.col("amount") > 50).height
    assert result["totals"].collect()["n"].item() == expected


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"clean_orders": 1}, r"must be 'task.param'"),
        ({"nope.x": 1}, r"has no task 'nope'"),
        ({"clean_orders.nope": 1}, r"task 'clean_orders' has no parameter 'nope'"),
    ],
)
def test_bad_params_are_definition_errors(workdir, orders, customers, params, match):
    with pytest.raises(DefinitionError, match=match):
        samples.analytics("out").run(
            inputs={"orders": orders, "customers": customers}, params=params
        )


def test_select_runs_only_what_the_datasets_need(workdir, orders, customers):
    calls: list[str] = []
    result = samples.analytics("out", calls).run(
        inputs={"orders": orders, "customers": customers}, select=["by_region"]
    )
    assert sorted(calls) == ["clean_orders", "enrich", "region_totals"]
    assert "grand_total" not in result.tasks
    assert not (workdir / ".glacier" / "datasets" / "totals.parquet").exists()


def test_bad_storage_mode_is_rejected():
    with pytest.raises(DefinitionError, match="storage must be 'local' or 'remote'"):
        LocalExecutor(storage="cloud")  # type: ignore[arg-type]
