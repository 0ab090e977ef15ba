"""The Logic App (Consumption) definition that runs a pipeline's DAG, with retries, as JSON.

Pure functions of the IR (no pulumi). A Logic App runs every action whose ``runAfter`` is
satisfied, at the same time as any other: so the DAG is expressed exactly, each task one
action (``task_<name>``) whose ``runAfter`` lists its producers (parallel siblings, fan-in),
after ``run_id``, which fixes the run's id (the trigger's ``run_id``, else the Logic App
run's own name) for every task.

- A **function** task is one HTTP action: ``POST https://<app>/api/run`` with
  ``{"run_id": ...}``, authenticated with the workflow's managed identity (a token for the
  function's own audience: the Function App accepts exactly that identity), and a
  ``retryPolicy`` of the task's ``retries`` (exponential, 5 s to 5 min). Logic Apps retries
  only 408, 429, 5xx answers and broken connections: the runtime answers a failure that
  would fail the same way again with a 4xx, which is never retried.
- A **job** task starts a Container Apps job execution through ARM (audience
  ``https://management.azure.com/``), with the run id in its arguments, then polls the
  execution every 30 s until it ends (the start call returns at once); an attempt loop tries
  a failed execution again up to ``retries`` times unless the job's outcome object (written
  by the runtime at ``runs/<run id>/_outcomes/<task>.json`` in the work container, read with
  the workflow's identity) names this execution and says it is not retryable; a final check
  fails the run when the job never succeeded.

Placeholders ``"<<var.attr>>"`` are filled by the program at deploy time (host names, ids,
the image, a job's environment).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from glacier.compilation.layout import RUN_ID_PLACEHOLDER
from glacier.errors import CompilationError
from glacier.ir import PipelineIR
from glacier_azure.runtime import outcome_key

SCHEMA = (
    "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/"
    "workflowdefinition.json#"
)
ARM = "https://management.azure.com"
ARM_AUDIENCE = "https://management.azure.com/"
STORAGE_AUDIENCE = "https://storage.azure.com/"
#: The Blob service version the outcome read asks for (bearer tokens need 2017-11-09 or later).
BLOB_API = "2021-08-06"
JOBS_API = "2024-03-01"
#: Logic Apps limits (Consumption): actions per workflow, an action name's length, the
#: iterations of one Until loop, the retries of one retry policy.
MAX_ACTIONS = 500
MAX_ACTION_NAME = 80
MAX_UNTIL_COUNT = 5000
MAX_RETRIES = 90
POLL_SECONDS = 30
#: Seconds added to a job's own timeout while the workflow waits for its execution.
JOB_WAIT_MARGIN = 600
#: Job execution states that end an execution.
FINAL_STATES = ("Succeeded", "Failed", "Stopped", "Degraded")
RUN_ID = "run_id"


@dataclass(frozen=True)
class Target:
    """What one task's action calls: a function's host and audience, or a job (placeholders)."""

    kind: Literal["function", "job"]
    var: str  # the task's program variable
    timeout: int
    retries: int
    cpu: float = 0.0
    memory: int = 0
    #: a job's outcome container URL, ``https://<account>.blob.core.windows.net/<container>``
    outcome: str = ""


def action_name(task: str, suffix: str = "") -> str:
    """A task's action: ``task_<name>`` (never one of the definition's own names)."""
    return f"task_{task}{suffix}"


def _retry(retries: int) -> dict[str, Any]:
    if retries <= 0:
        return {"type": "none"}
    return {"type": "exponential", "count": min(retries, MAX_RETRIES), "interval": "PT5S",
            "minimumInterval": "PT5S", "maximumInterval": "PT5M"}  # fmt: skip


def _msi(identity: str, audience: str) -> dict[str, str]:
    return {"type": "ManagedServiceIdentity", "identity": identity, "audience": audience}


def function_action(task: str, t: Target, after: dict[str, list[str]]) -> dict[str, Any]:
    """The HTTP action calling a task's function once, with its retry policy."""
    return {
        "type": "Http",
        "inputs": {
            "method": "POST",
            "uri": f"https://<<{t.var}_fn.default_host_name>>/api/run",
            "headers": {"Content-Type": "application/json"},
            "body": {"run_id": f"@{{variables('{RUN_ID}')}}", "task": task},
            "authentication": _msi("<<workflow_identity.id>>", f"<<{t.var}_id.client_id>>"),
            "retryPolicy": _retry(t.retries),
        },
        "runAfter": after,
    }


