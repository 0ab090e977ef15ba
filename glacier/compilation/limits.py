"""Fitting a set of grants under a provider's size limits: chunks of a policy, in order.

A cloud caps how much access one identity's policies may spell out (AWS IAM: 10,240
characters inline per role, 6,144 per managed policy, 10 managed policies per role; other
clouds cap conditions and bindings similarly). A provider renders its grants, measures each
as its cloud counts it, and asks :func:`fill` which chunk each goes in; the sizes, the
limits and how to split a grant are the provider's, the filling is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def fill(
    items: Sequence[T],
    size: Callable[[T], int],
    split: Callable[[T, int], tuple[T, T] | None],
    capacities: Sequence[int],
) -> list[list[T]] | None:
    """``items`` in consecutive chunks, chunk ``i`` holding at most ``capacities[i]`` (by
    ``size``); None when they need more chunks than there are.

    Items keep their order (a document reads like the grant list it came from, and compiling
    twice gives the same chunks). An item larger than the room left in a chunk is split
    there: ``split(item, room)`` gives a first part that fits ``room`` and the rest, or None
    when the item cannot be split so (then it starts the next chunk), so chunks fill up
    instead of each large item leaving the end of a chunk empty.
    """
    if not capacities:
        return None if items else []
    chunks: list[list[T]] = [[]]
    room = capacities[0]
    todo = list(reversed(items))
    while todo:
        item = todo.pop()
        need = size(item)
        if need <= room:
            chunks[-1].append(item)
            room -= need
            continue
        parts = split(item, room)
        if parts is not None:
            head, rest = parts
            chunks[-1].append(head)
            room -= size(head)
            todo.append(rest)
            continue
        if len(chunks) == len(capacities):
            return None
        chunks.append([])
        room = capacities[len(chunks) - 1]
        todo.append(item)
    return chunks


__all__ = ["fill"]
