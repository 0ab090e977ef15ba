"""The Step Functions state machine that runs a pipeline's DAG, and EventBridge schedules.

Pure functions of the IR: no pulumi, no boto3. The compiler calls
:func:`state_machine_definition` with a ``task_resource`` callback that supplies each Task
state's ``Resource``/``Parameters`` (it may put sentinel objects in them, which it later renders
as Pulumi Output references; this module only places them, never inspects them).

Shape of the machine (ARCHITECTURE.md, "Cloud runtime and orchestration")::

    Run id? --present--> Keep run id ---+
            --absent---> Name run id ---+--> stage 1 --> stage 2 --> ... --> Succeeded
                                              |  (Catch States.ALL, error in $.error)
                                              v
                        Task error or Step Functions error? --task--> Failed (its own name)
                                                            --States.*--> Failed in Step Functions

A one-task stage is a Task state named after the task; a wider stage is a Parallel state
("Stage N") with one branch per task, followed (when reports accumulate) by a Pass state
("Stage N reports") that merges the branch reports into ``$.tasks``. The state output is
``{"run_id": ..., "tasks": {task: {status, rows, bytes, seconds}}}``: compact reports, not
whole Lambda responses, so the payload stays far below the 256 KB limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from glacier.errors import CompilationError
from glacier.spec import PipelineSpec, TaskSpec
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
#: Beyond this many tasks, ``$.tasks`` holds only the latest stage's reports (payload limit).
MAX_ACCUMULATED_REPORTS = 1000

_LAMBDA_REPORT = {
    "status.$": "$.Payload.status",
    "rows.$": "$.Payload.rows",
    "bytes.$": "$.Payload.bytes",
    "seconds.$": "$.Payload.seconds",
}
_ECS_REPORT = {"status": "succeeded", "task_arn.$": "$.TaskArn"}
_OTHER_REPORT = {"status": "succeeded"}

TaskResource = Callable[[TaskSpec], Mapping[str, Any]]


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
) -> dict[str, Any]:
    """Resource/Parameters running an ECS Fargate task to completion, run id in its env."""
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
    }


def _report_selector(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ResultSelector keeping a compact report of the task's result."""
    if "ResultSelector" in fields:
        return dict(fields["ResultSelector"])
    resource = fields.get("Resource")
    if resource == LAMBDA_INVOKE:
        return dict(_LAMBDA_REPORT)
    if isinstance(resource, str) and resource.startswith("arn:aws:states:::ecs:runTask"):
        return dict(_ECS_REPORT)
    return dict(_OTHER_REPORT)


def _retriers(task: TaskSpec, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Retry policy: never for deterministic errors, Lambda hiccups always, then task.retries."""
    retriers: list[dict[str, Any]] = []
    if task.retries > 0:
        retriers.append({"ErrorEquals": list(NON_RETRYABLE_ERRORS), "MaxAttempts": 0})
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


def _task_state(task: TaskSpec, task_resource: TaskResource) -> dict[str, Any]:
    """A Task state for one task (without its Next/End/ResultPath/Catch)."""
    fields = task_resource(task)
    if "Resource" not in fields:
        msg = f"task {task.name!r}: task_resource returned {sorted(fields)}; expected a 'Resource'"
        raise CompilationError(msg)
    state: dict[str, Any] = {"Type": "Task", "Comment": f"Glacier task {task.name}"}
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


def _stage_states(
    index: int, stage: list[TaskSpec], task_resource: TaskResource, accumulate: bool, next_: str
) -> tuple[str, dict[str, dict[str, Any]]]:
    """(first state name, states) running one stage, continuing at ``next_``."""
    if len(stage) == 1:
        task = stage[0]
        state = _task_state(task, task_resource)
        if not accumulate:
            state["ResultSelector"] = {task.name: state["ResultSelector"]}
        path = f"$.tasks.{task.name}" if accumulate else "$.tasks"
        state.update(ResultPath=path, Catch=_CATCH, Next=next_)
        return task.name, {task.name: state}
    name = f"Stage {index}"
    branches = []
    for task in stage:
        state = _task_state(task, task_resource)
        state.update(ResultPath="$", End=True)  # the branch's output is its compact report
        branches.append({"StartAt": task.name, "States": {task.name: state}})
    parallel = {
        "Type": "Parallel",
        "Comment": f"Stage {index}: {len(stage)} tasks in parallel",
        "Branches": branches,
        "ResultSelector": {f"{t.name}.$": f"$[{i}]" for i, t in enumerate(stage)},
        "ResultPath": "$.stage" if accumulate else "$.tasks",
        "Catch": _CATCH,
        "Next": f"Stage {index} reports" if accumulate else next_,
    }
    states = {name: parallel}
    if accumulate:
        states[f"Stage {index} reports"] = {
            "Type": "Pass",
            "Comment": "Merge this stage's task reports into $.tasks",
            "Parameters": {
                "run_id.$": "$.run_id",
                "tasks.$": "States.JsonMerge($.tasks, $.stage, false)",
            },
            "Next": next_,
        }
    return name, states


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


def state_machine_definition(spec: PipelineSpec, task_resource: TaskResource) -> dict[str, Any]:
    """The ASL definition running ``spec``'s tasks stage by stage, with retries and a failure path.

    ``task_resource(task)`` returns the Task state's ``Resource`` and ``Parameters`` (see
    :func:`lambda_task`, :func:`fargate_task`) and optionally a ``ResultSelector``; without
    one, Lambda and ECS results are reduced to a compact report by a built-in selector.
    """
    by_name = {t.name: t for t in spec.tasks}
    stages = [[by_name[n] for n in stage] for stage in spec.stages]
    accumulate = len(spec.tasks) <= MAX_ACCUMULATED_REPORTS
    states: dict[str, dict[str, Any]] = {}
    next_ = "Succeeded"
    for index in range(len(stages), 0, -1):  # built backwards: each stage knows its successor
        next_, stage_states = _stage_states(
            index, stages[index - 1], task_resource, accumulate, next_
        )
        states = {**stage_states, **states}
    states = {
        **_start_states(next_),
        **states,
        "Succeeded": {"Type": "Succeed"},
        **_FAIL_STATES,
    }
    return {
        "Comment": f"Glacier pipeline {spec.name}: runs its DAG stage by stage",
        "StartAt": "Run id?",
        "States": states,
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
