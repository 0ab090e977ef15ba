"""A DAG as nested sequences and parallel branches: what every cloud orchestrator runs.

Step Functions, Workflows and Logic Apps express concurrency the same way: steps in a
sequence, and parallel blocks whose branches are sequences again. :func:`plan_dag` turns a
pipeline's tasks into that shape (:class:`Seq`, :class:`Par` and the tasks themselves as
leaves); a provider only renders it in its own orchestration language.

Any objects with a ``name`` and their direct ``upstream`` names, listed in topological order,
can be planned: the IR's tasks, or one provider's projection of them
(:mod:`glacier.compilation.projection`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, Union


class Planned(Protocol):
    """What planning reads of a task: its name and its direct upstream tasks' names."""

    @property
    def name(self) -> str: ...

    @property
    def upstream(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=Planned)


@dataclass(frozen=True)
class Seq(Generic[T]):
    """Run ``items`` one after another."""

    items: tuple[Node[T], ...]


@dataclass(frozen=True)
class Par(Generic[T]):
    """Run ``branches`` at the same time; done when all are."""

    branches: tuple[Node[T], ...]


Node = Union[T, Seq[T], Par[T]]

#: Deeper than this many nested parallel blocks or fallback cuts, a part of the DAG runs
#: level by level (a guard for pathological shapes; series-parallel DAGs this deep are rare).
MAX_NESTING = 64

#: Parts of a non-series-parallel DAG up to this size choose their cut by counting the waits
#: each would add; larger ones cut after their first level (keeps planning linear-ish).
SCORED_PART = 256


def plan_dag(tasks: Sequence[T]) -> Node[T]:
    """``tasks`` (in topological order) as nested sequences and parallel branches.

    A series-parallel DAG (chains, diamonds, independent branches of different lengths) is
    expressed exactly: no task waits for a task it does not depend on. Otherwise a greedy level
    cut is taken where no exact split exists: a task may then wait for an unrelated task of an
    earlier level, never for more than a stage-by-stage run would make it.
    """
    if not tasks:
        msg = "cannot plan an empty DAG: expected at least one task"
        raise ValueError(msg)
    index = {t.name: i for i, t in enumerate(tasks)}
    upstream = [tuple(index[u] for u in t.upstream) for t in tasks]
    ancestors = [0] * len(tasks)  # bit i: task i must finish first
    for i, ups in enumerate(upstream):  # tasks are in topological order
        for u in ups:
            ancestors[i] |= ancestors[u] | (1 << u)
    planner = _Planner(list(tasks), upstream, ancestors)
    return planner.plan(list(range(len(tasks))), 0)


@dataclass
class _Planner(Generic[T]):
    tasks: list[T]
    upstream: list[tuple[int, ...]]
    ancestors: list[int]

    def plan(self, nodes: list[int], nesting: int) -> Node[T]:
        """``nodes``: indices in topological order."""
        if len(nodes) == 1:
            return self.tasks[nodes[0]]
        parts = self._components(nodes)
        if len(parts) > 1:
            return Par(tuple(self.plan(part, nesting + 1) for part in parts))
        levels = self._levels(nodes)
        if nesting > MAX_NESTING:
            return Seq(tuple(self._level(level) for level in levels))
        segments, exact = self._split(levels)
        items: list[Node[T]] = []
        for segment in segments:
            # An exact segment has no exact cut of its own, so it plans to one task, parallel
            # parts or a fallback split: only those nest deeper.
            part = self.plan(segment, nesting if exact else nesting + 1)
            items.extend(part.items if isinstance(part, Seq) else (part,))
        return Seq(tuple(items))

    def _level(self, level: list[int]) -> Node[T]:
        if len(level) == 1:
            return self.tasks[level[0]]
        return Par(tuple(self.tasks[i] for i in level))

    def _components(self, nodes: list[int]) -> list[list[int]]:
        """Weakly connected parts of ``nodes``, each in topological order, by first task."""
        inside = set(nodes)
        parent = {n: n for n in nodes}

        def root(n: int) -> int:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        for n in nodes:
            for u in self.upstream[n]:
                if u in inside:
                    parent[root(u)] = root(n)
        groups: dict[int, list[int]] = {}
        for n in nodes:
            groups.setdefault(root(n), []).append(n)
        return sorted(groups.values(), key=lambda g: g[0])

    def _levels(self, nodes: list[int]) -> list[list[int]]:
        """``nodes`` by longest distance from a root of their own sub-DAG."""
        inside = set(nodes)
        depth: dict[int, int] = {}
        for n in nodes:
            depth[n] = max((depth[u] + 1 for u in self.upstream[n] if u in inside), default=0)
        levels: list[list[int]] = [[] for _ in range(max(depth.values()) + 1)]
        for n in nodes:
            levels[depth[n]].append(n)
        return levels

    def _split(self, levels: list[list[int]]) -> tuple[list[list[int]], bool]:
        """Consecutive groups of levels such that every task of a group waits only for tasks
        it depends on in the groups before it (True); or, when no such split exists, two
        groups (False): for parts of up to ``SCORED_PART`` tasks, at the level cut that adds
        the fewest waits, else after the first level."""
        masks = [sum(1 << n for n in level) for level in levels]
        after_common = [0] * len(levels)  # ancestors every task of levels k.. shares
        common = -1
        for k in range(len(levels) - 1, 0, -1):
            for n in levels[k]:
                common &= self.ancestors[n]
            after_common[k] = common
        before, exact = 0, []
        for k in range(1, len(levels)):
            before |= masks[k - 1]
            if before & ~after_common[k] == 0:
                exact.append(k)
        cuts = exact or [self._fewest_waits(levels, masks)]
        bounds = [0, *cuts, len(levels)]
        groups = [
            sorted(n for level in levels[a:b] for n in level) for a, b in itertools.pairwise(bounds)
        ]
        return groups, bool(exact)

    def _fewest_waits(self, levels: list[list[int]], masks: list[int]) -> int:
        if sum(map(len, levels)) > SCORED_PART:
            return 1
        best, best_k, before = -1, 1, 0
        for k in range(1, len(levels)):
            before |= masks[k - 1]
            waits = sum(
                (before & ~self.ancestors[n]).bit_count() for level in levels[k:] for n in level
            )
            if best < 0 or waits < best:
                best, best_k = waits, k
        return best_k


def branch_label(node: Node[T]) -> str:
    """A short description of a branch: its first and last task (``a ... f``)."""
    if isinstance(node, Seq):
        first, last = branch_label(node.items[0]), branch_label(node.items[-1])
        return f"{first.split(' ')[0]} ... {last.split(' ')[-1]}"
    if isinstance(node, Par):
        return " | ".join(branch_label(b) for b in node.branches)
    return node.name


__all__ = [
    "MAX_NESTING",
    "SCORED_PART",
    "Node",
    "Par",
    "Planned",
    "Seq",
    "branch_label",
    "plan_dag",
]
