"""The S3 buckets of an AWS stack: one per group of datasets that name the same bucket (or one
per dataset), and the pipeline's intermediate bucket for ephemeral datasets.

Each bucket's protections (versioning, object lock, lifecycle rules) come from its datasets'
storage; every name is checked against S3's rules here (see :mod:`glacier_aws.naming`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glacier.compilation.naming import AUTONAME_SUFFIX, check, kebab
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR
from glacier_aws.lifecycle import bucket_lifecycle, check_readable
from glacier_aws.naming import S3_BUCKET, Namer


@dataclass(frozen=True)
class BucketPlan:
    """One S3 bucket: its generated variable, logical name and protections."""

    var: str
    logical: str
    explicit_name: str | None
    region: str | None
    versioning: bool
    object_lock: bool
    lifecycle_rules: tuple[dict[str, Any], ...]
    datasets: tuple[str, ...]
    purpose: str
    #: False: the bucket exists already (``S3(..., create=False)``); the stack looks it up.
    create: bool = True


def _bucket_settings(ds: DatasetIR) -> tuple[str | None, str | None, bool, bool, bool]:
    """(explicit bucket name, region, versioning, object lock, create) of a storage-backed
    dataset. An existing bucket's versioning and lock are its owner's, not the stack's."""
    assert ds.storage is not None
    config = ds.storage.config
    if ds.storage.provider == "aws":  # S3(...)
        create = bool(config["create"])
        return (
            config["bucket"],
            config["region"],
            create and bool(config["versioning"]),
            create and bool(config["object_lock_enabled"]),
            create,
        )
    return None, None, bool(config["versioning"]), False, True  # ObjectStorage(...)


def data_buckets(spec: PipelineIR, names: list[str], namer: Namer) -> list[BucketPlan]:
    by_bucket: dict[str, list[DatasetIR]] = {}
    for ds in spec.datasets:
        if ds.name in names and ds.storage is not None:
            check_readable(ds)
            explicit, *_ = _bucket_settings(ds)
            by_bucket.setdefault(explicit or f"\0{ds.name}", []).append(ds)
    plans = []
    for key in sorted(by_bucket):
        group = by_bucket[key]
        settings = {_bucket_settings(ds) for ds in group}
        if len(settings) > 1:
            msg = (
                f"datasets {', '.join(d.name for d in group)} share S3 bucket {key!r} but declare "
                "different region, versioning, object lock or create settings; make them equal"
            )
            raise CompilationError(msg)
        explicit, region, versioning, lock, create = settings.pop()
        first = group[0].name
        logical = explicit or kebab(spec.name, first)
        owner = f"dataset {first!r}"
        if explicit:
            check(S3_BUCKET, explicit, owner)
        else:
            fix = "shorten or rename the pipeline or dataset, or pin a name with S3(bucket=...)"
            check(S3_BUCKET, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
        plans.append(
            BucketPlan(
                var=namer.take(
                    f"{explicit.replace('-', '_').replace('.', '_') if explicit else first}_bucket"
                ),
                logical=logical,
                explicit_name=explicit,
                region=region,
                versioning=versioning or lock,
                object_lock=lock,
                lifecycle_rules=bucket_lifecycle(group) if create else (),
                datasets=tuple(d.name for d in group),
                purpose="data",
                create=create,
            )
        )
    return plans


def work_bucket(spec: PipelineIR, ephemeral: list[str], expiry: int, namer: Namer) -> BucketPlan:
    logical = kebab(spec.name, "work")
    check(
        S3_BUCKET,
        logical,
        f"pipeline {spec.name!r}",
        suffix=AUTONAME_SUFFIX,
        fix="shorten or rename the pipeline",
    )
    rules = (
        {
            "id": "expire-runs",
            "status": "Enabled",
            "filter": {"prefix": "runs/"},
            "expiration": {"days": expiry},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
        },
    )
    return BucketPlan(
        var=namer.take("work_bucket"),
        logical=logical,
        explicit_name=None,
        region=None,
        versioning=False,
        object_lock=False,
        lifecycle_rules=rules,
        datasets=tuple(ephemeral),
        purpose="intermediate",
    )


__all__ = ["BucketPlan", "data_buckets", "work_bucket"]
