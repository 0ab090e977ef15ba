"""What an AWS stack costs to keep and how it runs: old versions, images, timeouts, metrics,
exit codes, trust policies, the container image, encryption with the stack's own key."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from aws_compile import compile_ref
from aws_mocks import ACCOUNT, Run, run_stack

from glacier.compilation import Infrastructure
from glacier.errors import CompilationError, SchemaError
from glacier.runtime.locations import InvalidRunIdError
from glacier_aws import runtime
from glacier_aws.fargate_states import EXIT_NOT_RETRYABLE, EXIT_RETRYABLE

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def _rules(run: Run, bucket: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in run.one(LIFECYCLE, bucket).inputs["rules"]}


def _container(run: Run, name: str) -> dict[str, Any]:
    definition = run.one("aws:ecs/taskDefinition:TaskDefinition", name).inputs
    (container,) = json.loads(definition["containerDefinitions"])
    return {**container, "volumes": definition["volumes"], "family": definition["family"]}


def _trust(run: Run, role: str) -> dict[str, Any]:
    (statement,) = json.loads(run.one("aws:iam/role:Role", role).inputs["assumeRolePolicy"])[
        "Statement"
    ]
    return statement


@pytest.fixture(scope="module")
def boxes_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_stack(compile_ref("aws_containers").write(tmp_path_factory.mktemp("boxes")) / "aws")


# -- old versions, stale uploads ---------------------------------------------------------------


@pytest.mark.slow
def test_versioned_buckets_expire_old_versions_and_delete_markers(orders_run: Run) -> None:
    for bucket in ("orders-by-customer", "orders-customers", "orders-report"):
        rule = _rules(orders_run, bucket)["expire-noncurrent-versions"]
        assert rule["filter"] == {"prefix": ""} and rule["status"] == "Enabled"
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
        assert rule["expiration"] == {"expiredObjectDeleteMarker": True}


@pytest.mark.slow
def test_every_bucket_aborts_stale_uploads_everywhere(orders_run: Run) -> None:
    for r in orders_run.of(LIFECYCLE):
        abort = _rules(orders_run, r.name)["abort-incomplete-uploads"]
        assert abort["filter"] == {"prefix": ""}, r.name  # the whole bucket, not only runs/
        assert abort["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1


def test_noncurrent_version_days_is_a_compiler_option() -> None:
    def rules(**options: Any) -> dict[str, list[str]]:
        infra = compile_ref("aws_orders", **options)
        return {
            r.name: r.properties["lifecycle_rules"]
            for r in infra.resources
            if r.kind == "s3_bucket"
        }

    assert "expire-noncurrent-versions" in rules()["orders-customers"]
    assert (
        "expire-noncurrent-versions" not in rules(noncurrent_version_days=None)["orders-customers"]
    )
    main = compile_ref("aws_orders", noncurrent_version_days=90).stacks["aws"].files["__main__.py"]
    assert main.count("'noncurrent_version_expiration': {'noncurrent_days': 90}") == 4
    # the intermediate and access-log buckets are not versioned: nothing to expire there
    assert "expire-noncurrent-versions" not in rules()["orders-work"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"noncurrent_version_days": 0}, r"noncurrent_version_days must be an int >= 1 .* found 0"),
        ({"access_logs": "yes"}, r"access_logs must be True or False, found 'yes'"),
        ({"container_insights": 1}, r"container_insights must be True or False, found 1"),
        ({"kms_key": "alias/glacier"}, r"kms_key must be a KMS key ARN .*found 'alias/glacier'"),
        ({"kms_key": KMS_KEY.replace("us-east-1", "eu-west-1")}, r"is in eu-west-1, but the stack"),
        ({"base_image": "python:3.12-slim"}, r"base_image must name an image by digest"),
    ],
)
def test_operations_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(CompilationError, match=message):
        compile_ref("aws_orders", **options)


# -- Fargate: timeouts, exit codes, images -----------------------------------------------------


def _task_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state, those in Parallel branches included, by name."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(_task_states(branch))
    return found


def test_fargate_tasks_time_out_by_default() -> None:
    definition = compile_ref("aws_containers").stacks["aws"].files["state_machine.json"]
    states = _task_states(json.loads(definition))
    assert states["scrub"].get("TimeoutSeconds") == 8 * 3600  # declared nothing: the default
    assert states["total"].get("TimeoutSeconds") == 600  # @task(timeout=600)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SchemaError("dataset 'x' column 'a': expected Int64, found String"), EXIT_NOT_RETRYABLE),
        (pl.exceptions.ColumnNotFoundError("amount"), EXIT_NOT_RETRYABLE),
        (runtime.ConfigurationError("GLACIER_LOCATIONS is not set"), EXIT_NOT_RETRYABLE),
        (InvalidRunIdError("run id '../x' is invalid"), EXIT_NOT_RETRYABLE),
        (runtime.SecretError("cannot fetch secret: ThrottlingException"), EXIT_RETRYABLE),
        (ConnectionResetError("S3 closed the connection"), EXIT_RETRYABLE),
        (RuntimeError("something else"), EXIT_RETRYABLE),
    ],
)
def test_the_container_exit_code_says_whether_to_retry(error: Exception, code: int) -> None:
    # the same classification as a Lambda task's state and the local executor
    assert runtime.exit_code(error) == code


@pytest.mark.slow
def test_ecr_keeps_recent_images_under_immutable_content_tags(orders_run: Run) -> None:
    repository = orders_run.one("aws:ecr/repository:Repository", "orders-x86-64").inputs
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    policy = json.loads(
        orders_run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "orders-x86-64").inputs["policy"]
    )
    untagged, old = policy["rules"]
    assert untagged["selection"]["tagStatus"] == "untagged" and untagged["action"] == {
        "type": "expire"
    }
    assert old["selection"] == {
        "tagStatus": "tagged",
        "tagPrefixList": ["bundle-"],
        "countType": "imageCountMoreThan",
        "countNumber": 10,
    }
    (tag,) = orders_run.one("docker-build:index:Image", "orders-x86-64").inputs["tags"]
    assert re.fullmatch(r".*/orders-x86-64:bundle-[0-9a-f]{32}", tag)  # not :latest


@pytest.mark.slow
def test_containers_run_read_only_with_a_writable_tmp(orders_run: Run) -> None:
    container = _container(orders_run, "orders-publish")
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
    ]
    assert container["volumes"] == [{"name": "tmp"}]


def test_the_image_is_pinned_by_digest_and_runs_as_a_user() -> None:
    dockerfile = compile_ref("aws_orders").stacks["aws"].files["app/Dockerfile"]
    (base,) = re.findall(r"^FROM (\S+)$", dockerfile, re.MULTILINE)
    assert re.fullmatch(
        r"public\.ecr\.aws/docker/library/python:3\.12-slim@sha256:[0-9a-f]{64}", base
    )
    assert f"boto3=={metadata.version('boto3')}" in dockerfile
    (user,) = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert user == "10001:10001"
    pinned = "registry.example.com/python@sha256:" + "a" * 64
    own = compile_ref("aws_orders", base_image=pinned).stacks["aws"].files["app/Dockerfile"]
    assert f"FROM {pinned}\n" in own


@pytest.mark.slow
def test_task_definition_families_differ_between_stacks(
    orders_infra: Infrastructure, tmp_path: Path
) -> None:
    root = orders_infra.write(tmp_path) / "aws"
    families = {
        stack: _container(run_stack(root, stack=stack), "orders-publish")["family"]
        for stack in ("dev", "prod")
    }
    assert families["dev"] != families["prod"]
    assert all(re.fullmatch(r"orders-publish-[0-9a-f]{8}", f) for f in families.values())


# -- Container Insights and the cost estimate --------------------------------------------------


@pytest.mark.slow
def test_container_insights_is_off_unless_asked_for(orders_run: Run, tmp_path: Path) -> None:
    (cluster,) = orders_run.of("aws:ecs/cluster:Cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    on = compile_ref("aws_orders", container_insights=True).write(tmp_path)
    (cluster,) = run_stack(on / "aws").of("aws:ecs/cluster:Cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_the_estimate_counts_what_the_stack_keeps_and_insights() -> None:
    def estimate(**options: Any) -> tuple[float, str]:
        stack = compile_ref("aws_containers", **options).stacks["aws"]
        return stack.monthly_cost_usd, stack.cost_assumptions

    default, why = estimate()
    # hourly runs; each overwrites 'clean' (versions kept 7 days: its retention) and 'summary'
    # (not versioned): 720 runs * 7 days / 30 = 168 GB of old versions
    assert "168 GB of old versions kept" in why and "10 images of 0.5 GB" in why
    shorter, _ = estimate(noncurrent_version_days=1)  # 24 old versions
    assert shorter < default
    insights, why = estimate(container_insights=True)
    assert insights > default and "Container Insights" in why


# -- trust policies ----------------------------------------------------------------------------


@pytest.mark.slow
def test_service_roles_trust_only_this_accounts_resources(orders_run: Run) -> None:
    account = {"aws:SourceAccount": ACCOUNT}
    machines = _trust(orders_run, "orders-states")
    assert machines["Principal"] == {"Service": "states.amazonaws.com"}
    assert machines["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:*"},
        "StringEquals": account,
    }
    task = _trust(orders_run, "orders-publish")
    assert task["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:*"},
        "StringEquals": account,
    }
    schedule = _trust(orders_run, "orders-schedule")
    rule = orders_run.mocks.created[("aws:cloudwatch/eventRule:EventRule", "orders")][1]["arn"]
    assert schedule["Condition"] == {"ArnLike": {"aws:SourceArn": rule}, "StringEquals": account}
    # Lambda and the ECS task execution role document no source: a condition would lock them
    for role in ("orders-validate", "orders-enrich", "orders-publish-exec"):
        assert "Condition" not in _trust(orders_run, role), role


# -- the stack's own KMS key -------------------------------------------------------------------


@pytest.mark.slow
def test_a_kms_key_encrypts_buckets_logs_functions_and_images(tmp_path: Path) -> None:
    run = run_stack(compile_ref("aws_orders", kms_key=KMS_KEY).write(tmp_path) / "aws")
    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    for r in run.of(sse):
        (rule,) = r.inputs["rules"]
        if r.name == "orders-access-logs":  # S3 delivers access logs only to SSE-S3 buckets
            assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
            continue
        assert rule == {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": KMS_KEY,
            },
            "bucketKeyEnabled": True,
        }, r.name
    assert all(g.inputs["kmsKeyId"] == KMS_KEY for g in run.of("aws:cloudwatch/logGroup:LogGroup"))
    assert all(f.inputs["kmsKeyArn"] == KMS_KEY for f in run.of("aws:lambda/function:Function"))
    repository = run.one("aws:ecr/repository:Repository", "orders-x86-64").inputs
    assert repository["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KMS_KEY}]
    for role in ("orders-validate", "orders-enrich", "orders-publish"):
        found = {s["Sid"]: s for s in run.policy(role)["Statement"]}
        assert found["UseStackKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert found["UseStackKey"]["Resource"] == [KMS_KEY]


@pytest.mark.slow
def test_without_a_kms_key_aws_manages_the_keys(orders_run: Run) -> None:
    assert not any(
        "kmsKeyId" in g.inputs for g in orders_run.of("aws:cloudwatch/logGroup:LogGroup")
    )
    assert not any("kmsKeyArn" in f.inputs for f in orders_run.of("aws:lambda/function:Function"))
    for role in ("orders-validate", "orders-publish"):
        assert "UseStackKey" not in {s["Sid"] for s in orders_run.policy(role)["Statement"]}


@pytest.mark.slow
@pytest.mark.parametrize("buckets", [3, 201])
def test_the_access_log_policy_fits_whatever_the_number_of_buckets(
    tmp_path: Path, buckets: int
) -> None:
    """A bucket policy holds at most 20 KB: up to 200 source buckets are named, beyond that
    any bucket of the account may deliver (aws:SourceAccount)."""
    helpers = Path(__file__).resolve().parents[2] / "glacier_aws" / "stack"
    (tmp_path / "glacier_infra.py").write_text((helpers / "infra.py").read_text())
    (tmp_path / "__main__.py").write_text(
        "import glacier_infra as gi\n"
        "ctx = gi.context('p', default_region='us-east-1')\n"
        "logs = gi.access_log_bucket(ctx, 'p-access-logs', lifecycle_rules=[])\n"
        f"sources = {{f'p-b{{i}}': gi.secure_bucket(ctx, f'p-b{{i}}') for i in range({buckets})}}\n"
        "gi.deliver_access_logs(ctx, 'p-access-logs', logs, sources)\n"
    )
    run = run_stack(tmp_path)
    text = run.one("aws:s3/bucketPolicy:BucketPolicy", "p-access-logs").inputs["policy"]
    assert len(text) < 20 * 1024
    sources = json.loads(text)["Statement"][1]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sources == (
        "arn:aws:s3:::*"
        if buckets > 200
        else [
            f"arn:aws:s3:::p-b{i}-1a2b3c4" for i in sorted(range(buckets), key=lambda i: f"p-b{i}")
        ]
    )
    assert len(run.of("aws:s3/bucketLogging:BucketLogging")) == buckets
