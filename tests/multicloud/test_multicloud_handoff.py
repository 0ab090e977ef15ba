"""The automatic hand-off: a GCP workflow whose work continues on AWS starts the AWS stack's
state machine itself, after its last task, through a relay function whose federated role may
only start that state machine; the run id travels along."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import mc_handoff
import pytest
import yaml
from mc_mocks import UNIQUE_ID, run_aws, run_linked
from moto.server import ThreadedMotoServer

from glacier.compilation import Infrastructure, MultiCloudCompiler
from glacier.errors import CompilationError
from glacier_aws import AWSCompiler
from glacier_gcp import GCPCompiler

REPO = Path(__file__).resolve().parents[2]
HARNESS = REPO / "tests" / "gcp" / "workflows_harness.py"
EMULATOR = REPO / ".venv-workflows" / "bin" / "python"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
TOKEN = "header.google-id-token.signature"


def _compile() -> Infrastructure:
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )
    return mc_handoff.forward.compile(compiler)


@pytest.fixture(scope="module")
def infra() -> Infrastructure:
    return _compile()


def test_the_workflow_hands_off_after_its_last_task(infra: Infrastructure) -> None:
    workflow = yaml.safe_load(infra.stacks["gcp"].files["workflow.yaml"])
    steps = [next(iter(s)) for s in workflow["main"]["steps"]]
    assert steps == ["init", "run_dag", "hand_off", "done"]  # run_dag holds every task
    call = workflow["main"]["steps"][2]["hand_off"]["try"]
    assert call["args"] == {
        "url": "<<relay_fn.url>>", "auth": {"type": "OIDC"}, "body": {"run_id": "${run_id}"}
    }  # fmt: skip
    relay = {(r.provider, r.kind, r.name) for r in infra.resources if "handoff" in r.name}
    assert relay == {("gcp", "cloud_function", "forward-handoff"),
                     ("aws", "federated_role", "forward-handoff-aws")}  # fmt: skip
    kinds = {p: {r.kind for r in s.resources} for p, s in infra.stacks.items()}
    assert "scheduler_job" in kinds["gcp"] and "eventbridge_rule" not in kinds["aws"]
    assert "\nboto3==" in infra.stacks["gcp"].files["app/requirements.txt"]
    text = infra.readme()
    assert "1. `cd aws && pulumi stack init <env> && pulumi up`: reads no other stack." in text
    assert "reads the `buckets`, `region` and `state_machine_arn` outputs of aws" in text
    assert "  It hands runs off to aws: deploy it with credentials for aws too" in text
    assert "1. `cd gcp && $(pulumi stack output start_run)`\n2. `aws` starts by itself" in text


def test_a_hop_without_a_relay_is_still_started_by_hand() -> None:
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="aws",
    )
    infra = mc_handoff.pipeline.compile(compiler)
    assert "hand_off" not in infra.stacks["gcp"].files["workflow.yaml"]
    assert "2. `cd gcp && $(pulumi stack output start_run)`" in infra.readme()


@pytest.fixture(scope="module")
def runs(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    root: Path = infra.write(tmp_path_factory.mktemp("forward"))
    aws = run_aws(root / "aws")
    gcp, _ = run_linked(root / "gcp", {"organization/forward-aws/test": aws.exports})
    return aws, gcp


@pytest.mark.slow
def test_the_relay_role_may_only_start_the_aws_state_machine(runs: tuple[Any, Any]) -> None:
    aws, gcp = runs
    machine = aws.exports["state_machine_arn"]
    roles = {r.name: r for r in gcp.mocks.resources if r.type == "aws:iam/role:Role"}
    trust = json.loads(roles["forward-handoff-aws"].inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Condition"]["StringEquals"]["accounts.google.com:sub"] == UNIQUE_ID
    policies = {
        r.name: json.loads(r.inputs["policy"])
        for r in gcp.mocks.resources
        if r.type == "aws:iam/rolePolicy:RolePolicy"
    }
    assert policies["forward-handoff-aws-start"]["Statement"] == [
        {"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine}
    ]
    (relay,) = [
        r for r in gcp.mocks.resources if r.type == FUNCTION and r.name == "forward-handoff"
    ]
    env = relay.inputs["serviceConfig"]["environmentVariables"]
    assert (env["GLACIER_HANDOFF"], env["GLACIER_HANDOFF_TARGET"]) == ("aws", machine)
    assert env["AWS_ROLE_ARN"].startswith("arn:aws:iam::123456789012:role/forward-handoff-aws")
    assert "GLACIER_TASK" not in env  # it runs no task
    invokers = [r for r in gcp.mocks.resources if r.name == "forward-handoff-invoker"]
    assert len(invokers) == 1 and "workflow" in json.dumps(invokers[0].inputs["member"])


class _Metadata(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = TOKEN.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def aws_stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto (STS and Step Functions) with one state machine, and a stand-in metadata server."""
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    metadata = ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    for key, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                       "GCE_METADATA_HOST": f"127.0.0.1:{metadata.server_address[1]}"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=url)
    machine = sfn.create_state_machine(
        name="forward", roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "x", "States": {"x": {"Type": "Succeed"}}}),
    )["stateMachineArn"]  # fmt: skip
    for key, value in {"GLACIER_HANDOFF": "aws", "GLACIER_HANDOFF_TARGET": machine,
                       "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/forward-handoff-aws",
                       "GLACIER_WEB_IDENTITY": "google",
                       "GLACIER_WEB_IDENTITY_AUDIENCE": "sts.amazonaws.com"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    try:
        yield machine
    finally:
        metadata.shutdown()
        moto.stop()


def _executions(machine: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    found = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in found]


@pytest.mark.slow
def test_the_workflow_starts_the_state_machine_with_its_run_id_after_its_tasks(
    runs: tuple[Any, Any], aws_stand_in: str, tmp_path: Path
) -> None:
    from glacier_gcp.runtime import handler

    _, gcp = runs
    calls: list[tuple[str, float]] = []

    class Stub(BaseHTTPRequestHandler):
        """The deployed functions: ``prepare`` answers, the relay runs the real handler."""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = self.path.strip("/")
            calls.append((name, time.monotonic()))
            if name == "relay":
                reply, status = handler(type("R", (), {"get_json": lambda s, **k: body})())
            else:
                time.sleep(0.3)
                reply, status = {"status": "succeeded"}, 200
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stub = f"http://127.0.0.1:{server.server_address[1]}"
    urls = {}
    for r in gcp.of(FUNCTION):
        env = r.inputs["serviceConfig"]["environmentVariables"]
        urls[gcp.outputs(r)["url"]] = f"{stub}/{env.get('GLACIER_TASK', 'relay')}"
    (workflow,) = gcp.of("gcp:workflows/workflow:Workflow")
    text = re.sub("|".join(map(re.escape, urls)), lambda m: urls[m.group(0)],
                  workflow.inputs["sourceContents"])  # fmt: skip
    path = tmp_path / "deployed.json"
    path.write_text(json.dumps({"main": "forward", "workflows": {"forward": text}}))
    try:
        done = subprocess.run([str(EMULATOR), str(HARNESS), "run", str(path)],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    finally:
        server.shutdown()
    result = json.loads(done.stdout.strip().splitlines()[-1])["result"]
    assert result["status"] == "succeeded", done.stderr[-2000:]
    assert [name for name, _ in calls] == ["prepare", "relay"]  # after the last task
    (execution,) = _executions(aws_stand_in)
    run_id = result["run_id"]
    assert execution["name"] == run_id and json.loads(execution["input"]) == {"run_id": run_id}


@pytest.mark.slow
def test_a_retried_hand_off_starts_one_execution(aws_stand_in: str) -> None:
    from glacier_gcp.relay import start_next

    first = start_next({"run_id": "run-7"})
    again = start_next({"run_id": "run-7"})  # Step Functions: same name and input, same run
    assert first["already_started"] is False and again["run_id"] == "run-7"
    assert [e["name"] for e in _executions(aws_stand_in)] == ["run-7"]


def test_the_relay_refuses_without_its_configuration() -> None:
    from glacier.runtime.adapter import ConfigurationError
    from glacier_gcp.relay import start_next

    with pytest.raises(ConfigurationError, match="GLACIER_HANDOFF=aws, GLACIER_HANDOFF_TARGET"):
        start_next({"run_id": "r"}, env={"GLACIER_HANDOFF": "aws"})


def test_an_aws_task_reaching_gcs_is_refused_naming_the_missing_federation() -> None:
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )
    with pytest.raises(
        CompilationError,
        match=r"task 'land' \(aws\) reads dataset 'fresh', placed on 'gcp'; .* \(an AWS task "
        r"reaching GCS needs a workload identity pool with an AWS provider in the GCP project, "
        r"not built yet: see docs/decisions/165-aws-tasks-reaching-gcs.md\)",
    ):
        mc_handoff.backward.compile(compiler)


def test_a_stack_of_jobs_still_deploys_the_relay_as_a_function() -> None:
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )
    program = mc_handoff.in_jobs.compile(compiler).stacks["gcp"].files["__main__.py"]
    assert "cloudfunctions.googleapis.com" in program
    assert program.index("source = gc.function_source(") < program.index("relay_fn = gc.function(")


def test_a_task_named_like_the_relay_is_refused() -> None:
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )
    with pytest.raises(CompilationError, match=r"task 'handoff': its cloud resources are named "
                       r"like the hand-off relay's .*; rename the task"):  # fmt: skip
        mc_handoff.clash.compile(compiler)
