"""Reading a Step Functions definition (Amazon States Language) back: order and expressions.

``finished_before`` walks the definition's successful paths (``Next``, ``Default``, each
choice; never a ``Catch``, which leads to failure handling) and computes, for every Task
state, the Task states that have completed on *every* path reaching it: a must-analysis
over the state graph, where a Parallel state completes when each branch has reached its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

State = dict[str, Any]
#: Names the pipeline task a Task state runs, or None for a state that runs no task.
TaskOf = Callable[[State], "str | None"]

_PASS_THROUGH = frozenset({"Pass", "Choice", "Wait", "Succeed"})


def finished_before(machine: dict[str, Any], task_of: TaskOf) -> list[tuple[str, frozenset[str]]]:
    """Per Task state that runs a pipeline task: (task, tasks finished before it starts)."""
    found: list[tuple[str, frozenset[str]]] = []
    _walk(machine, frozenset(), task_of, found)
    return found


def _successors(state: State) -> list[str]:
    nexts = [state["Next"]] if "Next" in state else []
    nexts += [c["Next"] for c in state.get("Choices", ())]
    if "Default" in state:
        nexts.append(state["Default"])
    return nexts


def _topological(states: dict[str, State], start: str) -> list[str]:
    """The states reachable from ``start`` on successful paths, in topological order."""
    reachable, todo = {start}, [start]
    while todo:
        for nxt in _successors(states[todo.pop()]):
            if nxt not in states:
                raise AssertionError(f"state machine: Next {nxt!r} names no state")
            if nxt not in reachable:
                reachable.add(nxt)
                todo.append(nxt)
    incoming = dict.fromkeys(reachable, 0)
    for name in reachable:
        for nxt in _successors(states[name]):
            incoming[nxt] += 1
    order, ready = [], [n for n in sorted(reachable) if incoming[n] == 0]
    while ready:
        name = ready.pop()
        order.append(name)
        for nxt in _successors(states[name]):
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                ready.append(nxt)
    if len(order) != len(reachable):
        raise AssertionError("state machine: its successful paths loop; a DAG run cannot")
    return order


def _walk(
    machine: dict[str, Any],
    entry: frozenset[str],
    task_of: TaskOf,
    found: list[tuple[str, frozenset[str]]],
) -> frozenset[str]:
    """Record each Task state's predecessors; return the tasks done when ``machine`` ends."""
    states: dict[str, State] = machine["States"]
    done_in: dict[str, frozenset[str]] = {machine["StartAt"]: entry}
    ends: list[frozenset[str]] = []
    for name in _topological(states, machine["StartAt"]):
        state, before = states[name], done_in[name]
        kind = state["Type"]
        if kind == "Fail":
            continue
        if kind == "Task":
            task = task_of(state)
            after = before if task is None else before | {task}
            if task is not None:
                found.append((task, before))
        elif kind == "Parallel":
            after = before.union(*(_walk(b, before, task_of, found) for b in state["Branches"]))
        elif kind in _PASS_THROUGH:
            after = before
        else:
            raise AssertionError(f"state {name!r}: the reader does not know {kind} states")
        for nxt in _successors(state):
            done_in[nxt] = done_in[nxt] & after if nxt in done_in else after
        if state.get("End") or kind == "Succeed":
            ends.append(after)
    if not ends:
        raise AssertionError(f"state machine starting at {machine['StartAt']!r} never ends")
    return frozenset.intersection(*ends)


def expressions(document: Any) -> list[str]:
    """Every expression Step Functions evaluates in ``document``, in document order.

    JSONPath: a field whose name ends in ``.$`` (its value is a path or an intrinsic such as
    ``States.Format``), and the path fields; JSONata: a string wrapped in ``{% %}``.
    """
    return list(_expressions(document))


_PATH_FIELDS = frozenset(
    {"Variable", "InputPath", "OutputPath", "ResultPath", "ItemsPath", "ErrorPath", "CausePath"}
)


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith(".$") or (key in _PATH_FIELDS and isinstance(value, str)):
                yield f"{key}={value}"
            yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)
    elif isinstance(node, str) and node.strip().startswith("{%"):
        yield node
