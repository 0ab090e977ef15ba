"""Pipelines: DAG queries on fan-in / fan-out / diamond / multi-output graphs, and whole-pipeline errors."""

from __future__ import annotations

import pytest

from glacier import Dataset, Pipeline, Task, task
from glacier.errors import CycleError, DefinitionError, DuplicateProducerError, GlacierError
from glacier.storage import ObjectStorage

src_a, src_b = Dataset("src_a"), Dataset("src_b")
a1, b1 = Dataset("a1"), Dataset("b1")
joined = Dataset("joined", storage=ObjectStorage())
left, right = Dataset("left"), Dataset("right")
wide, narrow = Dataset("wide"), Dataset("narrow")
final = Dataset("final", storage=ObjectStorage())
audit = Dataset("audit")


def _names(tasks: tuple[Task, ...] | list[Task]) -> list[str]:
    return [t.name for t in tasks]


@pytest.fixture
def graph() -> Pipeline:
    """src_a -> prep_a -> a1 --+                    +-> to_left  -> left  --+
                           +-> join -> joined --+                        +-> merge -> final
    src_b -> prep_b -> b1 --+   (fan-in)         +-> to_right -> right --+   (diamond)
                                                 +-> split -> wide, narrow (multi-output)
    log (after join, depends_on) -> audit; a sink reading nothing."""

    @task()
    def prep_a(data: src_a) -> a1:
        return data

    @task()
    def prep_b(data: src_b) -> b1:
        return data

    @task()
    def join(x: a1, y: b1) -> joined:
        return x

    @task()
    def to_left(data: joined) -> left:
        return data

    @task()
    def to_right(data: joined) -> right:
        return data

    @task()
    def merge(x: left, y: right) -> final:
        return x

    @task()
    def split(data: joined, cut: int = 3) -> tuple[wide, narrow]:
        return data, data

    @task(depends_on=[join])
    def log() -> audit:
        raise NotImplementedError

    # Registration order is deliberately scrambled: order must not depend on it.
    return Pipeline([merge, split, log, to_right, join, prep_b, to_left, prep_a], name="shapes")


def test_topological_order_ties_by_name(graph: Pipeline) -> None:
    assert _names(graph.tasks) == [
        "prep_a",
        "prep_b",
        "join",
        "log",
        "split",
        "to_left",
        "to_right",
        "merge",
    ]


def test_stages(graph: Pipeline) -> None:
    assert [_names(s) for s in graph.stages()] == [
        ["prep_a", "prep_b"],
        ["join"],
        ["log", "split", "to_left", "to_right"],
        ["merge"],
    ]


def test_sources_sinks_datasets(graph: Pipeline) -> None:
    assert [d.name for d in graph.sources] == ["src_a", "src_b"]
    assert [d.name for d in graph.sinks] == ["audit", "final", "narrow", "wide"]
    assert [d.name for d in graph.datasets] == [
        "a1", "audit", "b1", "final", "joined", "left", "narrow", "right", "src_a", "src_b", "wide",
    ]  # fmt: skip


def test_upstream_direct_and_transitive(graph: Pipeline) -> None:
    assert _names(graph.upstream("merge", direct=True)) == ["to_left", "to_right"]
    assert _names(graph.upstream("merge")) == ["prep_a", "prep_b", "join", "to_left", "to_right"]
    assert _names(graph.upstream(graph.dag.tasks["log"], direct=True)) == ["join"]
    assert _names(graph.upstream(joined, direct=True)) == ["join"]
    assert _names(graph.upstream(joined)) == ["prep_a", "prep_b", "join"]
    assert _names(graph.upstream(src_a)) == []


