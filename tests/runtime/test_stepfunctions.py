"""The Step Functions definition: asl-validator, and moto's engine running it in DAG order."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from runtime_support import load_module

from glacier.compilation.planning import Par, Seq, plan_dag
from glacier.errors import CompilationError
from glacier.ir import PipelineIR, TaskIR
from glacier_aws.stepfunctions import (
    ECS_RUN_TASK_SYNC,
    FAILURE_KIND,
    LAMBDA_INVOKE,
    NON_RETRYABLE_ERRORS,
    fargate_task,
    lambda_task,
    state_machine_definition,
)

shapes = load_module("runtime_shapes")
VALIDATOR = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "asl-validator"
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:123456789012:function"
SHAPES = {
    "linear": shapes.linear,
    "diamond": shapes.diamond,
    "wide": shapes.wide,
    "stages": shapes.multi_stage,
    "chains": shapes.uneven_chains,
    "nshape": shapes.n_shape,
}


def _resource(task: TaskIR) -> dict[str, Any]:
    """Lambda for serverless/local tasks, Fargate for container tasks (as the compiler does)."""
    if task.compute.type == "container":
        return fargate_task(
            "arn:aws:ecs:us-east-1:123456789012:cluster/glacier",
            f"arn:aws:ecs:us-east-1:123456789012:task-definition/{task.name}:1",
            task.name,
            ["subnet-0123"],
            ["sg-0123"],
        )
    return lambda_task(f"{ACCOUNT_ARN}:{task.name}")


def _all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, including those inside Parallel branches."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_all_states(branch))
    return found


# -- the definition ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_definition_passes_asl_validator(shape: str, tmp_path: Path) -> None:
    definition = state_machine_definition(SHAPES[shape]().spec(), _resource)
    path = tmp_path / f"{shape}.json"
    path.write_text(json.dumps(definition))
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid" in done.stdout


@pytest.mark.slow
def test_asl_validator_rejects_a_broken_definition(tmp_path: Path) -> None:
    """The validator check above can fail: a dangling Next is reported."""
    definition = state_machine_definition(shapes.diamond().spec(), _resource)
    definition["States"]["extract"]["Next"] = "Nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(definition))
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, check=False
    )
    assert done.returncode != 0


def _waits(definition: dict[str, Any]) -> dict[str, set[str]]:
    """For each task, the tasks the definition makes it wait for (read off the ASL itself)."""
    waits: dict[str, set[str]] = {}

    def run(states: dict[str, Any], name: str | None, done: set[str]) -> set[str]:
        while name is not None and name in states:
            state = states[name]
            if state["Type"] == "Task":
                waits[name] = set(done)
                done = done | {name}
            elif state["Type"] == "Parallel":
                ends = [run(b["States"], b["StartAt"], done) for b in state["Branches"]]
                done = set().union(*ends)
            name = state.get("Next")
        return done

    run(definition["States"], definition["States"]["Keep run id"]["Next"], set())
    return waits


def _ancestors(spec: PipelineIR) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for t in spec.tasks:  # topological order
        found[t.name] = set(t.upstream).union(*(found[u] for u in t.upstream))
    return found


@pytest.mark.parametrize("shape", ["linear", "diamond", "wide", "stages", "chains", "audited"])
def test_a_series_parallel_dag_runs_without_a_single_needless_wait(shape: str) -> None:
    spec = (shapes.audited_chain if shape == "audited" else SHAPES[shape])().spec()
    assert _waits(state_machine_definition(spec, _resource)) == _ancestors(spec)


def test_other_dags_add_the_fewest_waits() -> None:
    spec = shapes.n_shape().spec()
    waits, needed = _waits(state_machine_definition(spec, _resource)), _ancestors(spec)
    assert all(waits[t] >= needed[t] for t in needed)
    assert {t: waits[t] - needed[t] for t in needed if waits[t] != needed[t]} == {"d": {"a"}}


def test_the_dag_becomes_nested_sequences_and_parallel_branches() -> None:
    plan = plan_dag(
        shapes.multi_stage().spec().tasks
    )  # a -> (b, c, d); b -> e; (c, e) -> f; d -> g

    def shape(node: Any) -> Any:
        if isinstance(node, Seq):
            return ["seq", *map(shape, node.items)]
        if isinstance(node, Par):
            return ["par", *map(shape, node.branches)]
        return node.name

    assert shape(plan) == [
        "seq", "a", ["par", ["seq", ["par", ["seq", "b", "e"], "c"], "f"], ["seq", "d", "g"]]
    ]  # fmt: skip
    definition = state_machine_definition(shapes.multi_stage().spec(), _resource)
    states = definition["States"]
    assert definition["StartAt"] == "Run id?"
    assert states["Keep run id"]["Next"] == states["Name run id"]["Next"] == "a"
    assert states["a"]["Next"] == "Parallel 1"
    outer = states["Parallel 1"]
    assert [b["StartAt"] for b in outer["Branches"]] == ["Parallel 2", "d"]
    assert outer["Comment"] == "2 branches: b ... f; d ... g"
    assert outer["Parameters"] == {"run_id.$": "$.run_id", "tasks": {}}
    assert outer["ResultSelector"] == {"b0.$": "$[0]", "b1.$": "$[1]"}
    assert outer["Next"] == "Parallel 1 reports"
    reports = states["Parallel 1 reports"]
    assert reports["Parameters"]["tasks.$"] == (
        "States.JsonMerge(States.JsonMerge($.tasks, $.branches.b0.tasks, false), "
        "$.branches.b1.tasks, false)"
    )
    assert reports["Next"] == "Succeeded"
    inner = outer["Branches"][0]["States"]
    assert inner["Parallel 2"]["Next"] == "Parallel 2 reports"
    assert inner["Parallel 2 reports"]["Next"] == "f" and inner["f"]["End"] is True
    assert "Catch" not in inner["Parallel 2"]  # the outermost Parallel state catches
    assert states["Succeeded"] == {"Type": "Succeed"}


def test_wide_parallel_states_merge_reports_as_a_tree() -> None:
    states = state_machine_definition(shapes.wide(12).spec(), _resource)["States"]
    first, second = states["Parallel 1 reports"], states["Parallel 1 reports 2"]
    # 13 sources ($.tasks and 12 branches): groups of at most 10 (AWS nests at most 10
    # intrinsic functions), each state keeping only its partial merges.
    parts = first["Parameters"]["parts"]
    assert [p.count("States.JsonMerge") for p in parts.values()] == [9, 2]
    assert (
        set(first["Parameters"]) == {"run_id.$", "parts"}
        and first["Next"] == "Parallel 1 reports 2"
    )
    assert second["Parameters"]["tasks.$"] == "States.JsonMerge($.parts.p0, $.parts.p1, false)"
    assert second["Next"] == "gather"
    assert states["Parallel 1"]["Comment"].endswith("; and 6 more")


def test_retries_and_failure_path_are_in_the_definition() -> None:
    spec = shapes.linear(4).spec()
    states = _all_states(state_machine_definition(spec, _resource))
    for task in spec.tasks:
        retry = states[task.name].get("Retry", [])
        catch_all = [r for r in retry if r["ErrorEquals"] == ["States.ALL"]]
        if task.retries:
            assert retry[0] == {"ErrorEquals": list(NON_RETRYABLE_ERRORS), "MaxAttempts": 0}
            assert catch_all == [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 5,
                    "BackoffRate": 2.0,
                    "MaxDelaySeconds": 300,
                    "MaxAttempts": task.retries,
                }
            ]
        else:
            assert catch_all == []
        assert any(r["ErrorEquals"][0].startswith("Lambda.") for r in retry)  # service hiccups
        assert states[task.name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": FAILURE_KIND}
        ]
        assert states[task.name]["Parameters"]["Payload"] == {"run_id.$": "$.run_id"}
    assert states["Failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }
    assert states[FAILURE_KIND]["Choices"][0] == {
        "Variable": "$.error.Error",
        "StringMatches": "States.*",
        "Next": "Failed in Step Functions",
    }
    assert states[FAILURE_KIND]["Default"] == "Failed"


def test_branch_tasks_retry_and_their_parallel_state_catches() -> None:
    spec = shapes.wide(4).spec()
    definition = state_machine_definition(spec, _resource)
    parallel = definition["States"]["Parallel 1"]
    assert parallel["Catch"][0]["Next"] == FAILURE_KIND
    branch = _all_states(definition)["branch_01"]
    assert branch["Retry"][-1]["MaxAttempts"] == 1
    assert "Catch" not in branch  # a branch failure fails the Parallel state, which catches it
    assert branch["ResultPath"] == "$.tasks.branch_01" and branch["End"] is True


def test_task_resources_and_report_selectors() -> None:
    spec = shapes.diamond().spec()
    right = spec.task("right")
    container = replace(right, compute=replace(right.compute, type="container"))
    spec = replace(spec, tasks=tuple(container if t.name == "right" else t for t in spec.tasks))
    states = _all_states(state_machine_definition(spec, _resource))
    assert states["left"]["Resource"] == LAMBDA_INVOKE
    assert states["left"]["ResultSelector"]["rows.$"] == "$.Payload.rows"
    right = states["right"]
    assert right["Resource"] == ECS_RUN_TASK_SYNC
    assert right["ResultSelector"] == {"status": "succeeded", "task_arn.$": "$.TaskArn"}
    env = right["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]
    assert env == [{"Name": "GLACIER_RUN_ID", "Value.$": "$.run_id"}]
    assert not any(r["ErrorEquals"][0].startswith("Lambda.") for r in right.get("Retry", []))
    assert states["extract"]["TimeoutSeconds"] == 30
    custom = state_machine_definition(
        spec,
        lambda t: {
            "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "ResultSelector": {"id.$": "$.Id"},
        },
    )
    assert custom["States"]["extract"]["ResultSelector"] == {"id.$": "$.Id"}


def test_sentinel_resources_are_placed_untouched() -> None:
    """The compiler passes Output sentinels; the definition must carry the same objects."""
    sentinels = {t.name: object() for t in shapes.diamond().tasks}
    definition = state_machine_definition(
        shapes.diamond().spec(), lambda t: lambda_task(sentinels[t.name])
    )
    states = _all_states(definition)
    assert all(states[n]["Parameters"]["FunctionName"] is s for n, s in sentinels.items())


def test_a_resource_without_resource_field_is_an_error() -> None:
    with pytest.raises(
        CompilationError,
        match=r"task 'extract': task_resource returned \['Parameters'\]; expected a 'Resource'",
    ):
        state_machine_definition(shapes.diamond().spec(), lambda t: {"Parameters": {}})


def test_huge_pipelines_keep_no_reports_in_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from glacier_aws import stepfunctions

    monkeypatch.setattr(stepfunctions, "MAX_ACCUMULATED_REPORTS", 3)
    states = _all_states(state_machine_definition(shapes.diamond().spec(), _resource))
    assert "Parallel 1 reports" not in states
    assert states["Parallel 1"]["ResultPath"] is None and states["Parallel 1"]["Next"] == "join"
    assert "ResultSelector" not in states["Parallel 1"]
    # a container task's report is selected by the Parallel state wrapping it
    tops = ("extract", "left", "right on Fargate", "join")
    assert all(states[t]["ResultPath"] is None for t in tops)


# -- executed by moto's Step Functions engine --------------------------------------------------


class FakeLambdas:
    """Lambda functions whose invocations run ``behaviour(task, event)`` and are recorded."""

    def __init__(self, behaviour: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.behaviour = behaviour
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def invoke(
        self,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        task = function_name.rsplit(":", 1)[-1]
        event = json.loads(body)
        with self._lock:
            self.calls.append((task, event))
        try:
            result = self.behaviour(task, event)
        except Exception as exc:  # what the Lambda runtime does with an unhandled exception
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        return json.dumps(result).encode()


def _report(task: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": task,
        "run_id": event["run_id"],
        "status": "succeeded",
        "rows": len(task),
        "bytes": 10,
        "outputs": {},
        "seconds": 0.01,
    }


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """moto with Step Functions execution and docker-free Lambda; retry sleeps recorded."""
    sleeps: list[float] = []
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=sleeps.append))
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):  # type: ignore[arg-type]
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="glacier-sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        yield SimpleNamespace(
            role=role,
            sleeps=sleeps,
            lam=boto3.client("lambda", region_name="us-east-1"),
            sfn=boto3.client("stepfunctions", region_name="us-east-1"),
        )


def _execute(
    aws: SimpleNamespace,
    spec: PipelineIR,
    fake: FakeLambdas,
    monkeypatch: pytest.MonkeyPatch,
    run_input: dict[str, Any],
    name: str,
) -> dict[str, Any]:
    """Create the functions and the machine, run it to the end; describe_execution + history."""
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", lambda _backend, *args: fake.invoke(*args))
    arns = {}
    for task in spec.tasks:
        arns[task.name] = aws.lam.create_function(
            FunctionName=task.name,
            Runtime="python3.12",
            Role=aws.role,
            Handler="glacier_aws.runtime.handler",
            Code={"ZipFile": b"bundle"},
        )["FunctionArn"]
    definition = state_machine_definition(spec, lambda t: lambda_task(arns[t.name]))
    machine = aws.sfn.create_state_machine(
        name=spec.name, definition=json.dumps(definition), roleArn=aws.role
    )["stateMachineArn"]
    arn = aws.sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(run_input))[
        "executionArn"
    ]
    deadline = time.monotonic() + 60  # a guard against a hung engine, not a timing assertion
    while (described := aws.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.05)
    described["events"] = aws.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return described


def _assert_topological(spec: PipelineIR, events: list[dict[str, Any]]) -> list[str]:
    """Every task's state is entered after all its upstream tasks' states exited; the order."""
    entered: dict[str, int] = {}
    exited: dict[str, int] = {}
    for e in events:
        if e["type"] == "TaskStateEntered":
            entered[e["stateEnteredEventDetails"]["name"]] = e["id"]
        elif e["type"] == "TaskStateExited":
            exited[e["stateExitedEventDetails"]["name"]] = e["id"]
    assert set(entered) == set(exited) == {t.name for t in spec.tasks}
    for task in spec.tasks:
        for up in task.upstream:
            assert exited[up] < entered[task.name], f"{task.name} started before {up} finished"
    return sorted(entered, key=entered.__getitem__)


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["diamond", "stages", "wide", "nshape"])
def test_moto_runs_tasks_in_topological_order(shape, aws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = SHAPES[shape]().spec()
    fake = FakeLambdas(_report)
    result = _execute(aws, spec, fake, monkeypatch, {"run_id": "nightly-1"}, "exec-1")
    assert result["status"] == "SUCCEEDED"
    order = _assert_topological(spec, result["events"])
    sinks = {t.name for t in spec.tasks} - {u for t in spec.tasks for u in t.upstream}
    assert not spec.task(order[0]).upstream and order[-1] in sinks
    assert sorted(t for t, _ in fake.calls) == sorted(t.name for t in spec.tasks)
    assert {e["run_id"] for _, e in fake.calls} == {"nightly-1"}
    scheduled = [e for e in result["events"] if e["type"] == "TaskScheduled"]
    assert len(scheduled) == len(spec.tasks)
    output = json.loads(result["output"])
    assert output["run_id"] == "nightly-1"
    assert output["tasks"] == {
        t.name: {"status": "succeeded", "rows": len(t.name), "bytes": 10, "seconds": 0.01}
        for t in spec.tasks
    }


@pytest.mark.slow
def test_run_id_defaults_to_the_execution_name(aws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake = FakeLambdas(_report)
    result = _execute(aws, shapes.linear(2).spec(), fake, monkeypatch, {}, "exec-2026-01-02")
    assert result["status"] == "SUCCEEDED"
    assert [e for _, e in fake.calls] == [{"run_id": "exec-2026-01-02"}] * 2


@pytest.mark.slow
def test_a_failing_task_is_retried_with_backoff_then_fails_the_run(aws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = shapes.diamond().spec()  # extract retries 2, join retries 1

    def flaky(task: str, event: dict[str, Any]) -> dict[str, Any]:
        if task == "join":
            raise RuntimeError("disk full while writing 'out'")
        return _report(task, event)

    fake = FakeLambdas(flaky)
    result = _execute(aws, spec, fake, monkeypatch, {"run_id": "r1"}, "exec-fail")
    assert result["status"] == "FAILED"
    assert result["error"] == "RuntimeError"
    assert "disk full while writing 'out'" in result["cause"]
    assert [t for t, _ in fake.calls].count("join") == 2  # one try + one retry
    assert aws.sleeps == [5]
    assert any(e["type"] == "ExecutionFailed" for e in result["events"])


@pytest.mark.slow
def test_non_retryable_errors_fail_at_once(aws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def bad_schema(task: str, event: dict[str, Any]) -> dict[str, Any]:
        if task == "extract":
            raise ValueError("unused")
        return _report(task, event)

    class SchemaError(Exception):
        pass

    def schema_failure(task: str, event: dict[str, Any]) -> dict[str, Any]:
        raise SchemaError(f"dataset 'ds_{task}' column 'x': expected Int64, found String")

    fake = FakeLambdas(schema_failure)
    result = _execute(aws, shapes.diamond().spec(), fake, monkeypatch, {"run_id": "r2"}, "exec-s")
    assert result["status"] == "FAILED" and result["error"] == "SchemaError"
    assert [t for t, _ in fake.calls] == ["extract"]  # retries=2, but a SchemaError is final
    assert aws.sleeps == []


@pytest.mark.slow
def test_retries_with_exponential_backoff_then_succeed(aws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    attempts: dict[str, int] = {}

    def transient(task: str, event: dict[str, Any]) -> dict[str, Any]:
        attempts[task] = attempts.get(task, 0) + 1
        if task == "f" and attempts[task] < 4:
            raise ConnectionError("S3 slow down")
        return _report(task, event)

    spec = shapes.multi_stage().spec()  # f retries 3
    result = _execute(aws, spec, FakeLambdas(transient), monkeypatch, {"run_id": "r3"}, "e3")
    assert result["status"] == "SUCCEEDED"
    assert attempts["f"] == 4
    assert aws.sleeps == [5, 10, 20]


@pytest.mark.slow
def test_step_functions_errors_fail_under_a_fixed_name(aws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_payload(task: str, event: dict[str, Any]) -> dict[str, Any]:
        return {"task": task}  # no rows/bytes: the ResultSelector cannot select them

    result = _execute(aws, shapes.linear(2).spec(), FakeLambdas(no_payload), monkeypatch, {}, "e4")
    assert result["status"] == "FAILED"
    assert result["error"] == "GlacierTaskFailed"
    assert result["cause"].startswith("States.")
