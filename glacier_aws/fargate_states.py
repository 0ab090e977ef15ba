"""The states that run one Fargate task and tell its failures apart (retry or not).

Step Functions' ``ecs:runTask.sync`` fails a state with ``States.TaskFailed`` whatever
stopped the task: a schema error in its code, an out-of-memory kill, or ECS never starting it
(no capacity, an image it could not pull). A Retry rule matches error names only, so a lone
Task state would retry all of these or none. The container therefore says in its exit code
whether Glacier would retry its error (:mod:`glacier_aws.runtime`: 65 not retryable, 75
retryable, anything else a crash), and the task runs as a one-branch Parallel state whose
branch turns the stopped task's description (the error's cause, JSON) into an error name::

    <task> on Fargate (Parallel: Retry by error name, Catch) --> <task> report (Pass)
      <task> (Task, ecs:runTask.sync) --caught--> <task> stopped?
        an ECS API error       --> Fail under its own name (ECS.AmazonECSException...)
        States.TaskFailed, the cause JSON --> <task> stop details --> <task> ran?
          --> <task> container --> <task> exit code?
            no container or no exit code --> Fail Glacier.ContainerNotStarted  (capacity, pull)
            65                           --> Fail Glacier.ContainerNotRetryable (never retried)
            any other code               --> Fail Glacier.ContainerFailed      (task's retries)
        anything else          --> Fail Glacier.ContainerFailed

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


def is_container(fields: Mapping[str, Any]) -> bool:
    """Whether a task state's resource runs an ECS task (in any partition)."""
    resource = fields.get("Resource")
    return isinstance(resource, str) and ":states:::ecs:runTask" in resource


def container_state_name(task: str) -> str:
    """The Parallel state running ``task`` (the Task state inside it is named ``task``)."""
    return f"{task} on Fargate"


def _classify(task: str) -> dict[str, dict[str, Any]]:
    """The branch states after the Task state's ``States.TaskFailed`` catcher, which (a
    wildcard in a Catch) also catches ECS's API errors: those leave the branch under their own
    names; a stopped task's description (JSON) becomes a Fail state naming how it failed.
    Array items are taken with ``States.ArrayGetItem``, never a ``[0].field`` path (which some
    engines answer with a list)."""
    stopped, details, ran, container, code = (
        f"{task} stopped?", f"{task} stop details", f"{task} ran?", f"{task} container",
        f"{task} exit code?",
    )  # fmt: skip
    ecs_error, in_step_functions = f"{task} ECS error", f"{task} failed in Step Functions"
    not_started, not_retryable, failed = (
        f"{task} not started", f"{task} not retryable", f"{task} failed"
    )  # fmt: skip
    error, cause, exit_code = "$.error.Error", "$.error.Cause", "$.container.ExitCode"
    return {
        stopped: {
            "Type": "Choice",
            "Comment": "An ECS API error, or a stopped task ECS describes as JSON in the cause",
            "Choices": [
                {"Not": {"Variable": error, "StringMatches": "States.*"}, "Next": ecs_error},
                {"Not": {"Variable": error, "StringEquals": "States.TaskFailed"},
                 "Next": in_step_functions},
                {"Not": {"Variable": cause, "IsPresent": True}, "Next": failed},
                {"Variable": cause, "StringMatches": "{*", "Next": details},
            ],
            "Default": failed,
        },
        details: {
            "Type": "Pass",
            "Parameters": {"error.$": "$.error", "stopped.$": f"States.StringToJson({cause})"},
            "Next": ran,
        },
        ran: {
            "Type": "Choice",
            "Choices": [
                {"Not": {"Variable": "$.stopped.Containers[0]", "IsPresent": True},
                 "Next": not_started},
            ],
            "Default": container,
        },
        container: {
            "Type": "Pass",
            "Parameters": {
                "error.$": "$.error",
                "container.$": "States.ArrayGetItem($.stopped.Containers, 0)",
            },
            "Next": code,
        },
        code: {
            "Type": "Choice",
            "Comment": f"{EXIT_NOT_RETRYABLE}: the task's error fails the same way every time",
            "Choices": [
                {"Not": {"Variable": exit_code, "IsPresent": True}, "Next": not_started},
                {"Not": {"Variable": exit_code, "IsNumeric": True}, "Next": not_started},
                {"Variable": exit_code, "NumericEquals": EXIT_NOT_RETRYABLE, "Next": not_retryable},
            ],
            "Default": failed,
        },
        ecs_error: {"Type": "Fail", "ErrorPath": error, "CausePath": cause},
        in_step_functions: {
            "Type": "Fail",
            "Error": CONTAINER_FAILED,
            "CausePath": f"States.Format('{{}}: {{}}', {error}, {cause})",
        },
        not_started: {"Type": "Fail", "Error": CONTAINER_NOT_STARTED, "CausePath": cause},
        not_retryable: {"Type": "Fail", "Error": CONTAINER_NOT_RETRYABLE, "CausePath": cause},
        failed: {"Type": "Fail", "Error": CONTAINER_FAILED, "CausePath": cause},
    }  # fmt: skip


def container_states(
    task: str, inner: dict[str, Any], retry: list[dict[str, Any]], accumulate: bool
) -> dict[str, dict[str, Any]]:
    """The Parallel state running ``inner`` (a runTask.sync Task state, reports selected),
    then, when reports are kept, the Pass state adding its report to ``$.tasks``.

    ``retry``: the task's retriers, on the Parallel state (a branch's failure leaves it under
    the branch's error name). The caller adds ``Catch`` (to the first state) and
    ``Next``/``End`` (to the last). The report is merged like a Parallel state's branches
    (``$[0]`` whole, then ``States.JsonMerge``): no ``$[0].field`` path.
    """
    catch = {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error"}
    first = {**inner, "Catch": [{**catch, "Next": f"{task} stopped?"}], "End": True}
    if accumulate:
        first["ResultPath"] = f"$.tasks.{task}"
    name = container_state_name(task)
    state: dict[str, Any] = {
        "Type": "Parallel",
        "Comment": "Runs the task on Fargate; its exit code says whether a failure is retried",
        "Branches": [{"StartAt": task, "States": {task: first, **_classify(task)}}],
        "Parameters": {"run_id.$": "$.run_id", "tasks": {}},
    }
    if retry:
        state["Retry"] = retry
    if not accumulate:
        state["ResultPath"] = None
        return {name: state}
    report = f"{task} report"
    state.update(ResultSelector={"b0.$": "$[0]"}, ResultPath="$.branches", Next=report)
    merge = "States.JsonMerge($.tasks, $.branches.b0.tasks, false)"
    return {
        name: state,
        report: {
            "Type": "Pass",
            "Comment": "Add the task's report to $.tasks",
            "Parameters": {"run_id.$": "$.run_id", "tasks.$": merge},
        },
    }


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
