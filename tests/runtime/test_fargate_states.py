"""Fargate tasks under moto's Step Functions engine: exit codes and ECS errors, told apart.

moto runs ``ecs:runTask.sync`` but never stops a task, and ECS's answers are what these tests
are about, so a scripted ECS stands in for it, failing as AWS does: a stopped task whose
container exited non-zero fails the state with ``States.TaskFailed`` and the task's
description (JSON) as the cause; a refused RunTask call fails it with ``ECS.<exception>``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_ecs as ecs_service,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from runtime_support import load_module

from glacier.ir import PipelineIR
from glacier_aws.fargate_states import EXIT_NOT_RETRYABLE, EXIT_RETRYABLE
from glacier_aws.stepfunctions import fargate_task, state_machine_definition

pytestmark = pytest.mark.slow

shapes = load_module("runtime_shapes")
ACCOUNT = "123456789012"
CLUSTER = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/glacier"


def _spec() -> PipelineIR:
    """step_0 -> step_1 -> step_2 (retries 0, 1, 2), every task a container."""
    spec = shapes.linear(3).spec()
    tasks = tuple(replace(t, compute=replace(t.compute, type="container")) for t in spec.tasks)
    return replace(spec, tasks=tasks)


def _stopped(task: str, exit_code: int | None) -> dict[str, Any]:
    """What ECS says of a stopped task (DescribeTasks, as Step Functions puts it in a cause)."""
    container: dict[str, Any] = {"Name": "task", "LastStatus": "STOPPED"}
    if exit_code is None:  # never ran: no capacity, an image it could not pull
        container["Reason"] = "CannotPullContainerError: pull image manifest has been retried"
        stop = {"StopCode": "TaskFailedToStart", "StoppedReason": "Task failed to start"}
    else:
        container["ExitCode"] = exit_code
        stop = {
            "StopCode": "EssentialContainerExited",
            "StoppedReason": "Essential container exited",
        }
    arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/glacier/{task}"
    return {"TaskArn": arn, "Containers": [container], "LastStatus": "STOPPED", **stop}


class ScriptedEcs:
    """Per task, what each RunTask attempt does: ``"ok"``, an exit code, ``None`` (the task
    never started) or an ECS API error name (``"ECS.AmazonECSException"``)."""

    def __init__(self, script: dict[str, list[Any]]) -> None:
        self.script = script
        self.attempts: dict[str, int] = {}

    def outcome(self, task: str) -> Any:
        attempt = self.attempts.get(task, 0)
        self.attempts[task] = attempt + 1
        steps = self.script.get(task, ["ok"])
        return steps[min(attempt, len(steps) - 1)]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        ecs = self

        def run_task(
            service: Any, env: Any, normalised_parameters: dict[str, Any], **_: Any
        ) -> None:
            task = normalised_parameters["TaskDefinition"].rsplit("/", 1)[1].split(":")[0]
            outcome = ecs.outcome(task)
            if isinstance(outcome, str) and outcome.startswith("ECS."):
                details = TaskFailedEventDetails(error=outcome, cause="Rate exceeded")
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=CustomErrorName(error_name=outcome),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(taskFailedEventDetails=details),
                    )
                )
            env.stack.append({"task": task, "outcome": outcome})

        def sync(service: Any, env: Any, **_: Any) -> Any:
            submitted = env.stack.pop()
            task, outcome = submitted["task"], submitted["outcome"]

            def resolve() -> dict[str, Any]:
                if outcome == "ok":
                    return _stopped(task, 0)
                cause = json.dumps(_stopped(task, outcome))
                details = TaskFailedEventDetails(error="States.TaskFailed", cause=cause)
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(taskFailedEventDetails=details),
                    )
                )

            return resolve

        service = ecs_service.StateTaskServiceEcs
        monkeypatch.setattr(service, "_eval_service_task", run_task)
        monkeypatch.setattr(service, "_build_sync_resolver", sync)


@pytest.fixture()
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    sleeps: list[float] = []
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=sleeps.append))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):  # type: ignore[arg-type]
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="glacier-sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        yield SimpleNamespace(
            role=role, sleeps=sleeps, client=boto3.client("stepfunctions", region_name="us-east-1")
        )


def _run(sfn: SimpleNamespace, ecs: ScriptedEcs, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    ecs.install(monkeypatch)
    definition = state_machine_definition(
        _spec(),
        lambda t: fargate_task(
            CLUSTER,
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{t.name}:1",
            "task",
            ["subnet-0123"],
            ["sg-0123"],
        ),
    )
    machine = sfn.client.create_state_machine(
        name="fargate", definition=json.dumps(definition), roleArn=sfn.role
    )["stateMachineArn"]
    arn = sfn.client.start_execution(stateMachineArn=machine, input='{"run_id": "r1"}')[
        "executionArn"
    ]
    deadline = time.monotonic() + 60  # a guard against a hung engine, not a timing assertion
    while (described := sfn.client.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.05)
    described["events"] = sfn.client.get_execution_history(executionArn=arn, maxResults=1000)[
        "events"
    ]
    return described


def test_a_task_exiting_not_retryable_fails_the_run_at_once(sfn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ecs = ScriptedEcs({"step_2": [EXIT_NOT_RETRYABLE]})  # step_2 has retries=2
    result = _run(sfn, ecs, monkeypatch)
    assert result["status"] == "FAILED"
    assert result["error"] == "Glacier.ContainerNotRetryable"
    assert json.loads(result["cause"])["Containers"][0]["ExitCode"] == EXIT_NOT_RETRYABLE
    assert ecs.attempts == {"step_0": 1, "step_1": 1, "step_2": 1}
    assert sfn.sleeps == []


def test_a_retryable_exit_is_retried_with_the_task_retries(sfn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ecs = ScriptedEcs({"step_2": [EXIT_RETRYABLE, 137, "ok"]})  # 137: killed (out of memory)
    result = _run(sfn, ecs, monkeypatch)
    assert result["status"] == "SUCCEEDED"
    assert ecs.attempts["step_2"] == 3
    assert sfn.sleeps == [5, 10]
    report = json.loads(result["output"])["tasks"]["step_2"]
    assert report == {"status": "succeeded", "task_arn": f"{CLUSTER[:-15]}task/glacier/step_2"}


def test_a_crash_without_retries_fails_under_its_own_name(sfn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ecs = ScriptedEcs({"step_0": [137]})  # step_0 has retries=0
    result = _run(sfn, ecs, monkeypatch)
    assert result["status"] == "FAILED" and result["error"] == "Glacier.ContainerFailed"
    assert ecs.attempts == {"step_0": 1}


def test_ecs_capacity_and_throttling_errors_are_retried_whatever_the_retries(
    sfn, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # step_0 has retries=0: ECS could not start it now, which its own code has no part in
    ecs = ScriptedEcs({"step_0": ["ECS.AmazonECSException", None, "ok"]})
    result = _run(sfn, ecs, monkeypatch)
    assert result["status"] == "SUCCEEDED"
    assert ecs.attempts["step_0"] == 3
    assert sfn.sleeps == [20, 40]


def test_ecs_errors_that_persist_fail_the_run_after_the_capacity_retries(sfn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ecs = ScriptedEcs({"step_0": [None]})  # never starts (a wrong image, say)
    result = _run(sfn, ecs, monkeypatch)
    assert result["status"] == "FAILED" and result["error"] == "Glacier.ContainerNotStarted"
    assert ecs.attempts["step_0"] == 5  # the first attempt and four retries
    assert sfn.sleeps == [20, 40, 80, 160]


def test_other_ecs_errors_fail_the_run_under_their_own_name(sfn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A Catch on States.TaskFailed catches every error but States.Timeout: ECS's own errors
    # must leave the task's states under their names, not as a container failure.
    ecs = ScriptedEcs({"step_0": ["ECS.AccessDeniedException"]})  # step_0 has retries=0
    result = _run(sfn, ecs, monkeypatch)
    assert result["status"] == "FAILED" and result["error"] == "ECS.AccessDeniedException"
    assert ecs.attempts == {"step_0": 1}
