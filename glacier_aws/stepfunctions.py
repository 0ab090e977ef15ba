"""The Step Functions state machine that runs a pipeline's DAG, and EventBridge schedules.

Pure functions of the IR: no pulumi, no boto3. The compiler calls
:func:`state_machine_definition` with a ``task_resource`` callback that supplies each Task
state's ``Resource``/``Parameters`` (it may put sentinel objects in them, which it later renders
as Pulumi Output references; this module only places them, never inspects them).

Shape of the machine (why: docs/decisions/014 to 016)::

    Run id? --present--> Keep run id ---+
            --absent---> Name run id ---+--> the DAG (see below) --> Succeeded
                                              |  (Catch States.ALL, error in $.error)
                                              v
                        Task error or Step Functions error? --task--> Failed (its own name)
                                                            --States.*--> Failed in Step Functions

:func:`glacier.compilation.planning.plan_dag` turns the DAG into nested sequences and
parallel parts; here a task is a Task state named after it, a sequence chains its parts, a
parallel part is a Parallel state
("Parallel N") whose branches start with no reports, followed by Pass states ("Parallel N
reports") merging the branches' reports into ``$.tasks``. The state output is
``{"run_id": ..., "tasks": {task: {status, rows, bytes, seconds}}}``: compact reports, not
whole Lambda responses, so the payload stays far below the 256 KB limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from glacier.compilation.planning import Node, Par, Seq, branch_label, plan_dag
from glacier.errors import CompilationError
from glacier.ir import PipelineIR, TaskIR
from glacier_aws.fargate_states import (
    CONTAINER_NOT_RETRYABLE,
    ECS_RETRY,
    ECS_TRANSIENT_ERRORS,
    container_states,
    is_container,
)
from glacier_aws.schedule import schedule_expression

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
ECS_RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"

#: Errors that fail the same way on every attempt: retrying them only delays the failure.
NON_RETRYABLE_ERRORS = (
    "SchemaError",
    "DefinitionError",
    "PipelineReferenceError",
    "TaskFailedError",
    "ConfigurationError",
    "InvalidRunIdError",
)
#: Lambda service hiccups AWS recommends retrying whatever the task's own retry policy.
LAMBDA_TRANSIENT_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
RETRY_INTERVAL_SECONDS = 5
RETRY_BACKOFF_RATE = 2.0
RETRY_MAX_DELAY_SECONDS = 300
#: Beyond this many tasks, the state keeps no reports (payload limit; each task logs its own).
MAX_ACCUMULATED_REPORTS = 1000

_LAMBDA_REPORT = {
    "status.$": "$.Payload.status",
    "rows.$": "$.Payload.rows",
    "bytes.$": "$.Payload.bytes",
    "seconds.$": "$.Payload.seconds",
}
_ECS_REPORT = {"status": "succeeded", "task_arn.$": "$.TaskArn"}
_OTHER_REPORT = {"status": "succeeded"}

TaskResource = Callable[[TaskIR], Mapping[str, Any]]


# -- task state resources ----------------------------------------------------------------------


def lambda_task(function_arn: Any) -> dict[str, Any]:
    """Resource/Parameters invoking a Lambda function with ``{"run_id": <the run id>}``."""
    return {
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": function_arn, "Payload": {"run_id.$": "$.run_id"}},
    }


def fargate_task(
    cluster: Any,
    task_definition: Any,
    container: str,
    subnets: Any,
    security_groups: Any,
    assign_public_ip: Any = "ENABLED",
    timeout: int | None = None,
) -> dict[str, Any]:
    """Resource/Parameters running an ECS Fargate task to completion, run id in its env.

    ``timeout``: seconds before Step Functions stops the task (ECS has no limit of its own).
    """
    timeout_field = {"TimeoutSeconds": timeout} if timeout else {}
    return {
        "Resource": ECS_RUN_TASK_SYNC,
        "Parameters": {
            "LaunchType": "FARGATE",
            "Cluster": cluster,
            "TaskDefinition": task_definition,
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": subnets,
                    "SecurityGroups": security_groups,
                    "AssignPublicIp": assign_public_ip,
                }
            },
            "Overrides": {
                "ContainerOverrides": [
                    {
                        "Name": container,
                        "Environment": [{"Name": "GLACIER_RUN_ID", "Value.$": "$.run_id"}],
                    }
                ]
            },
        },
        **timeout_field,
    }


def _report_selector(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ResultSelector keeping a compact report of the task's result."""
    if "ResultSelector" in fields:
        return dict(fields["ResultSelector"])
    resource = fields.get("Resource")
    if resource == LAMBDA_INVOKE:
        return dict(_LAMBDA_REPORT)
    if is_container(fields):
        return dict(_ECS_REPORT)
    return dict(_OTHER_REPORT)


