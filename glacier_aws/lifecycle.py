"""S3 lifecycle rules: from a dataset's storage hints (class transitions, retention), and the
housekeeping every bucket the stack creates gets (stale uploads, old versions, expiry)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glacier.compilation.layout import stored_key
from glacier.errors import CompilationError
from glacier.ir import DatasetIR

#: Storage classes AWS only lets objects enter after 30 days in STANDARD.
_THIRTY_DAY_MINIMUM = ("STANDARD_IA", "ONEZONE_IA")
#: What a generic access pattern means on S3 when no explicit class is given.
_ACCESS_PATTERN_CLASS = {"frequent": None, "infrequent": "STANDARD_IA", "archive": "GLACIER_IR"}
#: Classes whose objects must be restored before a task can read them.
RESTORE_REQUIRED = ("GLACIER", "DEEP_ARCHIVE")


def storage_class(ds: DatasetIR) -> str | None:
    """The S3 storage class a dataset's objects should end up in (None: STANDARD)."""
    storage = ds.storage
    if storage is None:
        return None
    config = storage.config
    if storage.provider == "aws":  # S3(storage_class=...)
        chosen = config["storage_class"]
    else:  # ObjectStorage(access_pattern, aws_storage_class=...)
        chosen = config["aws_storage_class"] or _ACCESS_PATTERN_CLASS[config["access_pattern"]]
    return None if chosen == "STANDARD" else chosen


def check_readable(ds: DatasetIR) -> None:
    """A dataset a task reads must not move to a class whose objects need a restore first."""
    cls = storage_class(ds)
    if cls in RESTORE_REQUIRED and ds.consumers:
        msg = (
            f"dataset {ds.name!r} is read by task(s) {', '.join(ds.consumers)}, but its S3 "
            f"storage class {cls} must be restored before any read, so those tasks would fail; "
            "use GLACIER_IR (instant retrieval, what ObjectStorage('archive') picks) or store "
            "only datasets no task reads in " + cls
        )
        raise CompilationError(msg)


def _dataset_rule(ds: DatasetIR) -> dict[str, Any] | None:
    cls = storage_class(ds)
    retention = ds.storage.config.get("retention_days") if ds.storage is not None else None
    if cls is None and retention is None:
        return None
    key = stored_key(ds)
    rule: dict[str, Any] = {
        "id": f"dataset-{ds.name}",
        "status": "Enabled",
        "filter": {"prefix": key},
    }
    days = 30 if cls in _THIRTY_DAY_MINIMUM else 0
    # S3 rejects a rule whose objects expire no later than they transition; and an object
    # deleted on the day it would move never needs the cheaper class.
    if cls is not None and (retention is None or int(retention) > days):
        rule["transitions"] = [{"days": days, "storage_class": cls}]
    if retention is not None:
        rule["expiration"] = {"days": int(retention)}
        rule["noncurrent_version_expiration"] = {"noncurrent_days": int(retention)}
    return rule


def _abort_incomplete_uploads(days: int) -> dict[str, Any]:
    """Delete the parts of multipart uploads never completed (a task killed mid-write):
    billed as storage, invisible in listings. The whole bucket, whatever else its rules do."""
    return {
        "id": "abort-incomplete-uploads",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": days},
    }


def _expire_noncurrent_versions(days: int) -> dict[str, Any]:
    """In a versioned bucket, an overwritten or deleted object's old version is kept ``days``
    (a window to recover it), then deleted; a delete marker left with no version is removed."""
    return {
        "id": "expire-noncurrent-versions",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_expiration": {"noncurrent_days": days},
        "expiration": {"expired_object_delete_marker": True},
    }


def bucket_lifecycle(
    datasets: Sequence[DatasetIR], noncurrent_days: int | None = None
) -> tuple[dict[str, Any], ...]:
    """Rules for one data bucket: abort stale multipart uploads, expire old versions after
    ``noncurrent_days`` (versioned buckets; None keeps them), then one rule per dataset hint.

    A dataset's ``retention_days`` also expires its old versions; where both apply, S3 acts
    on the earlier.
    """
    rules: list[dict[str, Any]] = [_abort_incomplete_uploads(7)]
    if noncurrent_days is not None:
        rules.append(_expire_noncurrent_versions(noncurrent_days))
    rules.extend(r for r in map(_dataset_rule, datasets) if r is not None)
    return tuple(rules)


def work_bucket_lifecycle(expiry_days: int) -> tuple[dict[str, Any], ...]:
    """The intermediate bucket: each run's data (``runs/``) expires; the Lambda bundles
    (``artifacts/``) stay while the stack uses them."""
    expire_runs = {
        "id": "expire-runs",
        "status": "Enabled",
        "filter": {"prefix": "runs/"},
        "expiration": {"days": expiry_days},
    }
    return (_abort_incomplete_uploads(1), expire_runs)


def access_log_lifecycle(retention_days: int) -> tuple[dict[str, Any], ...]:
    """The access-log bucket: log objects expire after ``retention_days``."""
    expire_logs = {
        "id": "expire-access-logs",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "expiration": {"days": retention_days},
    }
    return (_abort_incomplete_uploads(1), expire_logs)


__all__ = [
    "RESTORE_REQUIRED",
    "access_log_lifecycle",
    "bucket_lifecycle",
    "check_readable",
    "storage_class",
    "work_bucket_lifecycle",
]