def test_downstream_direct_and_transitive(graph: Pipeline) -> None:
    assert _names(graph.downstream("join", direct=True)) == ["log", "split", "to_left", "to_right"]
    assert _names(graph.downstream("prep_a")) == [
        "join",
        "log",
        "split",
        "to_left",
        "to_right",
        "merge",
    ]
    assert _names(graph.downstream(joined, direct=True)) == ["split", "to_left", "to_right"]
    assert _names(graph.downstream("left")) == ["merge"]
    assert _names(graph.downstream(final)) == []


def test_unknown_names_in_queries(graph: Pipeline) -> None:
    with pytest.raises(
        DefinitionError, match=r"pipeline 'shapes' has no task or dataset named 'nope'"
    ):
        graph.upstream("nope")

    @task()
    def stranger(data: src_a) -> Dataset("elsewhere"):  # type: ignore[valid-type]
        return data

    with pytest.raises(DefinitionError, match=r"task 'stranger' is not part of pipeline 'shapes'"):
        graph.downstream(stranger)


def test_select_keeps_only_what_the_datasets_need(graph: Pipeline) -> None:
    sub = graph.select("final")
    assert _names(sub.tasks) == ["prep_a", "prep_b", "join", "to_left", "to_right", "merge"]
    assert _names(graph.select(narrow, "left").tasks) == [
        "prep_a",
        "prep_b",
        "join",
        "split",
        "to_left",
    ]
    assert _names(graph.select("src_a").tasks) == []
    assert sub.name == graph.name and len(graph.tasks) == 8
    with pytest.raises(
        DefinitionError, match=r"pipeline 'shapes' has no dataset 'missing'; datasets: a1, audit"
    ):
        graph.select("missing")


def test_spec_edges(graph: Pipeline) -> None:
    spec = graph.spec()
    assert spec.task("merge").upstream == ("to_left", "to_right")
    assert spec.task("log").depends_on == ("join",) and spec.task("log").upstream == ("join",)
    assert spec.dataset("joined").consumers == ("split", "to_left", "to_right")
    assert spec.dataset("joined").producer == "join"
    assert [d.name for d in spec.sources] == ["src_a", "src_b"]
    assert spec.stages == tuple(tuple(_names(s)) for s in graph.stages())


def test_pipeline_task_and_add_register(graph: Pipeline) -> None:
    p = Pipeline(name="reg")

    @p.task(retries=1)
    def first(data: src_a) -> a1:
        return data

    assert first in p and len(p) == 1 and first.retries == 1
    assert p.add(first) is first and len(p) == 1  # same object twice: no-op
    with pytest.raises(
        DefinitionError,
        match=r"pipeline 'reg': expected a Task \(a function decorated with @task\), found 3",
    ):
        p.add(3)  # type: ignore[arg-type]


def test_adding_a_task_invalidates_the_cached_dag() -> None:
    @task()
    def one(data: src_a) -> a1:
        return data

    @task()
    def two(data: a1) -> b1:
        return data

    p = Pipeline([one], name="grow")
    assert [d.name for d in p.sinks] == ["a1"]
    p.add(two)
    assert [d.name for d in p.sinks] == ["b1"] and _names(p.tasks) == ["one", "two"]


# -- whole-pipeline errors ---------------------------------------------------------------------


def test_cycle_shows_the_path() -> None:
    x, y, z = Dataset("x"), Dataset("y"), Dataset("z")

    @task()
    def a(data: z) -> x:
        return data

    @task()
    def b(data: x) -> y:
        return data

    @task()
    def c(data: y) -> z:
        return data

    p = Pipeline([c, b, a], name="loop")
    with pytest.raises(
        CycleError, match=r"pipeline 'loop' has a cycle: a -> b -> c -> a; a task cannot depend"
    ) as exc:
        p.validate()
    assert exc.value.cycle == ("a", "b", "c", "a")
    for call in (lambda: p.tasks, p.stages, p.spec, p.visualize):
        with pytest.raises(CycleError):
            call()


