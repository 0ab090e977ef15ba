"""The compiler's operations and security options, checked, and what they add to task roles.

``AWSCompiler(noncurrent_version_days=30, access_logs=True, container_insights=False,
kms_key=None)``: how long versioned buckets keep old versions, whether S3 logs every request
to the buckets the stack creates, whether ECS publishes per-task metrics (billed), and the
customer-managed KMS key that then encrypts the stack's buckets, log groups, Lambda
environments and container images. Each is one option for the whole stack, set where the
stack is compiled; a dataset keeps its own hints (``retention_days``...).
"""

from __future__ import annotations

import re
from typing import Any

from glacier.errors import CompilationError
from glacier_aws.policy import Arn, Statement

#: A KMS key ARN (not an alias: IAM grants and CloudWatch Logs need the key itself).
KMS_KEY_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso[a-z-]*)?:kms:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):\d{12}:"
    r"key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
#: What a task needs of the key to read (Decrypt) and write (GenerateDataKey) SSE-KMS
#: objects, multipart uploads included.
KMS_TASK_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        msg = f"AWSCompiler: {name} must be True or False, found {value!r}"
        raise CompilationError(msg)
    return value


def operations_options(
    *,
    region: str,
    noncurrent_version_days: int | None,
    access_logs: bool,
    container_insights: bool,
    kms_key: str | None,
) -> dict[str, Any]:
    """The :class:`~glacier_aws.model.ModelOptions` fields of these options, checked."""
    days = noncurrent_version_days
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        msg = (
            "AWSCompiler: noncurrent_version_days must be an int >= 1 (days a versioned "
            f"bucket keeps an overwritten object's old version) or None (forever), found {days!r}"
        )
        raise CompilationError(msg)
    if kms_key is not None:
        found = KMS_KEY_ARN.fullmatch(kms_key) if isinstance(kms_key, str) else None
        if found is None:
            msg = (
                "AWSCompiler: kms_key must be a KMS key ARN "
                "('arn:aws:kms:<region>:<account>:key/<key id>'; not an alias), "
                f"found {kms_key!r}"
            )
            raise CompilationError(msg)
        if found["region"] != region:
            msg = (
                f"AWSCompiler: kms_key {kms_key!r} is in {found['region']}, but the stack "
                f"deploys to {region}; S3, CloudWatch Logs and Lambda use only keys in their "
                "own region: pass a key (or a multi-Region key replica) in " + region
            )
            raise CompilationError(msg)
    return {
        "noncurrent_version_days": days,
        "access_logs": _check_flag("access_logs", access_logs),
        "container_insights": _check_flag("container_insights", container_insights),
        "kms_key": kms_key,
    }


def kms_statements(kms_key: str | None) -> tuple[Statement, ...]:
    """A task role's use of the stack's KMS key (its buckets' objects are encrypted with it)."""
    if kms_key is None:
        return ()
    return (Statement("UseStackKey", KMS_TASK_ACTIONS, (Arn("literal", kms_key),)),)


__all__ = ["KMS_KEY_ARN", "kms_statements", "operations_options"]