def job_actions(task: str, t: Target, after: dict[str, list[str]]) -> dict[str, Any]:
    """The actions running a task's job: attempts of start-then-poll, then the check."""
    name = action_name(task)
    status = f"body('{name}_status')?['properties']?['status']"
    container = {
        "name": "task",
        "image": f"<<{t.var}_job.image>>",
        "command": ["python", "-m", "glacier_azure.runtime"],
        "args": ["--task", task, "--run-id", f"@{{variables('{RUN_ID}')}}"],
        "env": f"<<{t.var}_job.env>>",
        "resources": {"cpu": t.cpu, "memory": f"{t.memory / 1024:g}Gi"},
    }
    start = {
        "type": "Http",
        "inputs": {
            "method": "POST",
            "uri": f"{ARM}<<{t.var}_job.id>>/start?api-version={JOBS_API}",
            "body": {"containers": [container]},
            "authentication": _msi("<<workflow_identity.id>>", ARM_AUDIENCE),
            "retryPolicy": _retry(4),
        },
        "runAfter": {},
    }
    poll = {
        "type": "Http",
        "inputs": {
            "method": "GET",
            "uri": f"{ARM}@{{body('{name}_start')?['id']}}?api-version={JOBS_API}",
            "authentication": _msi("<<workflow_identity.id>>", ARM_AUDIENCE),
            "retryPolicy": _retry(4),
        },
        "runAfter": {f"{name}_delay": ["Succeeded"]},
    }
    wait_seconds = t.timeout + JOB_WAIT_MARGIN
    finals = ", ".join(f"'{s}'" for s in FINAL_STATES)
    wait = {
        "type": "Until",
        "expression": f"@contains(createArray({finals}), coalesce({status}, 'Running'))",
        "limit": {"count": min(MAX_UNTIL_COUNT, math.ceil(wait_seconds / POLL_SECONDS) + 1),
                  "timeout": f"PT{wait_seconds}S"},
        "actions": {
            f"{name}_delay": {"type": "Wait",
                              "inputs": {"interval": {"count": POLL_SECONDS, "unit": "Second"}},
                              "runAfter": {}},
            f"{name}_status": poll,
        },
        "runAfter": {f"{name}_start": ["Succeeded"]},
    }  # fmt: skip
    outcome, verdict = outcome_actions(task, t)
    attempts = {
        "type": "Until",
        "expression": f"@or(equals({status}, 'Succeeded'), equals(outputs('{name}_verdict'), true))",
        "limit": {"count": t.retries + 1, "timeout": f"PT{wait_seconds * (t.retries + 1)}S"},
        "actions": {f"{name}_start": start, f"{name}_wait": wait, f"{name}_outcome": outcome,
                    f"{name}_verdict": verdict},
        "runAfter": after,
    }  # fmt: skip
    message = (
        f"task {task}: its job execution did not succeed (at most {t.retries + 1} attempt(s), "
        f"fewer after a failure its outcome object says is not retryable; see "
        f"{outcome_key(task)} in the work container)"
    )
    check = {
        "type": "If",
        "expression": {"and": [{"equals": [f"@{status}", "Succeeded"]}]},
        "actions": {},
        "else": {"actions": {f"{name}_failed": {
            "type": "Terminate",
            "inputs": {"runStatus": "Failed",
                       "runError": {"code": "TaskFailed", "message": message}},
            "runAfter": {},
        }}},
        "runAfter": {f"{name}_run": ["Succeeded"]},
    }  # fmt: skip
    return {f"{name}_run": attempts, name: check}


