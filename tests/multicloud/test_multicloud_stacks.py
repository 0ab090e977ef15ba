"""The generated stacks of a pipeline spread over AWS and GCP: files, deploy order, the
cross-cloud identity wiring, and both programs under Pulumi mocks with the real SDKs, the
GCP stack's StackReference answered with the AWS stack's own exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mc_spread
import pytest
from mc_mocks import UNIQUE_ID, run_aws, run_linked

from glacier.compilation import Infrastructure, MultiCloudCompiler
from glacier.errors import CompilationError
from glacier_aws import AWSCompiler
from glacier_gcp import GCPCompiler

ROLE = "aws:iam/role:Role"


def _compile() -> Infrastructure:
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )
    return mc_spread.pipeline.compile(compiler)


@pytest.fixture(scope="module")
def infra() -> Infrastructure:
    return _compile()


def test_one_stack_per_provider_each_its_own_pulumi_project(infra: Infrastructure) -> None:
    assert sorted(infra.stacks) == ["aws", "gcp"]
    assert infra.stacks["aws"].files["Pulumi.yaml"].startswith("name: spread-aws\n")
    assert infra.stacks["gcp"].files["Pulumi.yaml"].startswith("name: spread-gcp\n")
    assert "pulumi-aws>=6,<7" in infra.stacks["gcp"].files["requirements.txt"]
    assert "glacier_aws_federation.py" in infra.stacks["gcp"].files
    assert _compile().stacks["gcp"].files == infra.stacks["gcp"].files  # deterministic


def test_the_readme_deploys_data_first_and_tears_down_in_reverse(infra: Infrastructure) -> None:
    text = infra.readme()
    deploy = text.index(
        "1. `cd aws && pulumi stack init <env> && pulumi up`: reads no other stack."
    )
    assert (
        text.index("2. `cd gcp && pulumi stack init <env> && pulumi up`: reads the `buckets`")
        > deploy
    )
    assert "- `cd gcp && pulumi destroy`\n- `cd aws && pulumi destroy`" in text
    assert "1. `cd gcp && $(pulumi stack output start_run)`" in text
    assert "| clean (gcp) | aws | orders | read `orders.parquet`; list `orders.parquet` |" in text
    assert "CROSS-PROVIDER DATA TRANSFERS DETECTED" in text


def test_remote_permissions_are_in_the_plan(infra: Infrastructure) -> None:
    (role,) = [r for r in infra.resources if r.kind == "federated_role"]
    assert (role.provider, role.name, dict(role.properties)) == (
        "aws", "spread-clean-aws", {"task": "clean", "created_by": "gcp", "datasets": ["orders"]},
    )  # fmt: skip
    (clean,) = [t for t in infra.stacks["gcp"].tasks if t.task == "clean"]
    assert clean.permissions[-2:] == (
        "federated role on aws (trusts only this task's identity): read orders objects orders.parquet",
        "federated role on aws (trusts only this task's identity): list orders objects orders.parquet",
    )


@pytest.fixture(scope="module")
def runs(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    root: Path = infra.write(tmp_path_factory.mktemp("spread"))
    aws = run_aws(root / "aws")

    class AnyStack(dict):  # type: ignore[type-arg]
        """Answers every stack name with the AWS exports (the name is checked below)."""

        def __missing__(self, key: str) -> dict[str, Any]:
            return aws.exports

    gcp, mocks = run_linked(root / "gcp", AnyStack())
    return aws, gcp, mocks


@pytest.mark.slow
def test_the_gcp_stack_reads_the_aws_stacks_exports_by_reference(
    runs: tuple[Any, Any, Any],
) -> None:
    aws, _, mocks = runs
    assert aws.exports["buckets"]["orders"] == "legacy-orders"
    (reference,) = mocks.references
    assert reference.name == "organization/spread-aws/test"  # <org>/<pipeline>-aws/<same stack>


@pytest.mark.slow
def test_the_task_role_trusts_only_its_google_service_account(runs: tuple[Any, Any, Any]) -> None:
    _, gcp, _ = runs
    (role,) = [r for r in gcp.mocks.resources if r.type == ROLE]
    assert role.name == "spread-clean-aws"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": "accounts.google.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "accounts.google.com:aud": UNIQUE_ID,
                    "accounts.google.com:oaud": "sts.amazonaws.com",
                    "accounts.google.com:sub": UNIQUE_ID,
                }
            },
        }
    ]


@pytest.mark.slow
def test_the_task_role_may_read_exactly_its_dataset(runs: tuple[Any, Any, Any]) -> None:
    _, gcp, _ = runs
    (policy,) = [r for r in gcp.mocks.resources if r.type == "aws:iam/rolePolicy:RolePolicy"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": "arn:aws:s3:::legacy-orders/orders.parquet"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::legacy-orders",
         "Condition": {"StringLike": {"s3:prefix": ["orders.parquet", "orders.parquet/*"]}}},
    ]  # fmt: skip


@pytest.mark.slow
def test_the_task_gets_the_s3_address_and_the_role_to_assume(runs: tuple[Any, Any, Any]) -> None:
    _, gcp, _ = runs
    (fn,) = [
        r for r in gcp.mocks.resources
        if r.type == "gcp:cloudfunctionsv2/function:Function" and r.name == "spread-clean"
    ]  # fmt: skip
    env = fn.inputs["serviceConfig"]["environmentVariables"]
    locations = json.loads(env["GLACIER_LOCATIONS"])
    assert locations["orders"] == "s3://legacy-orders/orders.parquet"
    assert locations["cleaned"].startswith("gs://spread-cleaned-")
    assert env["AWS_ROLE_ARN"] == "arn:aws:iam::123456789012:role/spread-clean-aws-1a2b3c4"
    assert (env["AWS_REGION"], env["GLACIER_WEB_IDENTITY"]) == ("us-east-1", "google")
    others = [r for r in gcp.mocks.resources if r.type == "gcp:cloudfunctionsv2/function:Function"
              and r.name != "spread-clean"]  # fmt: skip
    assert all(
        "AWS_ROLE_ARN" not in r.inputs["serviceConfig"]["environmentVariables"] for r in others
    )


def _handoff_compiler(default: str = "aws") -> MultiCloudCompiler:
    return MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider=default,
    )


def test_only_the_stack_that_runs_first_keeps_the_schedule() -> None:
    import mc_handoff

    infra = mc_handoff.pipeline.compile(_handoff_compiler())
    kinds = {p: {r.kind for r in s.resources} for p, s in infra.stacks.items()}
    assert "eventbridge_rule" in kinds["aws"]  # land runs first, on the schedule
    assert "scheduler_job" not in kinds["gcp"] and "workflow" in kinds["gcp"]
    text = infra.readme()
    assert (
        "1. `cd aws && $(pulumi stack output start_run)`\n2. `cd gcp && $(pulumi stack output start_run)`"
        in text
    )
    assert "Only `aws` keeps the pipeline's schedule" in text


def test_work_going_back_and_forth_between_providers_is_refused() -> None:
    import mc_handoff

    with pytest.raises(
        CompilationError,
        match=r"pipeline 'roundtrip': tasks go back and forth between providers \(land \(aws\) -> "
        r"score \(gcp\); score \(gcp\) -> report \(aws\)\)",
    ):
        mc_handoff.roundtrip.compile(_handoff_compiler())
