"""The stack's README.md: a user can follow it from nothing to a run and back to nothing.

Its claims are checked against the program they describe (the config keys it reads, the
outputs its commands use, what a teardown deletes), and its commands are run in a shell with
``pulumi`` and ``aws`` stand-ins answering from the stack's outputs under Pulumi's mocks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi.config
import pytest
from aws_compile import compile_ref
from aws_mocks import Run, run_stack

from glacier.compilation import Infrastructure

#: ``pulumi`` and ``aws`` stand-ins: each logs its arguments; ``pulumi stack output`` answers
#: from the exports of a run under mocks, ``start-execution`` with an execution ARN.
FAKE = """\
import json, os, sys
with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
args = sys.argv[1:]
if os.path.basename(sys.argv[0]) == "pulumi" and args[:2] == ["stack", "output"]:
    with open(os.environ["FAKE_EXPORTS"], encoding="utf-8") as fh:
        value = json.load(fh)[args[2]]
    print(json.dumps(value) if "--json" in args else value)
elif "start-execution" in args:
    print(os.environ["FAKE_EXECUTION"])
"""
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:readme-1a2b3c4:run-1"


def _readme(infra: Infrastructure) -> str:
    return infra.stacks["aws"].files["README.md"]


def _commands(readme: str) -> str:
    """Every shell block of the README, in order, as one script."""
    return "\n".join(re.findall(r"^```sh\n(.*?)^```$", readme, flags=re.S | re.M))


def _follow(readme: str, run: Run, tmp_path: Path) -> list[list[str]]:
    """Run the README's commands with the stand-ins; the commands they ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("pulumi", "aws"):
        (bin_dir / name).write_text(f"#!{sys.executable}\n{FAKE}")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    (tmp_path / "exports.json").write_text(json.dumps(run.exports))
    log = tmp_path / "log.jsonl"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "FAKE_EXPORTS": str(tmp_path / "exports.json"),
        "FAKE_EXECUTION": EXECUTION,
    }
    script = "set -euo pipefail\n" + _commands(readme)
    done = subprocess.run(
        ["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def _task_locations(run: Run) -> dict[str, str]:
    """Dataset -> ``s3://`` URI, as the deployed tasks read and write them."""
    found: dict[str, str] = {}
    for definition in run.of("aws:ecs/taskDefinition:TaskDefinition"):
        for item in json.loads(definition.inputs["containerDefinitions"])[0]["environment"]:
            if item["name"] == "GLACIER_LOCATIONS":
                found.update(json.loads(item["value"]))
    for function in run.of("aws:lambda/function:Function"):
        found.update(json.loads(function.inputs["environment"]["variables"]["GLACIER_LOCATIONS"]))
    return found


@pytest.mark.slow
def test_following_the_readme_uploads_each_source_where_its_task_reads_it(
    tmp_path: Path,
) -> None:
    infra = compile_ref("aws_readme")
    run = run_stack(infra.write(tmp_path / "infra") / "aws", {"aws:region": "eu-west-1"})
    aws = [c[1:] for c in _follow(_readme(infra), run, tmp_path) if c[0] == "aws"]
    at = _task_locations(run)
    group = run.exports["log_groups"]["join"]
    assert aws == [
        ["secretsmanager", "create-secret", "--region", "us-east-1", "--name", "readme/token",
         "--secret-string", "file://value.txt"],
        ["s3api", "head-bucket", "--bucket", "acme-readme-rates"],
        ["s3", "cp", "./events.parquet", at["events"]],
        ["s3", "sync", "./history.delta/", at["history"] + "/"],
        ["s3", "cp", "./rates.parquet", at["rates"]],
        ["stepfunctions", "start-execution", "--region", "eu-west-1", "--state-machine-arn",
         run.exports["state_machine_arn"], "--query", "executionArn", "--output", "text"],
        ["stepfunctions", "describe-execution", "--region", "eu-west-1", "--execution-arn",
         EXECUTION, "--query", "{status: status, error: error, cause: cause}"],
        ["logs", "tail", "--follow", "--region", "eu-west-1", group],
    ]  # fmt: skip
    assert at["events"] == "s3://acme-readme-events/drop(1)/it's!/events.parquet"
    assert group.startswith("/glacier/readme-join-")


def test_the_readme_lists_every_prerequisite() -> None:
    readme = _readme(compile_ref("aws_orders"))
    for name in ("orders/api-key", "orders/token"):
        create = (
            f"aws secretsmanager create-secret --region us-east-1 --name {name} --secret-string"
        )
        assert create in readme
    assert "Docker, running: `pulumi up` builds the container image" in readme
    assert "`linux/amd64`" in readme
    assert "`pulumi up` runs pip to build the Lambda bundle" in readme
    assert "Network access to PyPI" in readme
    assert "Buckets the stack creates start empty" in readme
    assert (
        'aws s3 cp ./orders.parquet "s3://$(output buckets orders)/incoming/orders.parquet"'
        in readme
    )
    assert "EventBridge starts a run on `cron(0 2 * * ? *)` (UTC)" in readme
    lambda_only = _readme(compile_ref("aws_hostile"))
    assert "Docker" not in lambda_only and "secretsmanager" not in lambda_only
    container_only = _readme(compile_ref("aws_readme"))
    assert "runs pip" not in container_only and "Docker, running" in container_only


@pytest.mark.slow
def test_the_readme_documents_exactly_the_config_keys_the_program_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: set[str] = set()
    real = pulumi.config.get_config

    def recording(key: str) -> Any:
        read.add(key)
        return real(key)

    monkeypatch.setattr(pulumi.config, "get_config", recording)
    infra = compile_ref("aws_orders")
    run_stack(infra.write(tmp_path) / "aws")
    documented = set(re.findall(r"^\| `([a-z]+:[A-Za-z]+)` \|", _readme(infra), flags=re.M))
    assert read == documented
    assert {"aws:region", "glacier:subnetIds", "glacier:bucketNames"} <= read


@pytest.mark.slow
def test_the_readme_teardown_is_what_the_program_does(orders_run: Run) -> None:
    readme = _readme(compile_ref("aws_orders"))
    options = orders_run.mocks.options
    assert "No resource is protected or retained" in readme
    assert not [k for k, o in options.items() if o["protect"] or o["retain_on_delete"]]
    assert "no bucket is emptied for you" in readme
    buckets = orders_run.of("aws:s3/bucket:Bucket")
    assert buckets and not [b.name for b in buckets if b.inputs.get("forceDestroy")]
    assert "the ECR repository with its images" in readme
    assert all(r.inputs["forceDelete"] for r in orders_run.of("aws:ecr/repository:Repository"))
    rules = orders_run.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "orders-work"
    ).inputs["rules"]
    days = next(int(r["expiration"]["days"]) for r in rules if "expiration" in r)
    assert f"intermediate data expires {days} days" in readme
    assert "A teardown keeps what the stack never created: the secrets," in readme


def test_the_top_level_readme_points_to_the_stack_readme() -> None:
    infra = compile_ref("aws_orders")
    assert "Read [`aws/README.md`](aws/README.md) first" in infra.readme()
    assert _readme(infra) == _readme(compile_ref("aws_orders"))  # same model, same bytes