def _retriers(task: TaskIR, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Retry policy: never for deterministic errors, Lambda hiccups and ECS capacity errors
    always, then task.retries."""
    retriers: list[dict[str, Any]] = []
    container = is_container(fields)
    if task.retries > 0:
        final = [*NON_RETRYABLE_ERRORS, *((CONTAINER_NOT_RETRYABLE,) if container else ())]
        retriers.append({"ErrorEquals": final, "MaxAttempts": 0})
    if container:
        retriers.append({"ErrorEquals": list(ECS_TRANSIENT_ERRORS), **ECS_RETRY})
    if fields.get("Resource") == LAMBDA_INVOKE:
        retriers.append(
            {
                "ErrorEquals": list(LAMBDA_TRANSIENT_ERRORS),
                "IntervalSeconds": 1,
                "BackoffRate": RETRY_BACKOFF_RATE,
                "MaxAttempts": 3,
            }
        )
    if task.retries > 0:
        retriers.append(
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                "BackoffRate": RETRY_BACKOFF_RATE,
                "MaxDelaySeconds": RETRY_MAX_DELAY_SECONDS,
                "MaxAttempts": task.retries,
            }
        )
    return retriers


def _task_state(task: TaskIR, task_resource: TaskResource) -> dict[str, Any]:
    """A Task state for one task (without its Next/End/ResultPath/Catch)."""
    fields = task_resource(task)
    if "Resource" not in fields:
        msg = f"task {task.name!r}: task_resource returned {sorted(fields)}; expected a 'Resource'"
        raise CompilationError(msg)
    state: dict[str, Any] = {"Type": "Task"}  # named after its task: no comment needed
    state.update({k: v for k, v in fields.items() if k != "ResultSelector"})
    if task.timeout is not None:
        state["TimeoutSeconds"] = max(1, math.ceil(task.timeout))
    state["ResultSelector"] = _report_selector(fields)
    retry = _retriers(task, fields)
    if retry:
        state["Retry"] = retry
    return state


# -- the machine -------------------------------------------------------------------------------

FAILED = "Failed"
FAILED_IN_STEP_FUNCTIONS = "Failed in Step Functions"
FAILURE_KIND = "Task error or Step Functions error?"

_CATCH = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": FAILURE_KIND}]
_FAIL_STATES: dict[str, dict[str, Any]] = {
    # A Fail state may not re-raise a ``States.*`` name through ErrorPath (that is itself a
    # States.Runtime error), so Step Functions' own errors get a fixed name with the original
    # error in the cause, while a task's own error (SchemaError...) fails the run by name.
    FAILURE_KIND: {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": "$.error.Error",
                "StringMatches": "States.*",
                "Next": FAILED_IN_STEP_FUNCTIONS,
            }
        ],
        "Default": FAILED,
    },
    FAILED: {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    FAILED_IN_STEP_FUNCTIONS: {
        "Type": "Fail",
        "Error": "GlacierTaskFailed",
        "CausePath": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
    },
}


#: JSON merges one Pass state nests at most (Step Functions allows 10 nested intrinsics).
_MERGES_PER_STATE = 9


@dataclass
class _Renderer:
    """ASL states for a :func:`~glacier.compilation.planning.plan_dag`: sequences chain, parallel parts become Parallel states.

    Every scope's state data is ``{"run_id", "tasks"}``. A task adds its compact report to
    ``$.tasks``; a Parallel state starts each branch with no reports and merges the branches'
    reports back in (a Pass state per nine branches); above ``MAX_ACCUMULATED_REPORTS`` tasks,
    reports are not kept in the state (``ResultPath: null``; they are in the task logs).
    """

    task_resource: TaskResource
    accumulate: bool
    parallels: int = 0

    def render(
        self, node: Node[TaskIR], next_: str | None, top: bool
    ) -> tuple[str, dict[str, Any]]:
        """(first state, states) running ``node`` then ``next_`` (None: end of its branch)."""
        if isinstance(node, Seq):
            states: dict[str, Any] = {}
            starts = []
            for item in node.items:  # named in order; chained below
                first, item_states = self.render(item, None, top)
                starts.append((first, item_states))
            for i, (_, item_states) in enumerate(starts):
                following = starts[i + 1][0] if i + 1 < len(starts) else next_
                _link(item_states, following)
                states.update(item_states)
            return starts[0][0], states
        if isinstance(node, Par):
            return self._parallel(node, next_, top)
        return self._task(node, next_, top)

    def _task(self, task: TaskIR, next_: str | None, top: bool) -> tuple[str, dict[str, Any]]:
        state = _task_state(task, self.task_resource)
        if is_container(state):  # a Parallel state classifying its failures: fargate_states
            retry = state.pop("Retry", [])
            states = container_states(task.name, state, retry, self.accumulate)
        else:
            state["ResultPath"] = f"$.tasks.{task.name}" if self.accumulate else None
            states = {task.name: state}
        first, last = next(iter(states)), list(states)[-1]
        if top:
            # inside a branch, the outermost Parallel state catches
            states[first]["Catch"] = _CATCH
        _end_or_next(states[last], next_)
        return first, states

    def _parallel(
        self, node: Par[TaskIR], next_: str | None, top: bool
    ) -> tuple[str, dict[str, Any]]:
        self.parallels += 1
        name = f"Parallel {self.parallels}"
        branches = []
        for branch in node.branches:
            first, inner = self.render(branch, None, top=False)
            branches.append({"StartAt": first, "States": inner})
        state: dict[str, Any] = {
            "Type": "Parallel",
            "Comment": _parallel_comment(node),
            "Branches": branches,
            "Parameters": {"run_id.$": "$.run_id", "tasks": {}},
        }
        states: dict[str, Any] = {name: state}
        if not self.accumulate:
            state["ResultPath"] = None
            _end_or_next(state, next_)
        else:
            # Each branch's whole output (its run id and reports): ``$[i].tasks`` would be the
            # same in AWS, but moto's engine returns a one-item list for it.
            state["ResultSelector"] = {f"b{i}.$": f"$[{i}]" for i in range(len(branches))}
            state["ResultPath"] = "$.branches"
            # A tree of merges: each Pass state keeps only its partial merges, so the state
            # holds each report about once (never $.branches beside a merged $.tasks).
            sources = ["$.tasks"] + [f"$.branches.b{i}.tasks" for i in range(len(branches))]
            levels: list[dict[str, Any]] = []
            while len(sources) > _MERGES_PER_STATE + 1:
                chunks = _chunks(sources, _MERGES_PER_STATE + 1)
                parts = {f"p{j}.$": _json_merge(chunk) for j, chunk in enumerate(chunks)}
                levels.append({"run_id.$": "$.run_id", "parts": parts})
                sources = [f"$.parts.p{j}" for j in range(len(chunks))]
            levels.append({"run_id.$": "$.run_id", "tasks.$": _json_merge(sources)})
            merges = [f"{name} reports" + (f" {i + 1}" if i else "") for i in range(len(levels))]
            state["Next"] = merges[0]
            for i, parameters in enumerate(levels):
                merge: dict[str, Any] = {
                    "Type": "Pass",
                    "Comment": "Merge the branches' task reports into $.tasks"
                    if i + 1 == len(levels)
                    else "Merge the branches' task reports in groups",
                    "Parameters": parameters,
                }
                _end_or_next(merge, merges[i + 1] if i + 1 < len(levels) else next_)
                states[merges[i]] = merge
        if top:
            state["Catch"] = _CATCH
        return name, states


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _json_merge(paths: list[str]) -> str:
    """One expression merging the objects at ``paths`` (a single path as it is)."""
    merged = paths[0]
    for path in paths[1:]:
        merged = f"States.JsonMerge({merged}, {path}, false)"
    return merged


def _parallel_comment(node: Par[TaskIR], shown: int = 6) -> str:
    names = [branch_label(b) for b in node.branches]
    more = f"; and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} branches: " + "; ".join(names[:shown]) + more


def _end_or_next(state: dict[str, Any], next_: str | None) -> None:
    state.pop("End", None)
    state.pop("Next", None)
    if next_ is None:
        state["End"] = True
    else:
        state["Next"] = next_


def _link(states: dict[str, Any], next_: str | None) -> None:
    """Point the states that end a rendered part at ``next_``."""
    for state in states.values():
        if state.get("End"):
            _end_or_next(state, next_)


def _start_states(first: str) -> dict[str, dict[str, Any]]:
    """Take the run id from the input, or name the run after the execution."""
    return {
        "Run id?": {
            "Type": "Choice",
            "Comment": "Use the input's run_id when given, else the execution name",
            "Choices": [{"Variable": "$.run_id", "IsPresent": True, "Next": "Keep run id"}],
            "Default": "Name run id",
        },
        "Keep run id": {
            "Type": "Pass",
            "Parameters": {"run_id.$": "$.run_id", "tasks": {}},
            "Next": first,
        },
        "Name run id": {
            "Type": "Pass",
            "Parameters": {"run_id.$": "$$.Execution.Name", "tasks": {}},
            "Next": first,
        },
    }


def state_machine_definition(spec: PipelineIR, task_resource: TaskResource) -> dict[str, Any]:
    """The ASL definition running ``spec``'s DAG (see :mod:`glacier.compilation.planning`), with retries and a
    failure path.

    ``task_resource(task)`` returns the Task state's ``Resource`` and ``Parameters`` (see
    :func:`lambda_task`, :func:`fargate_task`) and optionally a ``ResultSelector``; without
    one, Lambda and ECS results are reduced to a compact report by a built-in selector.
    """
    renderer = _Renderer(task_resource, accumulate=len(spec.tasks) <= MAX_ACCUMULATED_REPORTS)
    first, states = renderer.render(plan_dag(spec.tasks), "Succeeded", top=True)
    _link(states, "Succeeded")
    return {
        "Comment": (
            f"Glacier pipeline {spec.name}: runs its DAG, each task once its upstream tasks are done"
        ),
        "StartAt": "Run id?",
        "States": {
            **_start_states(first),
            **states,
            "Succeeded": {"Type": "Succeed"},
            **_FAIL_STATES,
        },
    }


__all__ = [
    "ECS_RUN_TASK_SYNC",
    "LAMBDA_INVOKE",
    "MAX_ACCUMULATED_REPORTS",
    "NON_RETRYABLE_ERRORS",
    "fargate_task",
    "lambda_task",
    "schedule_expression",
    "state_machine_definition",
]
