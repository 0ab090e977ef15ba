"""Deploy-time choices: region and partition, bucket names, credentials profile, and the
compile-time region (``--region``, the environment, the cost line that prices it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_compile import compile_ref
from aws_mocks import Run, run_stack

from glacier_aws import AWSCompiler

VALIDATOR = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "asl-validator"


def _run(tmp_path: Path, config: dict[str, str] | None = None, **options: Any) -> Run:
    return run_stack(compile_ref("aws_orders", **options).write(tmp_path) / "aws", config)


def _provider(run: Run) -> dict[str, Any]:
    return run.one("pulumi:providers:aws", "aws").inputs


def _tasks(definition: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for state in definition["States"].values():
        if state["Type"] == "Task":
            found.append(state)
        for branch in state.get("Branches", []):
            found.extend(_tasks(branch))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("compiled", "configured", "partition"),
    [
        ("cn-north-1", None, "aws-cn"),
        ("us-gov-west-1", None, "aws-us-gov"),
        ("us-east-1", "cn-northwest-1", "aws-cn"),  # pulumi config set aws:region
        ("us-east-1", None, "aws"),
    ],
)
def test_every_arn_the_stack_sends_is_in_its_regions_partition(
    tmp_path: Path, compiled: str, configured: str | None, partition: str
) -> None:
    """Step Functions in China or GovCloud refuses ``arn:aws:states:::lambda:invoke``."""
    config = {"aws:region": configured} if configured else None
    run = _run(tmp_path, config, region=compiled)
    assert _provider(run)["region"] == (configured or compiled)
    machine = run.one("aws:sfn/stateMachine:StateMachine", "orders").inputs
    definition = json.loads(machine["definition"])
    resources = sorted({s["Resource"] for s in _tasks(definition)})
    assert resources == [
        f"arn:{partition}:states:::ecs:runTask.sync",
        f"arn:{partition}:states:::lambda:invoke",
    ]
    sent = json.dumps([r.inputs for r in run.mocks.resources], default=str)
    others = {"aws", "aws-cn", "aws-us-gov"} - {partition}
    assert f"arn:{partition}:" in sent
    assert not [p for p in others if f"arn:{p}:" in sent], "an ARN in another partition"
    path = tmp_path / "deployed.json"
    path.write_text(machine["definition"])
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_pulumi_config_set_aws_region_moves_the_whole_stack(tmp_path: Path) -> None:
    run = _run(tmp_path, {"aws:region": "eu-west-1"})  # compiled for us-east-1
    assert _provider(run)["region"] == "eu-west-1"
    assert run.exports["region"] == "eu-west-1"
    assert run.exports["start_run"].startswith(
        "aws stepfunctions start-execution --region eu-west-1 "
    )
    assert ":eu-west-1:" in run.exports["state_machine_arn"]
    task = run.one("aws:ecs/taskDefinition:TaskDefinition", "orders-publish").inputs
    logs = json.loads(task["containerDefinitions"])[0]["logConfiguration"]["options"]
    assert logs["awslogs-region"] == "eu-west-1"


@pytest.mark.slow
def test_without_config_the_stack_deploys_to_the_compiled_region_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``AWSCompiler(region=...)`` is never overridden by ``AWS_REGION``: not when compiling,
    not when deploying (the stack's provider names its region)."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    run = _run(tmp_path, region="us-west-2")
    assert _provider(run)["region"] == "us-west-2"
    assert run.exports["region"] == "us-west-2"


def test_the_project_file_holds_the_compiled_region_as_aws_region() -> None:
    """``aws:region`` is a project-level value (stack config overrides it); Pulumi refuses a
    ``default`` or a ``type`` for a key outside the project's namespace."""
    project = yaml.safe_load(compile_ref("aws_orders", region="eu-west-1").stacks["aws"].files[
        "Pulumi.yaml"])  # fmt: skip
    assert project["config"] == {"aws:region": {"value": "eu-west-1"}}
    assert project["name"] == "orders"


@pytest.mark.slow
def test_bucket_names_are_stack_config(tmp_path: Path) -> None:
    renamed = {"acme-orders-landing": "acme-orders-landing-dev"}
    run = _run(tmp_path, {"glacier:bucketNames": json.dumps(renamed)})
    buckets = {r.inputs.get("bucket") for r in run.of("aws:s3/bucket:Bucket")}
    assert "acme-orders-landing-dev" in buckets and "acme-orders-landing" not in buckets
    assert run.exports["buckets"]["orders"] == "acme-orders-landing-dev"
    policy = json.dumps(run.policy("orders-validate"))
    assert "arn:aws:s3:::acme-orders-landing-dev/incoming/orders.parquet" in policy


@pytest.mark.slow
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"acme-orders": "x"}', r"glacier:bucketNames renames \['acme-orders'\], which this "
         r"stack does not name; the buckets it names are \['acme-orders-landing'\]"),
        ('["x"]', "glacier:bucketNames must be a JSON object of bucket name -> new bucket name"),
    ],
)  # fmt: skip
def test_a_wrong_bucket_names_config_fails_the_deploy(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _run(tmp_path, {"glacier:bucketNames": value})


@pytest.mark.slow
def test_aws_profile_config_reaches_the_stacks_provider(tmp_path: Path) -> None:
    """An explicit provider reads no stack config: the program passes ``aws:profile`` on."""
    assert _provider(_run(tmp_path, {"aws:profile": "prod"}))["profile"] == "prod"
    assert "profile" not in _provider(_run(tmp_path / "again"))


def test_the_cost_line_says_which_regions_prices_it_uses() -> None:
    assert "us-east-1 list prices" in compile_ref("aws_orders").summary()
    summary = compile_ref("aws_orders", region="eu-west-1").summary()
    assert "priced as us-east-1 (no price table for eu-west-1)" in summary
    assert "us-east-1 list prices" not in summary


@pytest.mark.parametrize(
    ("env", "region", "source"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-1", "AWS_REGION"),
        ({"AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-2", "AWS_DEFAULT_REGION"),
        ({}, "us-east-1", "the default; AWS_REGION and AWS_DEFAULT_REGION are not set"),
    ],
)  # fmt: skip
def test_from_env_says_where_its_region_came_from(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], region: str, source: str
) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    compiler = AWSCompiler.from_env()
    assert (compiler.region, compiler.region_source) == (region, source)
    assert AWSCompiler(region="ap-south-1").region_source == "the region argument"
