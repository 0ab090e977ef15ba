"""The compile benchmark's 1,000-task pipeline: a stack within IAM's limits, and a plan that
warns about the account's role quota.

Through the public API only (the plan, the resolved resources, the written policy file), so
the same assertions run against any version of the compiler.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from glacier.compilation import Infrastructure
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "compile.py"
PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
INLINE_CHARS = 10_240  # IAM: all of one role's inline policies


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Infrastructure:
    """The compile benchmark's pipeline of 1,000 serverless tasks, compiled."""
    folder = tmp_path_factory.mktemp("bench")
    spec = importlib.util.spec_from_file_location("glacier_compile_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    module = benchmark.write_module(1000, folder)
    return load_pipeline(str(folder / f"{module}.py")).compile(AWSCompiler())


def test_plan_warns_when_the_stack_crowds_the_accounts_role_quota(thousand: Infrastructure) -> None:
    """1,000 tasks take 1,001 IAM roles: an account's whole default quota. The plan says so
    (and a small pipeline's plan does not)."""
    summary = thousand.summary()
    assert "the stack creates 1,001 IAM roles" in summary
    assert "holds 1,000 roles by default" in summary and "Roles per account" in summary
    small = load_pipeline(str(PIPELINES / "aws_orders.py")).compile(AWSCompiler())
    assert "IAM roles" not in small.summary()


def test_thousand_task_stack_fits_every_iam_limit_it_measures(thousand: Infrastructure) -> None:
    """The compile benchmark's 1,000 tasks: no role needs a managed policy (each function's
    own resource policy lets the state machine invoke it), and every role's worst case fits."""
    infra = thousand
    roles = [r for r in infra.resources if r.kind == "iam_role"]
    assert len(roles) == 1001
    assert max(r.properties["policy_chars"] for r in roles) <= INLINE_CHARS
    assert not [r for r in roles if r.properties["managed_policies"]]
    permissions = [r for r in infra.resources if r.kind == "lambda_permission"]
    assert len(permissions) == 1000
    assert {r.properties["principal"] for r in permissions} == {"bench-states"}
    policies = json.loads(infra.stacks["aws"].files["policies.json"])
    actions = {a for s in policies["bench-states"]["inline"]["Statement"] for a in s["Action"]}
    assert not {a for a in actions if a.startswith("lambda:")}
