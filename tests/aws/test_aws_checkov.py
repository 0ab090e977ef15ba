"""An external verdict: checkov's AWS policies over the golden stacks, as a Terraform plan.

The stacks run under Pulumi's mocks (the real SDK); ``terraform_plan`` renders what they
created as the plan Terraform would print (pulumi-aws is bridged from Terraform's provider),
and the pinned checkov (``make tools`` installs it in ``.venv-checkov``) scans it offline.
Every check that fails is one ``docs/decisions/121-checkov-verdict.md`` lists with its reason,
for the default stacks and for stacks compiled with every option that closes one; the checks
the stacks were fixed for pass on every resource.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_compile import compile_ref
from aws_mocks import run_stack
from terraform_plan import terraform_plan, terraform_type

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
PINS = ROOT / "requirements-checkov.txt"
VERDICT = ROOT / "docs" / "decisions" / "121-checkov-verdict.md"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#: The stacks scanned: the golden pipelines, compiled as they are and with every option that
#: closes a check (the stack's own KMS key, Container Insights, a year of logs).
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "options": {"kms_key": KMS_KEY, "container_insights": True, "log_retention_days": 365},
}
PIPELINES = ("aws_orders", "aws_hostile")
#: The checks the stacks were changed to pass: access logs, immutable image tags, read-only
#: containers, stale uploads aborted in the whole bucket. They pass on every resource.
FIXED = ("CKV_AWS_18", "CKV_AWS_51", "CKV_AWS_300", "CKV_AWS_336")


@dataclass
class Verdict:
    """One configuration's result over all pipelines: check id -> resources."""

    config: str
    failed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    passed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    resources: int = 0


def _checkov(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make tools` (it installs checkov)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    return subprocess.run(
        [str(CHECKOV), *args], capture_output=True, text=True, check=False, env=env, timeout=600
    )


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def verdict(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Verdict:
    """checkov's verdict on the golden pipelines compiled with one configuration's options."""
    config: str = request.param
    stacks, plans = tmp_path_factory.mktemp("stacks"), tmp_path_factory.mktemp("plans")
    found = Verdict(config)
    for pipeline in PIPELINES:
        root = compile_ref(pipeline, **CONFIGS[config]).write(stacks / pipeline)
        run = run_stack(root / "aws")
        plan = plans / f"{pipeline}.json"
        plan.write_text(json.dumps(terraform_plan(run), ensure_ascii=False), encoding="utf-8")
        found.resources += sum(1 for r in run.mocks.resources if terraform_type(r.type))
    # --skip-download: no guidelines or policies from the vendor's API; the scan is offline
    done = _checkov(
        "--framework", "terraform_plan", "--output", "json", "--compact", "--skip-download",
        "--file", *(str(plans / f"{pipeline}.json") for pipeline in PIPELINES),
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: some check failed
    report = json.loads(done.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    assert report["summary"]["resource_count"] == found.resources  # none left unparsed
    for check in report["results"]["failed_checks"]:
        found.failed[check["check_id"]].add(check["resource"])
    for check in report["results"]["passed_checks"]:
        found.passed[check["check_id"]].add(check["resource"])
    return found


def _documented() -> dict[str, dict[str, bool]]:
    """check id -> {config: whether the decision record says it fails there}."""
    rows = re.findall(r"^\| (CKV2?_AWS_\d+) \|[^|]*\|([^|]*)\|([^|]*)\|", VERDICT.read_text(), re.M)
    assert rows, f"{VERDICT}: no table of failing checks"
    return {
        check: {"default": d.strip().startswith("fails"), "options": o.strip().startswith("fails")}
        for check, d, o in rows
    }


def test_checkov_is_the_pinned_version() -> None:
    (pin,) = re.findall(r"^checkov==(\S+)$", PINS.read_text(), re.M)
    done = _checkov("--version")
    assert done.stdout.strip() == pin, done.stdout + done.stderr


def test_the_checks_the_stacks_were_fixed_for_pass_on_every_resource(verdict: Verdict) -> None:
    for check in FIXED:
        assert check not in verdict.failed, (check, sorted(verdict.failed[check]))
        assert verdict.passed[check], f"{check} did not run: nothing it checks was rendered"


def test_every_failing_check_is_documented_with_its_reason(verdict: Verdict) -> None:
    documented = {check for check, where in _documented().items() if where[verdict.config]}
    failing = {check for check, resources in verdict.failed.items() if resources}
    assert failing == documented, (
        f"checkov ({verdict.config}) fails {sorted(failing - documented)} that {VERDICT.name} "
        f"does not list, and passes {sorted(documented - failing)} it lists as failing: "
        "update the table"
    )
    if verdict.config == "options":  # S3 delivers access logs only to an SSE-S3 bucket
        assert verdict.failed["CKV_AWS_145"] == {
            "aws_s3_bucket.orders_access_logs",
            "aws_s3_bucket.hostile_access_logs",
        }
