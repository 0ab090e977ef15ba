"""Reading Logic App definitions back: the order tasks run in, across nested Logic Apps.

An action starts when every action in its ``runAfter`` has finished; so what has finished
before it starts is everything finished before the actions it runs after (the scope's own
start, for an action with none). A task's action is recognised by what it calls, never by its
name: an HTTP call whose body names the ``task`` (a function), or an ``Until`` loop whose
start call passes ``--task <name>`` to a job. A ``Workflow`` action runs a child Logic App,
read the same way, starting after what its parent action starts after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _task(action: Mapping[str, Any]) -> str | None:
    if action["type"] == "Http" and isinstance(action["inputs"].get("body"), dict):
        task = action["inputs"]["body"].get("task")
        return str(task) if task is not None else None
    if action["type"] == "Until":
        for inner in action["actions"].values():
            inputs = inner.get("inputs")  # a Compose's inputs are an expression
            body = (inputs.get("body") if isinstance(inputs, dict) else None) or {}
            for container in body.get("containers", ()):
                args = container["args"]
                return str(args[args.index("--task") + 1])
    return None


def finished_before(
    definition: Mapping[str, Any], children: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, frozenset[str]]]:
    """Per task action: (task, tasks finished on every path before it starts)."""
    found: list[tuple[str, frozenset[str]]] = []
    _scope(definition["actions"], frozenset(), children, found)
    return found


def _scope(actions: Mapping[str, Any], entry: frozenset[str],
           children: Mapping[str, Mapping[str, Any]],
           found: list[tuple[str, frozenset[str]]]) -> frozenset[str]:  # fmt: skip
    """Walk one scope; every task finished once it is done."""
    done: dict[str, frozenset[str]] = {}
    pending = dict(actions)
    while pending:
        ready = [n for n, a in pending.items() if all(u in done for u in a.get("runAfter", {}))]
        assert ready, f"runAfter names actions that never run: {sorted(pending)}"
        for name in ready:
            action = pending.pop(name)
            start = entry.union(*(done[u] for u in action.get("runAfter", {})))
            finished = start
            task = _task(action)
            if task is not None:
                found.append((task, start))
                finished = start | {task}
            elif action["type"] == "Workflow":
                child = children[action["inputs"]["host"]["workflow"]["id"]]
                finished = _scope(child["actions"], start, children, found)
            done[name] = finished
    return frozenset().union(entry, *done.values())
