"""Reading a Cloud Workflows definition back: the order tasks run in, and its expressions.

``finished_before`` walks the DAG's steps: a list of steps runs in order, a ``parallel``
step's branches each start after what ran before it and the step completes when every
branch has; a step that calls a task (through the subworkflow it calls, recognised by the
function URL or job name in its arguments) records what has finished before it starts. The
generated ``main`` has no jumps (``next``) and no conditions, and the reader refuses one that
does rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

#: Names the pipeline task a call step runs (from its ``args``), or None for another step.
TaskOf = Callable[[dict[str, Any]], "str | None"]
_EXPRESSION = re.compile(r"\$\{.*?\}")


#: How a step names the workflow it runs in (a part of the same workflow).
THIS_WORKFLOW = '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}'


def finished_before(
    documents: dict[str, dict[str, Any]], main: str, task_of: TaskOf
) -> list[tuple[str, frozenset[str]]]:
    """Per step that runs a task, starting from ``dag`` in workflow ``main`` (``documents``:
    each deployed workflow's definition by its name): (task, tasks finished before it
    starts). A part is read from the workflow its step names, as its child execution would
    run it (that workflow's ``main`` dispatching on the ``part`` argument)."""
    found: list[tuple[str, frozenset[str]]] = []
    reader = _Reader(documents, task_of)
    _walk(documents[main]["dag"]["steps"], frozenset(), reader, found, main)
    return found


class _Reader:
    """Maps a call step to its task, or to the part of the DAG it runs as a child execution."""

    def __init__(self, documents: dict[str, dict[str, Any]], task_of: TaskOf) -> None:
        self.documents, self.task_of = documents, task_of

    def part(self, body: dict[str, Any], here: str) -> tuple[list[dict[str, Any]], str] | None:
        if body.get("call") != "run_part":
            return None
        args = body["args"]
        home = here if args["workflow"] == THIS_WORKFLOW else args["workflow"]
        document = self.documents[home]
        number = args["part"]
        dispatch = [
            choice["next"]
            for step in document["main"]["steps"]
            for name, inner in step.items()
            if name.startswith("choose_part_")
            for choice in inner["switch"]
            if choice["condition"] == f"${{part == {number}}}"
        ]
        assert dispatch == [f"part_{number}_run"], f"{home}: main does not start part {number}"
        steps: list[dict[str, Any]] = document[f"part_{number}"]["steps"]
        return steps, home


def _walk(
    steps: list[dict[str, Any]],
    done: frozenset[str],
    reader: _Reader,
    found: list[tuple[str, frozenset[str]]],
    here: str,
) -> frozenset[str]:
    for step in steps:
        ((name, body),) = step.items()
        if "next" in body or "switch" in body:
            raise AssertionError(f"step {name!r}: the reader does not follow jumps or switches")
        if "parallel" in body:
            branches = body["parallel"]["branches"]
            ends = [_walk(b_body["steps"], done, reader, found, here)
                    for branch in branches for b_body in branch.values()]  # fmt: skip
            done = done.union(*ends)
        elif "steps" in body:
            done = _walk(body["steps"], done, reader, found, here)
        elif (part := reader.part(body, here)) is not None:
            done = _walk(part[0], done, reader, found, part[1])
        elif "call" in body:
            task = reader.task_of(body.get("args") or {})
            if task is not None:
                found.append((task, done))
                done = done | {task}
    return done


def parallel_shape(document: dict[str, Any]) -> tuple[list[int], int]:
    """(branches of each parallel step, the deepest nesting of parallel steps within one
    execution) over the DAG and each part (a part runs as its own execution)."""
    widths: list[int] = []

    def depth(steps: list[dict[str, Any]]) -> int:
        deepest = 0
        for step in steps:
            ((_, body),) = step.items()
            if "parallel" in body:
                branches = [b for branch in body["parallel"]["branches"] for b in branch.values()]
                widths.append(len(branches))
                deepest = max(deepest, 1 + max(depth(b["steps"]) for b in branches))
            elif "steps" in body:
                deepest = max(deepest, depth(body["steps"]))
        return deepest

    roots = [v["steps"] for k, v in document.items() if k == "dag" or k.startswith("part_")]
    return widths, max(depth(steps) for steps in roots)


def switch_sizes(document: dict[str, Any]) -> list[tuple[str, int]]:
    """(subworkflow and step, its conditions) for every ``switch`` step of ``document``."""
    found: list[tuple[str, int]] = []

    def visit(where: str, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            ((name, body),) = step.items()
            if "switch" in body:
                found.append((f"{where}.{name}", len(body["switch"])))
            for branch in (body.get("parallel") or {}).get("branches", ()):
                for inner in branch.values():
                    visit(where, inner["steps"])
            if "steps" in body:
                visit(where, body["steps"])

    for sub, body in document.items():
        visit(sub, body["steps"])
    return found


def expressions(document: Any) -> list[str]:
    """Every ``${...}`` expression Workflows evaluates in ``document``, in document order."""
    return list(_expressions(document))


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _expressions(key)
            yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)
    elif isinstance(node, str):
        yield from _EXPRESSION.findall(node)
