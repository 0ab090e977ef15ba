"""The GCS buckets of a GCP stack: which datasets share one, and how each is protected.

Every bucket the stack creates has uniform bucket-level access (no object ACLs: only IAM
decides) and public access prevention ``enforced``; GCS encrypts every object at rest and
serves only HTTPS, so neither needs configuring. A data bucket keeps object versions, removes
noncurrent ones ``noncurrent_days`` after they were replaced, takes its storage class and
retention from the datasets' hints, and keeps deleted objects for seven days (soft delete).
The intermediate bucket holds one folder per run under ``runs/`` (deleted after a few
days), the function source archives under ``artifacts/``, no versions and no soft delete:
its data is rebuilt by the next run, and keeping deleted copies would bill every expired run
again (see ``docs/decisions/132-gcs-soft-delete-and-versions.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from glacier.compilation.layout import EPHEMERAL_PREFIX, stored_key
from glacier.compilation.naming import AUTONAME_SUFFIX, Namer, check, kebab
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR
from glacier_gcp.naming import GCS_BUCKET

#: What a generic access pattern means on GCS when no explicit class is given. Every GCS
#: class is readable at once (no restore): COLDLINE, like S3 Glacier Instant Retrieval, bills
#: a 90-day minimum and per-GB retrievals.
ACCESS_PATTERN_CLASS = {"frequent": "STANDARD", "infrequent": "NEARLINE", "archive": "COLDLINE"}
#: Soft delete on data buckets: GCS's own default, kept on purpose (recovers deleted objects).
DATA_SOFT_DELETE_SECONDS = 7 * 24 * 3600
#: Incomplete XML multipart uploads (Polars' large writes) are aborted after this many days.
ABORT_UPLOADS_DAYS = 7


@dataclass(frozen=True)
class BucketPlan:
    """One GCS bucket: its generated variable, logical name and protections."""

    var: str
    logical: str
    explicit_name: str | None
    location: str | None
    storage_class: str
    versioning: bool
    lifecycle_rules: tuple[dict[str, Any], ...]
    soft_delete_seconds: int
    datasets: tuple[str, ...]
    purpose: str  # "data" or "intermediate"
    #: False: the bucket exists already (``GCS(..., create=False)``); the stack looks it up.
    create: bool = True

    @property
    def force_destroy(self) -> bool:
        """Only the intermediate bucket is emptied on ``pulumi destroy``: data is kept."""
        return self.purpose == "intermediate"


def storage_class(ds: DatasetIR) -> str:
    """The GCS storage class a dataset's objects are written in."""
    assert ds.storage is not None
    config = ds.storage.config
    if ds.storage.provider == "gcp":  # GCS(storage_class=...)
        return str(config["storage_class"] or "STANDARD")
    chosen = config["gcp_storage_class"] or ACCESS_PATTERN_CLASS[config["access_pattern"]]
    return str(chosen)


def _settings(ds: DatasetIR) -> tuple[str | None, str | None, bool, bool]:
    """(explicit bucket name, location, versioning, create) of a storage-backed dataset."""
    assert ds.storage is not None
    config = ds.storage.config
    if ds.storage.provider == "gcp":  # GCS(...)
        create = bool(config["create"])
        return config["bucket"], config["location"], create and bool(config["versioning"]), create
    return None, None, bool(config["versioning"]), True  # ObjectStorage(...)


def data_lifecycle(
    datasets: Sequence[DatasetIR], bucket_class: str, versioning: bool, noncurrent_days: int
) -> tuple[dict[str, Any], ...]:
    """Rules for one data bucket: abort stale uploads, drop old noncurrent versions, then per
    dataset its class (when the bucket's default differs) and its retention."""
    rules: list[dict[str, Any]] = [
        {
            "action": {"type": "AbortIncompleteMultipartUpload"},
            "condition": {"age": ABORT_UPLOADS_DAYS},
        }
    ]
    if versioning:
        rules.append(
            {
                "action": {"type": "Delete"},
                "condition": {
                    "days_since_noncurrent_time": noncurrent_days,
                    "with_state": "ARCHIVED",
                },
            }
        )
    for ds in datasets:
        key = stored_key(ds)
        cls = storage_class(ds)
        if cls != bucket_class:
            rules.append(
                {
                    "action": {"type": "SetStorageClass", "storage_class": cls},
                    "condition": {"age": 0, "send_age_if_zero": True, "matches_prefixes": [key]},
                }
            )
        retention = ds.storage.config.get("retention_days") if ds.storage is not None else None
        if retention is not None:
            rules.append(
                {
                    "action": {"type": "Delete"},
                    "condition": {"age": int(retention), "matches_prefixes": [key]},
                }
            )
    return tuple(rules)


