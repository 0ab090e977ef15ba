"""The DAG inferred from task signatures, and the pure checks that validate it.

``build_dag(tasks)`` either returns an immutable :class:`DAG` or raises the first
:class:`~glacier.errors.DefinitionError` it finds. Every ordering is deterministic: ties
between tasks are broken by name, so the same pipeline always gives the same order, stages
and IR.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from glacier.dataset import Dataset
from glacier.errors import CycleError, DefinitionError, DuplicateProducerError
from glacier.task import Task


@dataclass(frozen=True)
class DAG:
    """Tasks and datasets with their edges, validated. Task names key every mapping."""

    tasks: dict[str, Task]  # in topological order
    datasets: dict[str, Dataset]  # sorted by name
    producer: dict[str, str]  # dataset -> task that writes it
    consumers: dict[str, tuple[str, ...]]  # dataset -> tasks that read it, sorted
    upstream: dict[str, tuple[str, ...]]  # task -> direct upstream tasks, sorted
    downstream: dict[str, tuple[str, ...]]  # task -> direct downstream tasks, sorted
    stages: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(self.tasks)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(n for n in self.datasets if n not in self.producer)

    @property
    def sinks(self) -> tuple[str, ...]:
        return tuple(n for n in self.datasets if not self.consumers.get(n))

    def ancestors(self, names: Iterable[str]) -> set[str]:
        """Every task the given tasks depend on, transitively (excluding themselves)."""
        return _reach(names, self.upstream)

    def descendants(self, names: Iterable[str]) -> set[str]:
        return _reach(names, self.downstream)

    def required_for(self, datasets: Iterable[str]) -> set[str]:
        """The tasks needed to produce ``datasets``: their producers and everything upstream."""
        producers = {self.producer[d] for d in datasets if d in self.producer}
        return producers | self.ancestors(producers)


def _reach(start: Iterable[str], edges: dict[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    stack = [n for s in start for n in edges.get(s, ())]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return seen


def check_unique_tasks(tasks: Sequence[Task], pipeline: str) -> dict[str, Task]:
    by_name: dict[str, Task] = {}
    for t in tasks:
        other = by_name.get(t.name)
        if other is not None and other is not t:
            msg = (
                f"pipeline {pipeline!r}: two tasks are named {t.name!r} "
                f"({other.fn.__module__}.{other.fn.__qualname__} and {t.fn.__module__}.{t.fn.__qualname__}); "
                "rename one function or pass task(name=...)"
            )
            raise DefinitionError(msg)
        by_name[t.name] = t
    return by_name


def collect_datasets(tasks: Iterable[Task], pipeline: str) -> dict[str, Dataset]:
    """Every dataset the tasks mention; one name must mean one definition."""
    found: dict[str, tuple[Dataset, str]] = {}
    for t in tasks:
        for ds in (*t.input_datasets, *t.outputs):
            seen = found.get(ds.name)
            if seen is None:
                found[ds.name] = (ds, t.name)
            elif seen[0] is not ds and seen[0] != ds:
                msg = (
                    f"pipeline {pipeline!r}: dataset name {ds.name!r} is declared twice with different "
                    f"definitions ({seen[0]!r} in task {seen[1]!r}, {ds!r} in task {t.name!r}); declare "
                    "the Dataset once and use that object in every task"
                )
                raise DefinitionError(msg)
    return {name: found[name][0] for name in sorted(found)}


def find_producers(tasks: Iterable[Task]) -> dict[str, str]:
    producer: dict[str, str] = {}
    for t in tasks:
        for ds in t.outputs:
            if ds.name in producer:
                first, second = sorted((producer[ds.name], t.name))
                msg = (
                    f"dataset {ds.name!r} is produced by two tasks, {first!r} and {second!r}; a dataset "
                    "has exactly one producer: write to a second dataset and combine them downstream"
                )
                raise DuplicateProducerError(msg)
            producer[ds.name] = t.name
    return producer


def check_depends_on(by_name: dict[str, Task], pipeline: str) -> None:
    for t in by_name.values():
        for dep in t.depends_on:
            if by_name.get(dep.name) is not dep:
                msg = (
                    f"pipeline {pipeline!r}: task {t.name!r} depends_on task {dep.name!r}, which is not "
                    f"part of the pipeline; add it with pipeline.add({dep.name}) or Pipeline([...])"
                )
                raise DefinitionError(msg)


def _edges(by_name: dict[str, Task], producer: dict[str, str]) -> dict[str, set[str]]:
    upstream: dict[str, set[str]] = {name: set() for name in by_name}
    for t in by_name.values():
        for ds in t.input_datasets:
            if ds.name in producer:
                upstream[t.name].add(producer[ds.name])
        upstream[t.name].update(d.name for d in t.depends_on)
    return upstream


def find_cycle(upstream: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a path of task names (first name repeated at the end), or None."""
    downstream = _downstream(upstream)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(upstream):
        if root in state:
            continue
        path = [root]
        state[root] = 1
        iters = [iter(sorted(downstream[root]))]
        while iters:
            child = next(iters[-1], None)
            if child is None:
                state[path.pop()] = 2
                iters.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                iters.append(iter(sorted(downstream[child])))
    return None


