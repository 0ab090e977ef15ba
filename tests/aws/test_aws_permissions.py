"""The task roles the stack grants are enough for the runtime, and no more, under moto's IAM.

The shop pipeline's stack runs under Pulumi's mocks; each task role's recorded policy (with
the bucket names the mocks resolved) becomes an IAM user's policy in a moto server that
enforces IAM, and every task then runs through the real handler with that user's keys and
the ``GLACIER_LOCATIONS`` its function or container is given. So a missing action (Polars'
reads, multipart writes, the read-back that counts written rows) fails the run, and a role
cannot touch another task's data.

moto evaluates actions and resources but not the ``s3:prefix`` condition keys, so the
ListBucket statements are tested without their conditions (``test_aws_program`` pins those).
"""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_compile import compile_ref
from aws_mocks import Run, run_stack
from moto.core.authorization import enable_iam_authentication
from moto.server import ThreadedMotoServer

from glacier.errors import InputError
from glacier.loader import load_pipeline
from glacier_aws import runtime

pytestmark = pytest.mark.slow

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
RUN_ID = "perm-run"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def shop_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_ref("runtime_shop").write(tmp_path_factory.mktemp("shop")) / "aws"


def _task_environments(run: Run) -> dict[str, dict[str, str]]:
    """Each task's environment, from its Lambda function or its container definition."""
    found: dict[str, dict[str, str]] = {}
    for fn in run.of("aws:lambda/function:Function"):
        env = fn.inputs["environment"]["variables"]
        found[env["GLACIER_TASK"]] = env
    for definition in run.of("aws:ecs/taskDefinition:TaskDefinition"):
        (container,) = json.loads(definition.inputs["containerDefinitions"])
        env = {e["name"]: e["value"] for e in container["environment"]}
        found[env["GLACIER_TASK"]] = env
    return found


def _s3_statements(run: Run, role: str) -> list[dict[str, Any]]:
    """The role's S3 statements, without the s3:prefix conditions moto cannot evaluate."""
    kept = []
    for statement in run.policy(role)["Statement"]:
        if all(a.startswith("s3:") for a in statement["Action"]):
            kept.append({k: v for k, v in statement.items() if k != "Condition"})
    return kept


def _user_keys(iam: Any, name: str, statements: list[dict[str, Any]]) -> dict[str, str]:
    iam.create_user(UserName=name)
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    iam.put_user_policy(UserName=name, PolicyName="task", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


def _deploy(run: Run, endpoint: str, envs: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Buckets and sources as the stack names them; one IAM user per task role: its keys."""
    shop = load_pipeline(str(PIPELINES / "runtime_shop.py"))
    module = sys.modules[shop.module]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **ADMIN)
    for bucket in run.exports["buckets"].values():
        s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=run.exports["work_bucket"])
    sources = json.loads(envs["enrich"]["GLACIER_LOCATIONS"])
    for name, frame in (
        ("orders", module.sample_orders()),
        ("customers", module.sample_customers()),
    ):
        buffer = io.BytesIO()
        frame.write_csv(buffer) if name == "customers" else frame.write_parquet(buffer)
        bucket, key = sources[name].removeprefix("s3://").split("/", 1)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **ADMIN)
    return {
        task: _user_keys(iam, f"perm-{task}", _s3_statements(run, f"shop-{task.replace('_', '-')}"))
        for task in envs
    }


def _run_as(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, env: dict[str, str], keys: dict[str, str]
) -> dict[str, Any]:
    options = {"aws_endpoint_url": endpoint, "aws_region": "us-east-1", "aws_allow_http": "true"}
    monkeypatch.setenv("GLACIER_STORAGE_OPTIONS", json.dumps({**options, **keys}))
    monkeypatch.setenv("GLACIER_TASK", env["GLACIER_TASK"])
    monkeypatch.setenv("GLACIER_LOCATIONS", env["GLACIER_LOCATIONS"])
    return runtime.handler({"run_id": RUN_ID}, None)


def test_each_task_runs_with_exactly_its_roles_s3_permissions(
    shop_stack: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = run_stack(shop_stack)
    envs = _task_environments(run)
    assert sorted(envs) == ["by_country", "enrich", "split", "summarize"]
    keys = _deploy(run, endpoint, envs)
    monkeypatch.setenv("GLACIER_BUNDLE_ROOT", str(shop_stack / "app"))  # the stack's bundle
    monkeypatch.setenv("GLACIER_MANIFEST", "manifest.json")
    order = [t.name for t in load_pipeline(str(PIPELINES / "runtime_shop.py")).spec().tasks]
    with enable_iam_authentication():
        with pytest.raises(InputError, match=r"cannot read input dataset 'big'.*403 Forbidd"):
            _run_as(monkeypatch, endpoint, envs["summarize"], keys["enrich"])
        reports = [_run_as(monkeypatch, endpoint, envs[t], keys[t]) for t in order]
    assert [r["status"] for r in reports] == ["succeeded"] * 4
    assert reports[-1]["rows"] == 3