def test_self_cycle_via_depends_on_is_reported() -> None:
    x = Dataset("x")

    @task()
    def a(data: x) -> a1:
        return data

    @task(depends_on=[a])
    def b() -> x:
        raise NotImplementedError

    with pytest.raises(CycleError, match=r"has a cycle: a -> b -> a"):
        Pipeline([a, b], name="dep").validate()


def test_dataset_produced_twice() -> None:
    @task()
    def one(data: src_a) -> joined:
        return data

    @task()
    def two(data: src_b) -> joined:
        return data

    with pytest.raises(
        DuplicateProducerError,
        match=r"dataset 'joined' is produced by two tasks, 'one' and 'two'; a dataset has exactly one producer",
    ):
        Pipeline([two, one], name="dup").validate()


def test_duplicate_task_names() -> None:
    def make() -> Task:
        @task()
        def same(data: src_a) -> a1:
            return data

        return same

    with pytest.raises(
        DefinitionError,
        match=r"pipeline 'names': two tasks are named 'same' .*; rename one function or pass task\(name=...\)",
    ):
        Pipeline([make(), make()], name="names").validate()


def test_one_dataset_name_with_two_definitions() -> None:
    stored = Dataset("thing", storage=ObjectStorage())

    @task()
    def writer(data: src_a) -> stored:
        return data

    @task()
    def reader(data: Dataset("thing")) -> None:  # type: ignore[valid-type]
        return None

    with pytest.raises(
        DefinitionError,
        match=r"pipeline 'twice': dataset name 'thing' is declared twice with different definitions "
        r"\(Dataset\('thing', storage=ObjectStorage\(\)\) in task 'writer', Dataset\('thing'\) in task 'reader'\); "
        r"declare the Dataset once",
    ):
        Pipeline([writer, reader], name="twice").validate()


def test_equal_definitions_under_one_name_are_one_dataset() -> None:
    @task()
    def writer(data: src_a) -> Dataset("same"):  # type: ignore[valid-type]
        return data

    @task()
    def reader(data: Dataset("same")) -> None:  # type: ignore[valid-type]
        return None

    assert _names(Pipeline([reader, writer]).tasks) == ["writer", "reader"]


def test_depends_on_a_task_outside_the_pipeline() -> None:
    @task()
    def outside(data: src_a) -> a1:
        return data

    @task(depends_on=[outside])
    def inside(data: src_b) -> b1:
        return data

    with pytest.raises(
        DefinitionError,
        match=r"task 'inside' depends_on task 'outside', which is not part of the pipeline; add it",
    ):
        Pipeline([inside], name="partial").validate()


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"name": "Bad Name"}, r"Pipeline name 'Bad Name' is invalid: expected 1-40 characters"),
        ({"name": "x" * 41}, r"Pipeline name 'x{41}' is invalid"),
        (
            {"schedule": "daily"},
            r"pipeline 'pipeline': schedule 'daily' is not a cron expression; expected five",
        ),
        ({"schedule": "0 2 * *"}, r"schedule '0 2 \* \*' is not a cron expression"),
        ({"schedule": "0 2 * * $(rm)"}, r"is not a cron expression"),
        ({"description": 5}, r"pipeline 'pipeline': description must be a str, found 5"),
    ],
)
def test_bad_pipeline_arguments(kwargs: dict[str, object], pattern: str) -> None:
    with pytest.raises(DefinitionError, match=pattern):
        Pipeline(**kwargs)  # type: ignore[arg-type]


def test_valid_schedules_and_error_hierarchy() -> None:
    assert (
        Pipeline(name="a-b_1", schedule="*/15 0-6 * JAN-MAR MON-FRI").schedule
        == "*/15 0-6 * JAN-MAR MON-FRI"
    )
    assert issubclass(CycleError, DefinitionError) and issubclass(
        DuplicateProducerError, DefinitionError
    )
    assert issubclass(DefinitionError, GlacierError)
    assert Pipeline().validate().tasks == () and Pipeline().stages() == []
