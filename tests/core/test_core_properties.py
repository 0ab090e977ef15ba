"""Property tests on random DAGs: order respects edges, stages partition, everything is deterministic."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glacier import Dataset, Pipeline, Task
from glacier.errors import CycleError
from glacier.ir import PipelineIR


@dataclass(frozen=True)
class Shape:
    names: list[str]  # task i is named names[i]; names are a random permutation
    data_edges: dict[int, list[int]]  # task -> tasks whose outputs it reads
    order_edges: dict[int, list[int]]  # task -> tasks in depends_on
    seed: int


@st.composite
def dags(draw: st.DrawFn, max_tasks: int = 14) -> Shape:
    n = draw(st.integers(1, max_tasks))
    names = draw(st.permutations([f"t{i:02d}" for i in range(n)]))
    data_edges: dict[int, list[int]] = {}
    order_edges: dict[int, list[int]] = {}
    for i in range(n):
        earlier = list(range(i))
        data_edges[i] = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        )
        order_edges[i] = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=1)) if earlier else []
        )
    return Shape(list(names), data_edges, order_edges, draw(st.integers(0, 2**32)))


def _build(
    shape: Shape, back_edge: tuple[int, int] | None = None
) -> tuple[Pipeline, dict[str, set[str]]]:
    """Tasks from source text (the way users write them); returns the pipeline and its edges."""
    outputs = {i: Dataset(f"out_{name}") for i, name in enumerate(shape.names)}
    sources = {i: Dataset(f"src_{name}") for i, name in enumerate(shape.names)}
    tasks: dict[int, Task] = {}
    edges: dict[str, set[str]] = {name: set() for name in shape.names}
    for i, name in enumerate(shape.names):
        reads = list(shape.data_edges[i])
        if back_edge is not None and back_edge[0] == i:
            reads.append(back_edge[1])
        namespace: dict[str, object] = {"__name__": __name__, "src": sources[i], "out": outputs[i]}
        params = ["src_in: src"]
        for k, j in enumerate(reads):
            namespace[f"d{k}"] = outputs[j]
            params.append(f"in{k}: d{k}")
            edges[name].add(shape.names[j])
        exec(
            f"def {name}({', '.join(params)}, scale: float = 1.0) -> out:\n    return src_in\n",
            namespace,
        )
        deps = [tasks[j] for j in shape.order_edges[i]]
        edges[name].update(shape.names[j] for j in shape.order_edges[i])
        tasks[i] = Task(namespace[name], depends_on=deps, scope=namespace)  # type: ignore[arg-type]
    shuffled = list(tasks.values())
    random.Random(shape.seed).shuffle(shuffled)
    return Pipeline(shuffled, name="random"), edges


def _reference_order(edges: dict[str, set[str]]) -> list[str]:
    """The smallest-name-first topological order, computed the slow obvious way."""
    done: list[str] = []
    while len(done) < len(edges):
        ready = [n for n in edges if n not in done and edges[n] <= set(done)]
        done.append(min(ready))
    return done


def _closure(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(edges[start])
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges[node])
    return seen


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(dags())
def test_order_respects_every_edge_and_ties_break_by_name(shape: Shape) -> None:
    pipeline, edges = _build(shape)
    order = [t.name for t in pipeline.tasks]
    position = {name: i for i, name in enumerate(order)}
    assert sorted(order) == sorted(shape.names)
    for task, ups in edges.items():
        for up in ups:
            assert position[up] < position[task], (up, task)
    assert order == _reference_order(edges)


@SETTINGS
@given(dags())
def test_stages_partition_the_tasks_and_respect_edges(shape: Shape) -> None:
    pipeline, edges = _build(shape)
    stages = [[t.name for t in stage] for stage in pipeline.stages()]
    flat = [name for stage in stages for name in stage]
    assert sorted(flat) == sorted(shape.names) and len(flat) == len(set(flat))
    level = {name: i for i, stage in enumerate(stages) for name in stage}
    for task, ups in edges.items():
        # Each task sits exactly one stage after its latest upstream (longest path from a root).
        assert level[task] == 1 + max((level[u] for u in ups), default=-1)
    assert all(stage == sorted(stage) and stage for stage in stages)


@SETTINGS
@given(dags(), st.integers(0, 2**32))
def test_order_stages_and_spec_are_deterministic(shape: Shape, other_seed: int) -> None:
    first, _ = _build(shape)
    second, _ = _build(Shape(shape.names, shape.data_edges, shape.order_edges, other_seed))
    assert [t.name for t in first.tasks] == [t.name for t in second.tasks]
    assert first.stages() and [[t.name for t in s] for s in first.stages()] == [
        [t.name for t in s] for s in second.stages()
    ]

    def strip(spec: PipelineIR) -> PipelineIR:
        tasks = tuple(replace(t, code_hash="", module="", qualname="") for t in spec.tasks)
        return replace(spec, tasks=tasks)

    assert strip(first.spec()) == strip(second.spec())


@SETTINGS
@given(dags())
def test_upstream_and_downstream_match_the_transitive_closure(shape: Shape) -> None:
    pipeline, edges = _build(shape)
    reverse: dict[str, set[str]] = {n: set() for n in edges}
    for task, ups in edges.items():
        for up in ups:
            reverse[up].add(task)
    for name in shape.names:
        assert {t.name for t in pipeline.upstream(name)} == _closure(edges, name)
        assert {t.name for t in pipeline.upstream(name, direct=True)} == edges[name]
        assert {t.name for t in pipeline.downstream(name)} == _closure(reverse, name)
        assert {t.name for t in pipeline.downstream(name, direct=True)} == reverse[name]


@SETTINGS
@given(dags(max_tasks=10), st.data())
def test_select_is_the_producers_closure(shape: Shape, data: st.DataObject) -> None:
    pipeline, edges = _build(shape)
    wanted = data.draw(st.lists(st.sampled_from(shape.names), min_size=1, max_size=3, unique=True))
    sub = pipeline.select(*[f"out_{n}" for n in wanted])
    expected = set(wanted).union(*(_closure(edges, n) for n in wanted))
    assert {t.name for t in sub.tasks} == expected
    assert [t.name for t in sub.tasks] == [t.name for t in pipeline.tasks if t.name in expected]


@SETTINGS
@given(dags(), st.data())
def test_a_back_edge_is_reported_as_a_real_cycle(shape: Shape, data: st.DataObject) -> None:
    n = len(shape.names)
    if n < 2:
        return
    j = data.draw(st.integers(1, n - 1))
    i = data.draw(st.integers(0, j - 1))
    # Make i read j's output while j (transitively or not) comes after i: force a path i -> j.
    forced = Shape(
        shape.names,
        {**shape.data_edges, j: sorted({*shape.data_edges[j], i})},
        shape.order_edges,
        shape.seed,
    )
    pipeline, edges = _build(forced, back_edge=(i, j))
    with pytest.raises(CycleError) as exc:
        pipeline.validate()
    cycle = exc.value.cycle
    assert len(cycle) >= 3 and cycle[0] == cycle[-1]
    for up, down in itertools.pairwise(cycle):
        assert up in edges[down], (up, down, cycle)
    assert " -> ".join(cycle) in str(exc.value)
