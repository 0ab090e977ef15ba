"""AWS-specific storage: ``S3(bucket, prefix=...)`` pins a dataset to a named bucket.

By default the compiled stack creates and secures the bucket. ``S3(bucket, create=False)``
names a bucket that exists already (a landing bucket another team owns, a shared lake): the
stack looks it up instead, grants the tasks access to their prefixes in it, and leaves its
configuration (versioning, encryption, lifecycle, policy) to its owner.

``kms_key`` names the customer-managed KMS key the bucket's objects are encrypted with (a
key ARN or an alias ARN): the tasks get exactly the KMS rights reading (``kms:Decrypt``) or
writing (``kms:GenerateDataKey`` too) need, only through S3, and a bucket the stack creates
uses the key for its default encryption (SSE-KMS).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from glacier.checks import (
    check_key_prefix,
    check_name,
    check_one_of,
    check_pattern,
    check_type,
    fail,
    normalize,
)
from glacier.compilation.layout import normalize_prefix
from glacier.storage import StorageResource
from glacier_aws.hints import STORAGE_CLASSES
from glacier_aws.naming import S3_BUCKET, S3_KEY_PREFIX
from glacier_aws.policy import KMS_KEY_ARN, kms_key_region


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
    kms_key: str | None = None

    def __post_init__(self) -> None:
        check_name(self, "bucket", S3_BUCKET)
        check_key_prefix(self, "prefix")
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
        rule = "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>) or alias ARN (...:alias/<name>)"
        check_pattern(self, "kms_key", KMS_KEY_ARN, rule, optional=True)
        if self.kms_key and self.region and kms_key_region(self.kms_key) != self.region:
            msg = (
                f"kms_key {self.kms_key!r} is in {kms_key_region(self.kms_key)}, but the bucket "
                f"is in {self.region}; S3 encrypts only with a key in the bucket's region: use a "
                "key (or a multi-Region replica) from that region"
            )
            fail(self, "kms_key", msg)
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
