"""The states that run one Fargate task and tell its failures apart (retry or not).

Step Functions' ``ecs:runTask.sync`` fails a state with ``States.TaskFailed`` whatever
stopped the task: a schema error in its code, an out-of-memory kill, or ECS never starting it
(no capacity, an image it could not pull). A Retry rule matches error names only, so a lone
Task state would retry all of these or none. The container therefore says in its exit code
whether Glacier would retry its error (:mod:`glacier_aws.runtime`: 65 not retryable, 75
retryable, anything else a crash), and the task runs as a one-branch Parallel state whose
branch turns the stopped task's description (the error's cause, JSON) into an error name::

    <task> container (Parallel: Retry by error name, Catch)
      <task> (Task, ecs:runTask.sync) --States.TaskFailed--> <task> stopped?
        cause is JSON --> <task> stop details (parse) --> <task> exit code?
            no exit code     --> Fail Glacier.ContainerNotStarted  (retried: capacity, ENI, pull)
            65               --> Fail Glacier.ContainerNotRetryable (never retried)
            any other code   --> Fail Glacier.ContainerFailed      (the task's retries)
        otherwise         --> Fail Glacier.ContainerFailed

ECS's own API errors (throttling, capacity: ``ECS.AmazonECSException``, ``AmazonECS.Unknown``
for a RunTask answer listing failures) leave the branch under their names and are retried
like Lambda's service errors, whatever the task's ``retries``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Exit codes of ``python -m glacier_aws.runtime`` (sysexits.h: EX_DATAERR, EX_TEMPFAIL).
EXIT_NOT_RETRYABLE = 65
EXIT_RETRYABLE = 75

CONTAINER_NOT_RETRYABLE = "Glacier.ContainerNotRetryable"
CONTAINER_FAILED = "Glacier.ContainerFailed"
CONTAINER_NOT_STARTED = "Glacier.ContainerNotStarted"
#: Errors retried for every Fargate task: ECS could not start it now (capacity, throttling).
ECS_TRANSIENT_ERRORS = (
    CONTAINER_NOT_STARTED,
    "AmazonECS.Unknown",
    "ECS.AmazonECSException",
    "ECS.ServerException",
    "ECS.ThrottlingException",
    "ECS.LimitExceededException",
)
#: Fargate capacity shortages last minutes: 20, 40, 80 and 160 s between the attempts.
ECS_RETRY = {"IntervalSeconds": 20, "BackoffRate": 2.0, "MaxAttempts": 4}

_EXIT_CODE = "$.stopped.Containers[0].ExitCode"


def is_container(fields: Mapping[str, Any]) -> bool:
    """Whether a task state's resource runs an ECS task (in any partition)."""
    resource = fields.get("Resource")
    return isinstance(resource, str) and ":states:::ecs:runTask" in resource


def container_state_name(task: str) -> str:
    return f"{task} container"


def _branch(task: str, inner: dict[str, Any]) -> dict[str, Any]:
    """The branch: the Task state, then the states naming how it failed."""
    stopped, details, code = f"{task} stopped?", f"{task} stop details", f"{task} exit code?"
    not_started, not_retryable, failed = (
        f"{task} not started",
        f"{task} not retryable",
        f"{task} failed",
    )
    inner = {
        **inner,
        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": stopped}],
        "End": True,
    }
    cause = "$.error.Cause"
    return {
        "StartAt": task,
        "States": {
            task: inner,
            stopped: {
                "Type": "Choice",
                "Comment": "ECS describes the stopped task as JSON in the cause",
                "Choices": [
                    {"Not": {"Variable": cause, "IsPresent": True}, "Next": failed},
                    {"Variable": cause, "StringMatches": "{*", "Next": details},
                ],
                "Default": failed,
            },
            details: {
                "Type": "Pass",
                "Parameters": {"error.$": "$.error", "stopped.$": f"States.StringToJson({cause})"},
                "Next": code,
            },
            code: {
                "Type": "Choice",
                "Comment": f"{EXIT_NOT_RETRYABLE}: the task's error fails the same way every time",
                "Choices": [
                    {"Not": {"Variable": _EXIT_CODE, "IsPresent": True}, "Next": not_started},
                    {"Not": {"Variable": _EXIT_CODE, "IsNumeric": True}, "Next": not_started},
                    {
                        "Variable": _EXIT_CODE,
                        "NumericEquals": EXIT_NOT_RETRYABLE,
                        "Next": not_retryable,
                    },
                ],
                "Default": failed,
            },
            not_started: {"Type": "Fail", "Error": CONTAINER_NOT_STARTED, "CausePath": cause},
            not_retryable: {"Type": "Fail", "Error": CONTAINER_NOT_RETRYABLE, "CausePath": cause},
            failed: {"Type": "Fail", "Error": CONTAINER_FAILED, "CausePath": cause},
        },
    }


def container_states(
    task: str, inner: dict[str, Any], retry: list[dict[str, Any]], accumulate: bool
) -> dict[str, Any]:
    """The Parallel state running ``inner`` (a runTask.sync Task state, reports selected).

    ``retry``: the task's retriers, on the Parallel state (a branch's failure leaves it under
    the branch's error name). The caller adds ``Catch`` and ``Next``/``End``.
    """
    state: dict[str, Any] = {
        "Type": "Parallel",
        "Comment": "Runs the task on Fargate; its exit code says whether a failure is retried",
        "Branches": [_branch(task, inner)],
        "Parameters": {"run_id.$": "$.run_id"},
    }
    if accumulate:
        report = inner["ResultSelector"]
        state["ResultSelector"] = {
            (k if k.endswith(".$") else f"{k}.$"): f"$[0].{k.removesuffix('.$')}" for k in report
        }
        state["ResultPath"] = f"$.tasks.{task}"
    else:
        state["ResultPath"] = None
    if retry:
        state["Retry"] = retry
    return state


__all__ = [
    "CONTAINER_FAILED",
    "CONTAINER_NOT_RETRYABLE",
    "CONTAINER_NOT_STARTED",
    "ECS_TRANSIENT_ERRORS",
    "EXIT_NOT_RETRYABLE",
    "EXIT_RETRYABLE",
    "container_state_name",
    "container_states",
    "is_container",
]
