"""AWS names: the rules AWS holds its names to, and the generated program's variable names.

The rules are checked before any code is generated (see :mod:`glacier.compilation.naming`):
a bucket, function or role name AWS would refuse minutes into ``pulumi up`` is refused at
compile time, naming the object that produced it.
"""

from __future__ import annotations

import keyword
import re

from glacier.compilation.naming import NameRule

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
    re.compile(r"[A-Za-z0-9!_.'()/-]*"),
    "letters, digits and !-_.'()/ only (S3's safe key characters)",
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

#: Every rule above by the kind of name (listed on the provider object).
NAME_RULES = {
    "bucket": S3_BUCKET,
    "key_prefix": S3_KEY_PREFIX,
    "function": LAMBDA_FUNCTION,
    "role": IAM_ROLE,
    "orchestrator": STATE_MACHINE,
    "log_group": LOG_GROUP,
    "schedule": EVENT_RULE,
    "cluster": ECS_CLUSTER,
    "task_family": ECS_FAMILY,
    "image_repository": ECR_REPOSITORY,
}


#: Names the generated program itself uses (modules, shared objects).
RESERVED = frozenset(
    {"pulumi", "aws", "gi", "ctx", "provider", "network", "cluster", "machine", "machine_role",
     "machine_logs", "schedule", "definition", "json", "os", "policies", "gid"}
)  # fmt: skip


class Namer:
    """Hands out Python identifiers, deriving each from a preferred name, never twice."""

    def __init__(self) -> None:
        self._taken: set[str] = set(RESERVED)

    def take(self, preferred: str, suffixes: tuple[str, ...] = ()) -> str:
        """A fresh identifier from ``preferred``; with ``suffixes``, ``name + suffix`` for each
        suffix is free too and reserved (the program derives those variables from it)."""
        base = re.sub(r"\W+", "_", preferred.lower()).strip("_") or "item"
        if base[0].isdigit():
            base = f"n_{base}"
        if keyword.iskeyword(base) or keyword.issoftkeyword(base):
            base = f"{base}_"
        name, n = base, 2
        while any(name + s in self._taken for s in ("", *suffixes)):
            name, n = f"{base}_{n}", n + 1
        self._taken.update(name + s for s in ("", *suffixes))
        return name


__all__ = [
    "ECR_REPOSITORY",
    "ECS_CLUSTER",
    "ECS_FAMILY",
    "EVENT_RULE",
    "IAM_ROLE",
    "LAMBDA_FUNCTION",
    "LOG_GROUP",
    "NAME_RULES",
    "RESERVED",
    "S3_BUCKET",
    "S3_KEY_PREFIX",
    "STATE_MACHINE",
    "Namer",
]