def outcome_actions(task: str, t: Target) -> tuple[dict[str, Any], dict[str, Any]]:
    """The read of a job attempt's outcome object and the verdict: true when the attempt ended
    Failed and its outcome names this execution and says ``"retryable":false``.

    The verdict matches the outcome's compact JSON text (as the runtime writes it) instead of
    parsing it: a missing blob (killed, out of memory, the image did not start, the outcome
    could not be written), an error body or a non-JSON body then reads as retryable instead of
    failing the expression, and so the loop, and an earlier attempt's outcome (another
    execution name) never stops a later one. A value inside a JSON string has its quotes
    escaped, so the message cannot fake either field.
    """
    name = action_name(task)
    key = outcome_key(task).replace(RUN_ID_PLACEHOLDER, f"@{{variables('{RUN_ID}')}}")
    read = {
        "type": "Http",
        "inputs": {
            "method": "GET",
            "uri": f"{t.outcome}/{key}",
            "headers": {"x-ms-version": BLOB_API},
            "authentication": _msi("<<workflow_identity.id>>", STORAGE_AUDIENCE),
            "retryPolicy": _retry(2),
        },
        "runAfter": {f"{name}_wait": ["Succeeded"]},
    }
    text = f"string(body('{name}_outcome'))"
    execution = f"concat('\"execution\":\"', body('{name}_start')?['name'], '\"')"
    test = (
        f"@and(equals(body('{name}_status')?['properties']?['status'], 'Failed'), "
        f"equals(outputs('{name}_outcome')?['statusCode'], 200), "
        f"contains({text}, {execution}), contains({text}, '\"retryable\":false'))"
    )
    # after the read whatever its status: the iteration (and the loop) then ends Succeeded
    after = {f"{name}_outcome": ["Succeeded", "Failed", "Skipped", "TimedOut"]}
    return read, {"type": "Compose", "inputs": test, "runAfter": after}


def trigger(schedule: dict[str, Any] | None) -> dict[str, Any]:
    if schedule is not None:
        recurrence = {**schedule, "timeZone": "<<time_zone>>"}
        return {"schedule": {"type": "Recurrence", "recurrence": recurrence}}
    body = {"type": "object", "properties": {RUN_ID: {"type": "string"}}}
    return {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": body}}}


def run_id_action(scheduled: bool) -> dict[str, Any]:
    own = "workflow()['run']['name']"
    value = f"@{{{own}}}" if scheduled else f"@{{coalesce(triggerBody()?['{RUN_ID}'], {own})}}"
    return {
        "type": "InitializeVariable",
        "inputs": {"variables": [{"name": RUN_ID, "type": "string", "value": value}]},
        "runAfter": {},
    }


def count_actions(actions: Mapping[str, Any]) -> int:
    """Every action, nested ones included (what Logic Apps counts against its limit)."""
    found = 0
    for action in actions.values():
        found += 1
        found += count_actions(action.get("actions", {}))
        found += count_actions(action.get("else", {}).get("actions", {}))
    return found


def check_names(spec: PipelineIR, targets: Mapping[str, Target]) -> None:
    """Every action name a task gives fits Logic Apps' limit."""
    for task in spec.tasks:
        longest = action_name(task.name, "_failed")
        if task.name in targets and len(longest) > MAX_ACTION_NAME:
            msg = (
                f"task {task.name!r}: its Logic App action {longest!r} is {len(longest)} "
                f"characters, over the {MAX_ACTION_NAME} Logic Apps allows; shorten the task name"
            )
            raise CompilationError(msg)


def task_actions(task: str, t: Target, after: dict[str, list[str]]) -> dict[str, Any]:
    """The action(s) running one task after ``after``; the last one is ``task_<name>``."""
    if t.kind == "function":
        return {action_name(task): function_action(task, t, after)}
    return job_actions(task, t, after)


def document(trigger: dict[str, Any], actions: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": {},
            "triggers": trigger, "actions": actions, "outputs": {}}  # fmt: skip


def definition(spec: PipelineIR, targets: Mapping[str, Target],
               schedule: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The workflow definition when the pipeline fits one Logic App: the trigger, ``run_id``,
    then each task's action(s), ``runAfter`` its producers exactly. A CompilationError when it
    does not fit (:mod:`glacier_azure.parts` splits it then)."""
    check_names(spec, targets)
    actions: dict[str, Any] = {RUN_ID: run_id_action(schedule is not None)}
    for task in spec.tasks:
        if task.name not in targets:
            continue
        ups = [u for u in task.upstream if u in targets]
        after = {action_name(u): ["Succeeded"] for u in ups} or {RUN_ID: ["Succeeded"]}
        actions.update(task_actions(task.name, targets[task.name], after))
    count = count_actions(actions)
    if count > MAX_ACTIONS:
        msg = (
            f"pipeline {spec.name!r}: its Logic App would have {count} actions (one per function "
            f"task, nine per job task), over the {MAX_ACTIONS} Logic Apps allows in one workflow"
        )
        raise CompilationError(msg)
    return document(trigger(schedule), actions)


__all__ = [
    "ARM_AUDIENCE",
    "MAX_ACTIONS",
    "RUN_ID",
    "STORAGE_AUDIENCE",
    "Target",
    "action_name",
    "check_names",
    "count_actions",
    "definition",
    "document",
    "outcome_actions",
    "run_id_action",
    "task_actions",
    "trigger",
]