def _downstream(upstream: dict[str, set[str]]) -> dict[str, list[str]]:
    downstream: dict[str, list[str]] = {n: [] for n in upstream}
    for node, ups in upstream.items():
        for u in ups:
            downstream[u].append(node)
    return downstream


def topological_order(upstream: dict[str, set[str]]) -> list[str]:
    """Kahn's algorithm with a name-ordered heap: deterministic, ties by name."""
    remaining = {n: len(ups) for n, ups in upstream.items()}
    downstream = _downstream(upstream)
    ready = [n for n, k in remaining.items() if k == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for d in downstream[node]:
            remaining[d] -= 1
            if remaining[d] == 0:
                heapq.heappush(ready, d)
    return order


def compute_stages(
    order: Sequence[str], upstream: dict[str, set[str]]
) -> tuple[tuple[str, ...], ...]:
    """Group tasks by longest distance from a root: each stage only needs earlier stages."""
    level: dict[str, int] = {}
    for name in order:
        ups = upstream[name]
        level[name] = 1 + max([level[u] for u in ups]) if ups else 0
    stages: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in order:
        stages[level[name]].append(name)
    return tuple(tuple(sorted(s)) for s in stages)


def build_dag(tasks: Sequence[Task], pipeline: str = "pipeline") -> DAG:
    """Validate ``tasks`` as one pipeline and return its DAG."""
    by_name = check_unique_tasks(tasks, pipeline)
    datasets = collect_datasets(by_name.values(), pipeline)
    producer = find_producers(by_name.values())
    check_depends_on(by_name, pipeline)
    upstream = _edges(by_name, producer)
    order = topological_order(upstream)
    if len(order) != len(by_name):
        cycle = find_cycle(upstream) or []
        msg = (
            f"pipeline {pipeline!r} has a cycle: {' -> '.join(cycle)}; a task cannot depend, directly "
            "or through other tasks, on its own output: break the cycle by writing a new dataset"
        )
        raise CycleError(msg, tuple(cycle))
    consumers: dict[str, set[str]] = {name: set() for name in datasets}
    for t in by_name.values():
        for ds in t.input_datasets:
            consumers[ds.name].add(t.name)
    return DAG(
        tasks={name: by_name[name] for name in order},
        datasets=datasets,
        producer=producer,
        consumers={k: tuple(sorted(v)) for k, v in consumers.items()},
        upstream={k: tuple(sorted(v)) for k, v in upstream.items()},
        downstream={k: tuple(sorted(v)) for k, v in _downstream(upstream).items()},
        stages=compute_stages(order, upstream),
    )
