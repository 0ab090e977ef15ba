"""One provider's share of a placed DAG, and the one rule for edges that cross providers.

After placement (:mod:`glacier.compilation.resolve`) every task and dataset has a provider.
Each provider's stack runs its own tasks with its own orchestrator, which cannot see the
others' tasks. The rule for an edge whose two ends are on different providers:

    **The data crosses; the wait is projected.** A dataset read or written on another
    provider than the one storing it is a cross-provider transfer (reported, with that
    provider's egress price, because egress is billed per GB). A task whose upstream task
    runs on another provider waits instead for that task's nearest upstream tasks on its own
    provider, through any chain of foreign tasks: its orchestrator keeps every ordering it
    can express and drops only waits on tasks it cannot see.

Both halves read only names and placements, so every provider applies the rule the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from glacier.compilation.planning import Planned
from glacier.compilation.resolve import Placement
from glacier.ir import PipelineIR


class _Flowing(Protocol):
    """What the data half of the rule reads of a dataset: who writes and reads it."""

    @property
    def name(self) -> str: ...

    @property
    def producer(self) -> str | None: ...

    @property
    def consumers(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Crossing:
    """Data moving between providers: ``dataset`` from ``producer`` (``"(source)"`` for a
    source) to ``consumer`` (``"<dataset> storage"`` for a write to another provider)."""

    dataset: str
    producer: str
    consumer: str
    from_provider: str
    to_provider: str


def upstream_on(
    tasks: Sequence[Planned], placement: Placement, provider: str
) -> dict[str, tuple[str, ...]]:
    """Each task on ``provider`` -> the tasks it waits for there, by the rule above
    (``tasks`` in topological order)."""
    on = placement.tasks
    by_name = {t.name: t for t in tasks}
    nearest: dict[str, frozenset[str]] = {}

    def seen_from(name: str) -> frozenset[str]:
        """The tasks on ``provider`` nearest upstream of ``name``."""
        if name not in nearest:
            found: set[str] = set()
            for up in by_name[name].upstream:
                found |= {up} if on[up] == provider else seen_from(up)
            nearest[name] = frozenset(found)
        return nearest[name]

    return {
        t.name: t.upstream
        if all(on[u] == provider for u in t.upstream)
        else tuple(sorted(seen_from(t.name)))
        for t in tasks
        if on[t.name] == provider
    }


def spec_on(spec: PipelineIR, placement: Placement, provider: str) -> PipelineIR:
    """``spec`` with only ``provider``'s tasks and stages, each task waiting for its
    upstream tasks there (:func:`upstream_on`); datasets are kept whole."""
    upstream = upstream_on(spec.tasks, placement, provider)
    stages = tuple(s for s in (tuple(n for n in st if n in upstream) for st in spec.stages) if s)
    tasks = tuple(
        t if t.upstream == upstream[t.name] else replace(t, upstream=upstream[t.name])
        for t in spec.tasks
        if t.name in upstream
    )
    return replace(spec, tasks=tasks, stages=stages)


def storage_of(ds: _Flowing) -> str:
    return f"{ds.name} storage"


def crossings(datasets: Iterable[_Flowing], placement: Placement) -> list[Crossing]:
    """Every (dataset, writer or reader) pair whose two ends are on different providers: a
    write into storage on another provider, and each read from storage on another one."""
    found = []
    tasks = placement.tasks
    for ds in datasets:
        home = placement.datasets[ds.name]
        producer = ds.producer or "(source)"
        if ds.producer is not None and tasks[ds.producer] != home:
            storage = storage_of(ds)
            found.append(Crossing(ds.name, producer, storage, tasks[ds.producer], home))
        # a reader reads the storage; it names the writer only when the writer runs there too
        source = producer if ds.producer is None or tasks[ds.producer] == home else storage_of(ds)
        for consumer in ds.consumers:
            if tasks[consumer] != home:
                found.append(Crossing(ds.name, source, consumer, home, tasks[consumer]))
    return found


__all__ = ["Crossing", "crossings", "spec_on", "upstream_on"]
