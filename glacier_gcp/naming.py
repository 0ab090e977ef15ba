"""The rules Google Cloud holds its names to, checked before any code is generated.

A bucket, service account or function name Google Cloud would refuse minutes into ``pulumi
up`` is refused at compile time instead, naming the object that produced it (see
:mod:`glacier.compilation.naming`). Service account ids are the tight one (6-30 characters);
:func:`account_id` derives them from the pipeline and task names, shortened with a hash of
the full name when they would not fit, so they stay unique and stable.
"""

from __future__ import annotations

import hashlib
import re

from glacier.compilation.naming import OBJECT_KEY_PREFIX, NameRule

GCS_BUCKET = NameRule(
    "GCS bucket",
    63,
    re.compile(r"(?!goog)(?!.*g[o0][o0]gle)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9._-]*[a-z0-9]"),
    "lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit, "
    "not an IP address, not starting with 'goog' or containing 'google' (dotted names up to "
    "222 characters are not supported)",
    min_len=3,
)
SERVICE_ACCOUNT = NameRule(
    "service account id",
    30,
    re.compile(r"[a-z][-a-z0-9]*[a-z0-9]"),
    "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
    min_len=6,
)
#: A 2nd gen function is a Cloud Run service of the same name: Cloud Run's 49 characters.
FUNCTION = NameRule(
    "Cloud Functions (2nd gen) function",
    49,
    re.compile(r"[a-z][-a-z0-9]*[a-z0-9]"),
    "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
)
RUN_JOB = NameRule(
    "Cloud Run job",
    49,
    re.compile(r"[a-z][-a-z0-9]*[a-z0-9]"),
    "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
)
WORKFLOW = NameRule(
    "Workflows workflow",
    64,
    re.compile(r"[A-Za-z][A-Za-z0-9_-]*"),
    "letters, digits, '-' and '_', starting with a letter",
)
REPOSITORY = NameRule(
    "Artifact Registry repository",
    63,
    re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?"),
    "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
)
SECRET = NameRule(
    "Secret Manager secret", 255, re.compile(r"[A-Za-z0-9_-]+"), "letters, digits, '-' and '_'"
)

#: Every rule by the kind of name (listed on the provider object).
NAME_RULES = {
    "bucket": GCS_BUCKET,
    "key_prefix": OBJECT_KEY_PREFIX,
    "service_account": SERVICE_ACCOUNT,
    "function": FUNCTION,
    "job": RUN_JOB,
    "orchestrator": WORKFLOW,
    "image_repository": REPOSITORY,
    "secret": SECRET,
}

#: Names the generated program itself uses (modules, shared objects).
RESERVED = frozenset(
    {"pulumi", "gcp", "gi", "gc", "glacier_bundle", "ctx", "apis", "source", "image", "workflow",
     "workflow_sa", "scheduler", "scheduler_sa", "repository", "json", "os", "xc", "aws_peer",
     "relay"}
)  # fmt: skip

_HASH = 6


def account_id(*parts: str) -> str:
    """A service account id for ``parts`` (``pipeline``, ``task``): their kebab-case join when
    it fits the 6-30 character rule, else a prefix of it plus a hash of the whole, so two
    long names never share an id and the same names always give the same one."""
    full = "-".join(p.replace("_", "-") for p in parts if p).lower()
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", full)).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"g-{cleaned}".rstrip("-")
    if SERVICE_ACCOUNT.problem(cleaned) is None:
        return cleaned
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH]
    head = cleaned[: SERVICE_ACCOUNT.max_len - _HASH - 1].rstrip("-")
    return f"{head}-{digest}"


def secret_id(name: str) -> str:
    """The Secret Manager id of ``glacier.Secret(name)``: the name with every character Secret
    Manager refuses in an id (``/+=.@``) replaced by ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


__all__ = [
    "FUNCTION",
    "GCS_BUCKET",
    "NAME_RULES",
    "REPOSITORY",
    "RESERVED",
    "RUN_JOB",
    "SECRET",
    "SERVICE_ACCOUNT",
    "WORKFLOW",
    "account_id",
    "secret_id",
]
