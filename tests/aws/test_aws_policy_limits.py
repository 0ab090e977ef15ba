"""IAM's size limits: every role's policies measured as deployed and kept within them.

The compiler measures each role's policy documents as IAM counts them (no whitespace) with
every ARN at its longest, and spreads a role too large for its inline policy over managed
policies. These tests check the measurement against the documents a stack really deploys
(under Pulumi's mocks), the split against IAM's limits and the grants it must keep, and the
keeping of every grant. (``test_aws_scale_plan.py`` compiles the 1,000-task benchmark; the
conformance suite checks the limits on generated pipelines of 10 to 1,000 tasks.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_mocks import run_stack

from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler, iam
from glacier_aws.policy import Arn, Statement

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"


def _minified(document: Any) -> int:
    return len(json.dumps(document, separators=(",", ":")))


@pytest.mark.slow
def test_measured_policy_size_is_the_deployed_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the ARN lengths the mocks answer (partition ``aws``, ``us-east-1``, a log group's
    7-character suffix, pinned bucket names as compiled), the compiler's measure of each role equals,
    to the character, the documents the program deploys: so with the longest ARNs it is
    the longest size, not a guess."""
    monkeypatch.setattr(iam, "_PARTITION", "aws")
    monkeypatch.setattr(iam, "_REGION", "us-east-1")
    monkeypatch.setattr(iam, "_PREFIX_SUFFIX", len("1a2b3c4"))
    monkeypatch.setattr(iam, "_pinned", len)  # the bucket names as compiled (no stack config)
    infra = load_pipeline(str(PIPELINES / "aws_orders.py")).compile(AWSCompiler())
    run = run_stack(infra.write(tmp_path) / "aws")
    measured = {
        r.name: r.properties["policy_chars"] for r in infra.resources if r.kind == "iam_role"
    }
    assert len(measured) == 5  # two functions, a container's two roles, the state machine
    for role, chars in measured.items():
        deployed = _minified(run.policy(role))
        assert deployed == chars, role


def test_large_role_is_split_into_managed_policies_with_the_same_grants() -> None:
    """A statement too large for the inline policy is split by its resources (or its
    ``s3:prefix`` values) across managed policies, each within 6,144 characters; together
    they grant exactly what the one statement did."""
    objects = tuple(
        Arn("objects", "work_bucket", f"runs/*/part_{i:04d}.parquet") for i in range(300)
    )
    prefixes = [p for i in range(300) for p in (f"runs/*/p{i}.parquet", f"runs/*/p{i}.parquet/*")]
    listing = {"StringLike": {"s3:prefix": prefixes}}
    statements = [
        Statement("ReadInputs", ("s3:GetObject",), objects),
        Statement("ListReadInputs", ("s3:ListBucket",), (Arn("bucket", "work_bucket"),), listing),
    ]
    longest = {"work_bucket.arn": len("arn:aws-us-gov:s3:::") + 63}
    fitted = iam.fit_role("p-gather", statements, longest, "task 'gather'", "split it")
    assert 1 <= len(fitted.managed) <= iam.MANAGED_PER_ROLE
    sizes = [iam._size(iam._document(fitted.inline), longest)]
    sizes += [iam._size(iam._document(chunk), longest) for chunk in fitted.managed]
    assert sizes[0] <= iam.INLINE_CHARS and max(sizes[1:]) <= iam.MANAGED_CHARS
    assert sum(sizes) == fitted.chars
    parts = list(fitted.statements())
    sids = [s.sid for s in parts]
    assert sids[0] == "ReadInputs" and "ReadInputsPart2" in sids and "ListReadInputsPart2" in sids
    assert [r for s in parts if s.actions == ("s3:GetObject",) for r in s.resources] == list(
        objects
    )
    granted = [
        p
        for s in parts
        if s.condition
        for p in s.condition["StringLike"]["s3:prefix"]  # type: ignore[union-attr]
    ]
    assert granted == prefixes


def test_a_role_larger_than_iam_allows_is_refused_naming_the_task() -> None:
    objects = tuple(Arn("objects", "b", f"runs/*/dataset_{i:05d}.parquet") for i in range(2_000))
    longest = {"b.arn": len("arn:aws-us-gov:s3:::") + 63}
    with pytest.raises(CompilationError) as caught:
        iam.fit_role("p-t", [Statement("ReadInputs", ("s3:GetObject",), objects)], longest,
                     "task 't'", "split it")  # fmt: skip
    message = str(caught.value)
    assert message.startswith("task 't': its IAM role 'p-t' needs about ")
    assert "71,680" in message and message.endswith("split it") and "\n" not in message


@pytest.mark.slow
def test_a_stale_policy_file_fails_the_deploy(tmp_path: Path) -> None:
    """policies.json and __main__.py are written together; a role whose documents and values
    disagree stops the deploy naming the role, before any permission is granted."""
    infra = load_pipeline(str(PIPELINES / "aws_orders.py")).compile(AWSCompiler())
    stack = infra.write(tmp_path) / "aws"
    path = stack / "policies.json"
    policies = json.loads(path.read_text(encoding="utf-8"))
    statement = policies["orders-validate"]["inline"]["Statement"][0]
    statement["Resource"] = ["${gone_bucket.arn}/incoming/orders.parquet"]
    path.write_text(json.dumps(policies), encoding="utf-8")
    with pytest.raises(
        ValueError,
        match=r"role 'orders-validate': placeholders without a value \['gone_bucket.arn'\], "
        r"values without a placeholder \[\]; compile the pipeline again",
    ):
        run_stack(stack)
