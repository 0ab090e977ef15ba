"""The provider-neutral planning every cloud shares: the DAG as sequences and parallel
branches, one provider's share of a placed DAG, and each task's data grants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from glacier import Dataset, Pipeline
from glacier.compilation import resolve
from glacier.compilation.grants import Grant, task_grants
from glacier.compilation.layout import cloud_key, dataset_key, ephemeral_key, stored_key
from glacier.compilation.planning import Par, Seq, plan_dag
from glacier.compilation.projection import Crossing, crossings, upstream_on
from glacier.compilation.resolve import Placement
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3


@dataclass(frozen=True)
class Step:
    """Not a pipeline task: planning needs only a name and upstream names."""

    name: str
    upstream: tuple[str, ...] = ()


def _shape(node: Any) -> Any:
    if isinstance(node, Seq):
        return ["seq", *map(_shape, node.items)]
    if isinstance(node, Par):
        return ["par", *map(_shape, node.branches)]
    return node.name


def test_any_named_steps_plan_into_sequences_and_parallel_branches() -> None:
    steps = [Step("a"), Step("b", ("a",)), Step("c", ("a",)), Step("d", ("b", "c")), Step("e")]
    assert _shape(plan_dag(steps)) == ["par", ["seq", "a", ["par", "b", "c"], "d"], "e"]
    assert _shape(plan_dag([Step("only")])) == "only"
    with pytest.raises(ValueError, match="cannot plan an empty DAG"):
        plan_dag([])


# -- projection ------------------------------------------------------------------------------


def test_a_task_waits_through_foreign_tasks_for_its_own_providers_tasks() -> None:
    """a (x) -> b (y) -> c (x) -> d (x); e (x) independent: on x, c waits for a."""
    steps = [Step("a"), Step("b", ("a",)), Step("c", ("b",)), Step("d", ("c",)), Step("e")]
    placement = Placement("x", {}, {"a": "x", "b": "y", "c": "x", "d": "x", "e": "x"})
    assert upstream_on(steps, placement, "x") == {
        "a": (),
        "c": ("a",),
        "d": ("c",),
        "e": (),
    }
    assert upstream_on(steps, placement, "y") == {"b": ()}


def test_data_crossing_providers_is_reported_once_per_edge() -> None:
    @dataclass(frozen=True)
    class Data:
        name: str
        producer: str | None
        consumers: tuple[str, ...]

    datasets = [
        Data("raw", None, ("clean",)),  # a source on y read on x
        Data("clean", "clean", ("report",)),  # written on x into storage on y
        Data("report", "report", ()),
    ]
    placement = Placement(
        "x",
        {"raw": "y", "clean": "y", "report": "x"},
        {"clean": "x", "report": "y"},
    )
    assert crossings(datasets, placement) == [
        Crossing("raw", "(source)", "clean", "y", "x"),
        Crossing("clean", "clean", "clean storage", "x", "y"),
        Crossing("report", "report", "report storage", "y", "x"),
    ]


# -- grants and the key layout ---------------------------------------------------------------


def _pipeline() -> Pipeline:
    raw = Dataset("raw", storage=S3("landing-bucket", prefix="in"), format="csv")
    tmp = Dataset("tmp")
    table = Dataset("table", storage=ObjectStorage(), format="delta")
    pipeline = Pipeline(name="grants")

    @pipeline.task()
    def clean(data: raw) -> tmp:
        return data

    @pipeline.task()
    def load(data: tmp) -> table:
        return data

    return pipeline


def test_keys_come_from_one_layout() -> None:
    ir = _pipeline().spec()
    raw, tmp, table = (ir.dataset(n) for n in ("raw", "tmp", "table"))
    assert stored_key(raw) == dataset_key(raw, "/in/") == "in/raw.csv"
    assert ephemeral_key(tmp) == cloud_key(tmp) == "runs/{run_id}/tmp.parquet"
    assert cloud_key(table) == "table.delta"


def test_each_task_is_granted_exactly_its_inputs_and_outputs() -> None:
    ir = _pipeline().spec()
    locations = {d.name: (f"bucket-of-{d.name}", cloud_key(d)) for d in ir.datasets}
    formats = {d.name: d.format for d in ir.datasets}
    grants = {
        t.name: task_grants(t.input_datasets, t.outputs, locations, formats) for t in ir.tasks
    }
    assert grants["clean"] == (
        Grant("raw", "bucket-of-raw", "in/raw.csv", "read"),
        Grant("raw", "bucket-of-raw", "in/raw.csv", "list"),
        Grant("tmp", "bucket-of-tmp", "runs/*/tmp.parquet", "write"),
    )
    assert grants["load"] == (
        Grant("tmp", "bucket-of-tmp", "runs/*/tmp.parquet", "read"),
        Grant("tmp", "bucket-of-tmp", "runs/*/tmp.parquet", "list"),
        Grant("table", "bucket-of-table", "table.delta/*", "write", folder=True),
        Grant("table", "bucket-of-table", "table.delta", "list", folder=True),
    )
    for t in ir.tasks:  # nothing beyond the data flow
        read = {g.dataset for g in grants[t.name] if g.mode == "read"}
        written = {g.dataset for g in grants[t.name] if g.mode == "write"}
        assert read == set(t.input_datasets) and written == set(t.outputs)


def test_placement_and_projection_work_on_the_ir() -> None:
    spec = _pipeline().spec()
    placement = resolve(spec, "aws", ("aws",))
    assert upstream_on(spec.tasks, placement, "aws") == {"clean": (), "load": ("clean",)}
