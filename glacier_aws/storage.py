"""AWS-specific storage: ``S3(bucket, prefix=...)`` pins a dataset to a named bucket.

By default the compiled stack creates and secures the bucket. ``S3(bucket, create=False)``
names a bucket that exists already (a landing bucket another team owns, a shared lake): the
stack looks it up instead, grants the tasks access to their prefixes in it, and leaves its
configuration (versioning, encryption, lifecycle, policy) to its owner.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from glacier.checks import check_name, check_one_of, check_pattern, check_type, fail, normalize
from glacier.compilation.layout import normalize_prefix
from glacier.storage import StorageResource
from glacier_aws.hints import STORAGE_CLASSES
from glacier_aws.naming import S3_BUCKET, S3_KEY_PREFIX


@dataclass(frozen=True)
class S3(StorageResource):
    """An S3 bucket (created and secured by the compiled stack, or an existing one with
    ``create=False``) and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "aws"

    bucket: str
    _: KW_ONLY
    prefix: str = ""
    region: str | None = None
    storage_class: str | None = None
    object_lock_enabled: bool = False
    versioning: bool = True
    create: bool = True

    def __post_init__(self) -> None:
        check_name(self, "bucket", S3_BUCKET)
        check_name(self, "prefix", S3_KEY_PREFIX)
        normalize(self, prefix=normalize_prefix(self.prefix))
        check_pattern(
            self,
            "region",
            r"[a-z]{2}(-[a-z]+)+-\d",
            "an AWS region like 'us-east-1'",
            optional=True,
        )
        check_one_of(self, "storage_class", STORAGE_CLASSES, optional=True)
        for flag in ("object_lock_enabled", "versioning", "create"):
            check_type(self, flag, bool)
        if not self.create and (self.storage_class is not None or self.object_lock_enabled):
            msg = (
                f"S3({self.bucket!r}, create=False) names a bucket this pipeline does not own, so "
                "it cannot set its storage_class or object_lock_enabled; drop them (the bucket's "
                "owner configures it), or let the stack create a bucket of its own"
            )
            fail(self, None, msg)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


__all__ = ["S3"]
