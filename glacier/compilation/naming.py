"""Cloud naming rules, checked before any code is generated.

A name that the cloud would reject at deploy time (minutes into ``pulumi up``) is rejected
here instead, with the object that produced it, the rule and a fix. Pulumi auto-names most
resources by appending a dash and seven random characters to the logical name; ``suffix``
accounts for those eight characters so the final name still fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from glacier.errors import CompilationError

#: Characters Pulumi appends when it auto-names a resource ("-" + 7 random characters).
AUTONAME_SUFFIX = 8


@dataclass(frozen=True)
class NameRule:
    """One cloud's rule for one kind of name."""

    what: str
    max_len: int
    pattern: re.Pattern[str]
    description: str
    min_len: int = 1

    def problem(self, name: str, suffix: int = 0) -> str | None:
        """Why ``name`` breaks the rule (None when it is fine)."""
        limit = self.max_len - suffix
        if not self.min_len <= len(name) <= limit:
            room = f" ({suffix} characters are kept for Pulumi's unique suffix)" if suffix else ""
            return f"is {len(name)} characters; {self.what} names must be {self.min_len}-{limit} characters{room}"
        if not self.pattern.fullmatch(name):
            return f"does not match the {self.what} naming rule: {self.description}"
        return None


S3_BUCKET = NameRule(
    "S3 bucket",
    63,
    re.compile(
        r"(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)"
        r"(?!.*(?:-s3alias|--ol-s3|--x-s3|--table-s3)$)[a-z0-9][a-z0-9.-]*[a-z0-9]"
    ),
    "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, "
    "no '..', not an IP address, not starting with 'xn--', 'sthree-' or 'amzn-s3-demo-', "
    "not ending with '-s3alias', '--ol-s3', '--x-s3' or '--table-s3'",
    min_len=3,
)
S3_KEY_PREFIX = NameRule(
    "S3 key prefix",
    512,
    re.compile(r"[A-Za-z0-9!_.*'()/-]*"),
    "letters, digits and !-_.*'()/ only (S3's safe key characters)",
    min_len=0,
)
GCS_BUCKET = NameRule(
    "GCS bucket",
    63,
    re.compile(r"(?!goog)(?!.*g[o0][o0]gle)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9._-]*[a-z0-9]"),
    "lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, "
    "not an IP address, not starting with 'goog' or containing 'google' (dotted names up to "
    "222 characters are not supported)",
    min_len=3,
)
AZURE_CONTAINER = NameRule(
    "Azure Blob container",
    63,
    re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]*[a-z0-9]"),
    "lowercase letters, digits and '-', starting and ending with a letter or digit, no '--'",
    min_len=3,
)
AZURE_STORAGE_ACCOUNT = NameRule(
    "Azure storage account", 24, re.compile(r"[a-z0-9]+"), "lowercase letters and digits", min_len=3
)
OBJECT_KEY_PREFIX = NameRule(
    "object key prefix",
    512,
    re.compile(r"[A-Za-z0-9!_.*'()/-]*"),
    "letters, digits and !-_.*'()/ only (the characters safe in every object store's keys)",
    min_len=0,
)
LAMBDA_FUNCTION = NameRule(
    "Lambda function", 64, re.compile(r"[A-Za-z0-9_-]+"), "letters, digits, '-' and '_'"
)
IAM_ROLE = NameRule(
    "IAM role", 64, re.compile(r"[A-Za-z0-9+=,.@_-]+"), "letters, digits and +=,.@_-"
)
STATE_MACHINE = NameRule(
    "Step Functions state machine",
    80,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '-' and '_'",
)
LOG_GROUP = NameRule(
    "CloudWatch log group", 512, re.compile(r"[A-Za-z0-9_\-/.#]+"), "letters, digits and _-/.#"
)
EVENT_RULE = NameRule(
    "EventBridge rule", 64, re.compile(r"[A-Za-z0-9._-]+"), "letters, digits and ._-"
)
ECS_CLUSTER = NameRule(
    "ECS cluster", 255, re.compile(r"[A-Za-z0-9_-]+"), "letters, digits, '-' and '_'"
)
ECS_FAMILY = NameRule(
    "ECS task definition family", 255, re.compile(r"[A-Za-z0-9_-]+"), "letters, digits, '-' and '_'"
)
ECR_REPOSITORY = NameRule(
    "ECR repository",
    256,
    re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"),
    "lowercase letters and digits, separated by single '.', '_', '-' or '/'",
    min_len=2,
)


def check(rule: NameRule, name: str, owner: str, *, suffix: int = 0, fix: str = "") -> str:
    """``name`` when it satisfies ``rule``, else a CompilationError naming ``owner``."""
    problem = rule.problem(name, suffix)
    if problem is not None:
        msg = f"{owner}: {rule.what} name {name!r} {problem}"
        if fix:
            msg += f"; {fix}"
        raise CompilationError(msg)
    return name


def kebab(*parts: str) -> str:
    """Join name parts with '-' and turn '_' into '-' (S3 and friends dislike '_')."""
    return "-".join(p.replace("_", "-") for p in parts if p)


__all__ = [
    "AUTONAME_SUFFIX",
    "AZURE_CONTAINER",
    "AZURE_STORAGE_ACCOUNT",
    "ECR_REPOSITORY",
    "ECS_CLUSTER",
    "ECS_FAMILY",
    "EVENT_RULE",
    "GCS_BUCKET",
    "IAM_ROLE",
    "LAMBDA_FUNCTION",
    "LOG_GROUP",
    "OBJECT_KEY_PREFIX",
    "S3_BUCKET",
    "S3_KEY_PREFIX",
    "STATE_MACHINE",
    "NameRule",
    "check",
    "kebab",
]