def data_buckets(
    spec: PipelineIR, names: Sequence[str], namer: Namer, region: str, noncurrent_days: int
) -> list[BucketPlan]:
    """A bucket per ``ObjectStorage`` dataset, and one per named ``GCS`` bucket."""
    by_bucket: dict[str, list[DatasetIR]] = {}
    for ds in spec.datasets:
        if ds.name in names and ds.storage is not None:
            explicit = _settings(ds)[0]
            by_bucket.setdefault(explicit or f"\0{ds.name}", []).append(ds)
    plans = []
    for key in sorted(by_bucket):
        group = by_bucket[key]
        settings = {_settings(ds) for ds in group}
        if len(settings) > 1:
            msg = (
                f"datasets {', '.join(d.name for d in group)} share GCS bucket {key!r} but declare "
                "different location, versioning or create settings; make them equal"
            )
            raise CompilationError(msg)
        explicit, location, versioning, create = settings.pop()
        first = group[0].name
        logical = explicit or kebab(spec.name, first)
        if explicit:
            check(GCS_BUCKET, explicit, f"dataset {first!r}")
        else:
            fix = "shorten or rename the pipeline or dataset, or pin a name with GCS(bucket=...)"
            check(GCS_BUCKET, logical, f"dataset {first!r}", suffix=AUTONAME_SUFFIX, fix=fix)
        classes = sorted({storage_class(ds) for ds in group})
        bucket_class = classes[0] if len(classes) == 1 else "STANDARD"
        var = explicit.replace("-", "_").replace(".", "_") if explicit else first
        plans.append(
            BucketPlan(
                var=namer.take(f"{var}_bucket"),
                logical=logical,
                explicit_name=explicit,
                location=location or region,
                storage_class=bucket_class,
                versioning=versioning,
                lifecycle_rules=data_lifecycle(group, bucket_class, versioning, noncurrent_days)
                if create
                else (),
                soft_delete_seconds=DATA_SOFT_DELETE_SECONDS,
                datasets=tuple(d.name for d in group),
                purpose="data",
                create=create,
            )
        )
    return plans


def work_bucket(
    spec: PipelineIR,
    ephemeral: Sequence[str],
    expiry_days: int,
    namer: Namer,
    region: str,
    shard: int = 1,
) -> BucketPlan:
    """An intermediate bucket: per-run folders expiring after ``expiry_days``; the first
    (``shard`` 1) also holds the artifacts (see :mod:`glacier_gcp.shards` for the others)."""
    logical = kebab(spec.name, "work" if shard == 1 else f"work{shard}")
    fix = "shorten or rename the pipeline"
    check(GCS_BUCKET, logical, f"pipeline {spec.name!r}", suffix=AUTONAME_SUFFIX, fix=fix)
    rules = (
        {
            "action": {"type": "Delete"},
            "condition": {"age": expiry_days, "matches_prefixes": [EPHEMERAL_PREFIX]},
        },
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 1}},
    )
    return BucketPlan(
        var=namer.take("work_bucket" if shard == 1 else f"work{shard}_bucket"),
        logical=logical,
        explicit_name=None,
        location=region,
        storage_class="STANDARD",
        versioning=False,
        lifecycle_rules=rules,
        soft_delete_seconds=0,
        datasets=tuple(ephemeral),
        purpose="intermediate",
    )


__all__ = [
    "ACCESS_PATTERN_CLASS",
    "DATA_SOFT_DELETE_SECONDS",
    "BucketPlan",
    "data_buckets",
    "data_lifecycle",
    "storage_class",
    "work_bucket",
]
