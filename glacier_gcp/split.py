"""Cutting a pipeline's plan into parts small enough for Workflows, at any pipeline size.

Workflows refuses a definition over 128,000 bytes, and one task's call costs a few hundred
bytes once its function URL is filled in, so a large pipeline cannot be one definition. The
plan (:func:`glacier_gcp.workflow.fit`'s, already within the branch and nesting limits) is cut
into *bodies*: the DAG itself and parts, each calling at most ``MAX_INLINE_TASKS`` tasks
directly; a part runs as a child execution, which its caller waits for, exactly where the
subtree it replaces stood, so every task still starts when its upstream tasks are done. The
bodies are then packed, in the order they call each other, into as few definitions as fit
(see :func:`pack`): a definition only ever starts parts of itself or of a later definition, so
the stack creates them last to first, each knowing the names of those it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

from glacier.compilation.planning import Node, Par, Seq
from glacier.ir import TaskIR

#: Tasks one body (the DAG or a part) calls directly; the rest run in its child executions.
MAX_INLINE_TASKS = 100


@dataclass(frozen=True)
class Part:
    """A part of the plan run as a child execution (``part`` argument ``number``): it starts
    with a fresh nesting budget and its own definition size."""

    number: int


Fitted = Union[Node[TaskIR], Part]


def _seq(items: Sequence[Fitted]) -> Fitted:
    """A sequence that may hold parts (the planner's nodes take tasks only)."""
    return Seq(tuple(items))  # type: ignore[arg-type]


def _par(branches: Sequence[Fitted]) -> Fitted:
    return Par(tuple(branches))  # type: ignore[arg-type]


def _park(body: Fitted, parts: list[Fitted]) -> Part:
    parts.append(body)
    return Part(len(parts))


def _chunks(items: list[tuple[Fitted, int]], limit: int) -> list[list[tuple[Fitted, int]]]:
    chunks: list[list[tuple[Fitted, int]]] = [[]]
    size = 0
    for item, weight in items:
        if chunks[-1] and size + weight > limit:
            chunks.append([])
            size = 0
        chunks[-1].append((item, weight))
        size += weight
    return chunks


def _chunk(chunk: list[tuple[Fitted, int]], parts: list[Fitted]) -> tuple[Fitted, int]:
    """A run of steps as one step: a part (a lone part or task stays as it is)."""
    if len(chunk) == 1 and chunk[0][1] == 1:
        return chunk[0]
    body = chunk[0][0] if len(chunk) == 1 else _seq([i for i, _ in chunk])
    return _park(body, parts), 1


def carve(node: Fitted, parts: list[Fitted], limit: int) -> tuple[Fitted, int]:
    """``node`` calling at most ``limit`` tasks (and parts) directly, and that count: the
    heaviest branches of a parallel step, and runs of consecutive steps of a sequence, become
    parts (appended to ``parts``) until it fits."""
    if isinstance(node, Seq):
        items = [carve(item, parts, limit) for item in node.items]
        while sum(w for _, w in items) > limit:
            items = [_chunk(chunk, parts) for chunk in _chunks(items, limit)]
        return _seq([i for i, _ in items]), sum(w for _, w in items)
    if isinstance(node, Par):
        branches = [carve(b, parts, limit) for b in node.branches]
        while sum(w for _, w in branches) > limit:
            heaviest = max(range(len(branches)), key=lambda k: branches[k][1])
            branches[heaviest] = (_park(branches[heaviest][0], parts), 1)
        return _par([b for b, _ in branches]), sum(w for _, w in branches)
    return node, 1


def carve_all(plan: Fitted, parts: list[Fitted], limit: int | None = None) -> Fitted:
    """The plan and every part carved to ``limit`` tasks (default ``MAX_INLINE_TASKS``; new
    parts are appended to ``parts``)."""
    limit = MAX_INLINE_TASKS if limit is None else limit
    assert limit >= 10, "a parallel step of 10 branches must fit one body"
    plan = carve(plan, parts, limit)[0]
    index = 0
    while index < len(parts):
        parts[index] = carve(parts[index], parts, limit)[0]
        index += 1
    return plan


def renumber(plan: Fitted, parts: list[Fitted]) -> tuple[Fitted, list[Fitted]]:
    """The plan and its parts numbered in the order they are started (breadth first from the
    DAG), so a part's number is always greater than its caller's."""
    order: list[Fitted] = []

    def relabel(node: Fitted) -> Fitted:
        if isinstance(node, Part):
            order.append(parts[node.number - 1])
            return Part(len(order))
        if isinstance(node, Seq):
            return _seq([relabel(i) for i in node.items])
        if isinstance(node, Par):
            return _par([relabel(b) for b in node.branches])
        return node

    plan = relabel(plan)
    done: list[Fitted] = []
    while len(done) < len(order):
        done.append(relabel(order[len(done)]))
    return plan, done


def pack(sizes: Sequence[int], first: int, overhead: int, budget: int) -> list[int]:
    """The definition (1 = the main one) holding each part, in number order: definition 1
    holds ``first`` bytes (its ``main`` and the DAG) and every definition ``overhead`` bytes
    (its helpers), then parts are added while the total stays within ``budget``."""
    homes: list[int] = []
    home, used = 1, first + overhead
    for size in sizes:
        if used + size > budget and used > overhead:
            home, used = home + 1, overhead
        homes.append(home)
        used += size
    return homes


def tasks_in(node: Fitted, visit: Callable[[TaskIR], None]) -> None:
    """Call ``visit`` on each task a body calls directly (not those of its parts)."""
    if isinstance(node, Seq):
        for item in node.items:
            tasks_in(item, visit)
    elif isinstance(node, Par):
        for branch in node.branches:
            tasks_in(branch, visit)
    elif not isinstance(node, Part):
        visit(node)


__all__ = [
    "MAX_INLINE_TASKS",
    "Fitted",
    "Part",
    "carve",
    "carve_all",
    "pack",
    "renumber",
    "tasks_in",
]
