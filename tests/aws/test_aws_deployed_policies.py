"""The IAM policies a stack deploys: no resource named twice, every role within IAM's limits.

The state machine role once listed every function ARN twice (plain, and ``:*`` for versions
and aliases the definition never invokes), and a task taking one dataset in two parameters
listed its object twice; 80 tasks, a task reading 30 stored datasets or one with 40 stored
inputs exceeded IAM's 10,240 characters inline. Measured on the recorded resources of stacks
run under the mocks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_mocks import Run, run_stack

from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

pytestmark = pytest.mark.slow

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
TWICE = """\
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

a = Dataset("a", storage=ObjectStorage())
b = Dataset("b", storage=ObjectStorage())
pipeline = Pipeline(name="twice")


@pipeline.task()
def both(x: a, y: a) -> b:
    return x
"""


def _documents(run: Run) -> dict[str, list[dict[str, Any]]]:
    """Every policy document the stack creates, by the resource that holds it."""
    types = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
    return {
        f"{r.type} {r.name}": json.loads(r.inputs["policy"])["Statement"]
        for t in types
        for r in run.of(t)
    }


def _duplicates(statements: list[dict[str, Any]]) -> list[str]:
    """Each (action, resource) granted more than once, and each ``arn`` granted beside
    ``arn:*`` for the same action (the second covers only what is never invoked)."""
    seen: set[tuple[str, str]] = set()
    found = []
    for s in statements:
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        for action in actions:
            for resource in resources:
                if (action, resource) in seen:
                    found.append(f"{action} on {resource} twice")
                seen.add((action, resource))
    for action, resource in seen:
        if (
            resource.endswith(":*")
            and (action, resource[:-2]) in seen
            and ":log-group:" not in resource
        ):
            found.append(f"{action} on {resource[:-2]} and {resource}")
    return found


@pytest.mark.parametrize("ref", ["aws_orders", "twice"])
def test_no_policy_grants_a_resource_twice(ref: str, tmp_path: Path) -> None:
    if ref == "twice":
        (tmp_path / "twice.py").write_text(TWICE, encoding="utf-8")
        path = tmp_path / "twice.py"
    else:
        path = PIPELINES / f"{ref}.py"
    infra = load_pipeline(str(path)).compile(AWSCompiler())
    run = run_stack(infra.write(tmp_path / "out") / "aws")
    found = {name: _duplicates(s) for name, s in _documents(run).items()}
    assert not {name: d for name, d in found.items() if d}


def _benchmark_module(n: int, folder: Path) -> Path:
    """The compile benchmark's ``n``-task pipeline, written into ``folder``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "glacier_compile_benchmark",
        Path(__file__).resolve().parents[2] / "benchmarks" / "compile.py",
    )
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return folder / f"{benchmark.write_module(n, folder)}.py"


@pytest.mark.parametrize(
    "case", ["80-tasks", "conformance_wide_reads", "conformance_wide_container"]
)
def test_every_role_fits_iams_policy_limits_as_deployed(case: str, tmp_path: Path) -> None:
    """The shapes that once exceeded IAM's 10,240 characters inline (80 tasks; a serverless
    task reading 30 stored datasets; a container task with 40 stored inputs), measured on
    the documents deployed under the mocks (the conformance suite measures them with every
    ARN at its longest): each role's inline policies, each managed policy, their number."""
    path = _benchmark_module(80, tmp_path) if case == "80-tasks" else PIPELINES / f"{case}.py"
    infra = load_pipeline(str(path)).compile(AWSCompiler())
    run = run_stack(infra.write(tmp_path / "out") / "aws")
    sizes: dict[str, int] = {}
    for policy in run.of("aws:iam/rolePolicy:RolePolicy"):
        minified = len(json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":")))
        sizes[policy.name] = sizes.get(policy.name, 0) + minified
    assert sizes and max(sizes.values()) <= 10_240, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    for policy in run.of("aws:iam/policy:Policy"):
        assert len(json.dumps(json.loads(policy.inputs["policy"]), separators=(",", ":"))) <= 6_144
    attached: dict[str, int] = {}
    for attachment in run.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        attached[attachment.inputs["role"]] = attached.get(attachment.inputs["role"], 0) + 1
    assert max(attached.values(), default=0) <= 10
    assert len(run.of("aws:iam/role:Role")) == len(sizes)  # every role has its inline policy
