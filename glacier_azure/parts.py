"""A pipeline too large for one Logic App, split over nested Logic Apps without losing order.

A Consumption Logic App holds at most 500 actions (nested ones included); a function task
takes one, a job task nine, so a few hundred tasks need more than one. The DAG is planned
into sequences and parallel parts (:func:`glacier.compilation.planning.plan_dag`, exact for
series-parallel DAGs: no task waits for a task it does not depend on); the largest parts of
the plan move into child Logic Apps, each run by one ``Workflow`` action of its parent (which
waits for the child's asynchronous ``Response``), until every definition fits. Inside a
definition a sequence becomes a chain of ``runAfter`` and a parallel part actions that all
run after the same ones. Every child gets the run id in its request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glacier.compilation.planning import Node, Par, Seq, plan_dag
from glacier.ir import PipelineIR, TaskIR
from glacier_azure.workflow import (
    MAX_ACTIONS,
    RUN_ID,
    Target,
    action_name,
    check_names,
    count_actions,
    definition,
    document,
    run_id_action,
    task_actions,
    trigger,
)

#: Actions a job task takes (attempts, start, wait, delay, status, outcome, verdict, check,
#: failure).
JOB_ACTIONS = 9
#: What a child spends besides its tasks: ``run_id`` and its ``Response``; a parent: ``run_id``.
CHILD_BUDGET, PARENT_BUDGET = MAX_ACTIONS - 2, MAX_ACTIONS - 1
_CHILD_TRIGGER = {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {
    "type": "object", "properties": {RUN_ID: {"type": "string"}}}}}}  # fmt: skip


@dataclass(frozen=True)
class Part:
    """A part of the plan run as child Logic App ``number`` (one action in its parent)."""

    number: int


Planned = Node[TaskIR] | Part


@dataclass
class _Splitter:
    targets: Mapping[str, Target]
    parts: list[Planned]

    def size(self, node: Planned) -> int:
        if isinstance(node, Part):
            return 1
        if isinstance(node, Seq | Par):
            items = node.items if isinstance(node, Seq) else node.branches
            return sum(self.size(i) for i in items)
        return 1 if self.targets[node.name].kind == "function" else JOB_ACTIONS

    def fit(self, node: Planned, budget: int) -> Planned:
        """``node`` with parts moved out until it takes at most ``budget`` actions."""
        if self.size(node) <= budget or not isinstance(node, Seq | Par):
            return node
        items: list[Planned] = list(node.items if isinstance(node, Seq) else node.branches)
        while sum(self.size(i) for i in items) > budget:
            biggest = max(range(len(items)), key=lambda i: self.size(items[i]))
            if self.size(items[biggest]) <= 1:
                items = self._grouped(items, type(node))
                break
            items[biggest] = self.outline(items[biggest])
        return Seq(tuple(items)) if isinstance(node, Seq) else Par(tuple(items))  # type: ignore[arg-type]

    def _grouped(self, items: list[Planned], kind: type) -> list[Planned]:
        """Single-action items in groups of ``CHILD_BUDGET``, each group one child."""
        groups = [items[i : i + CHILD_BUDGET] for i in range(0, len(items), CHILD_BUDGET)]
        return [self.outline(kind(tuple(g))) for g in groups]

    def outline(self, node: Planned) -> Part:
        """``node`` as a child Logic App (fitted to a child's budget itself)."""
        self.parts.append(node)
        index = len(self.parts)
        self.parts[index - 1] = self.fit(node, CHILD_BUDGET)
        return Part(index)


def _render(node: Planned, after: dict[str, list[str]], actions: dict[str, Any],
            targets: Mapping[str, Target]) -> list[str]:  # fmt: skip
    """Add ``node``'s actions, starting after ``after``; the actions that end it."""
    if isinstance(node, Part):
        actions[f"part_{node.number}"] = {
            "type": "Workflow",
            "inputs": {"host": {"triggerName": "manual",
                                "workflow": {"id": f"<<logic_part_{node.number}.id>>"}},
                       "body": {RUN_ID: f"@{{variables('{RUN_ID}')}}"}},
            "runAfter": after,
        }  # fmt: skip
        return [f"part_{node.number}"]
    if isinstance(node, Seq):
        exits: list[str] = []
        for item in node.items:
            exits = _render(item, after, actions, targets)
            after = {e: ["Succeeded"] for e in exits}
        return exits
    if isinstance(node, Par):
        return [e for b in node.branches for e in _render(b, after, actions, targets)]
    actions.update(task_actions(node.name, targets[node.name], after))
    return [action_name(node.name)]


def _child(node: Planned, targets: Mapping[str, Target]) -> dict[str, Any]:
    own = "workflow()['run']['name']"
    start = {"type": "InitializeVariable", "inputs": {"variables": [{"name": RUN_ID,
             "type": "string", "value": f"@{{coalesce(triggerBody()?['{RUN_ID}'], {own})}}"}]},
             "runAfter": {}}  # fmt: skip
    actions: dict[str, Any] = {RUN_ID: start}
    exits = _render(node, {RUN_ID: ["Succeeded"]}, actions, targets)
    actions["done"] = {"type": "Response", "kind": "Http", "operationOptions": "Asynchronous",
                       "inputs": {"statusCode": 200,
                                  "body": {RUN_ID: f"@{{variables('{RUN_ID}')}}"}},
                       "runAfter": {e: ["Succeeded"] for e in exits}}  # fmt: skip
    return document(_CHILD_TRIGGER, actions)


def definitions(spec: PipelineIR, targets: Mapping[str, Target],
                schedule: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    """(the Logic App's definition, its children's in order): one definition, producers
    exactly in ``runAfter``, when the pipeline fits; else the plan split over children."""
    check_names(spec, targets)
    if count_actions(_all(spec, targets)) < MAX_ACTIONS:  # with run_id: at most the limit
        return definition(spec, targets, schedule), []
    parts: list[Planned] = []
    splitter = _Splitter(targets, parts)
    tasks = [t for t in spec.tasks if t.name in targets]
    root = splitter.fit(plan_dag(tasks), PARENT_BUDGET)
    actions: dict[str, Any] = {RUN_ID: run_id_action(schedule is not None)}
    _render(root, {RUN_ID: ["Succeeded"]}, actions, targets)
    children = [_child(p, targets) for p in parts]
    for doc in [actions, *(c["actions"] for c in children)]:
        assert count_actions(doc) <= MAX_ACTIONS, "a split definition is still too large"
    return document(trigger(schedule), actions), children


def _all(spec: PipelineIR, targets: Mapping[str, Target]) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    for t in spec.tasks:
        if t.name in targets:
            actions.update(task_actions(t.name, targets[t.name], {}))
    return actions


__all__ = ["CHILD_BUDGET", "JOB_ACTIONS", "Part", "definitions"]
