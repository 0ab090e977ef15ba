"""AWS-specific storage: ``S3(bucket, prefix=...)`` pins a dataset to a named bucket.

By default the compiled stack creates and secures the bucket. ``S3(bucket, create=False)``
names a bucket that exists already (a landing bucket another team owns, a shared lake): the
stack looks it up instead, grants the tasks access to their prefixes in it, and leaves its
configuration (versioning, encryption, lifecycle, policy) to its owner.
"""

from __future__ import annotations

from typing import ClassVar

from glacier.model import field_validator, model_validator
from glacier.storage import AWS_STORAGE_CLASSES, StorageResource, folder_prefix, one_of
from glacier_aws.naming import S3_BUCKET, S3_KEY_PREFIX


class S3(StorageResource):
    """An S3 bucket (created and secured by the compiled stack, or an existing one with
    ``create=False``) and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "aws"

    bucket: str
    prefix: str = ""
    region: str | None = None
    storage_class: str | None = None
    object_lock_enabled: bool = False
    versioning: bool = True
    create: bool = True

    def __init__(self, bucket: str | None = None, /, **data: object) -> None:
        if bucket is not None:
            data["bucket"] = bucket
        super().__init__(**data)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str) -> str:
        return S3_BUCKET.check_field("bucket", v)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return folder_prefix(S3_KEY_PREFIX.check_field("prefix", v))

    @field_validator("storage_class")
    @classmethod
    def _class(cls, v: str | None) -> str | None:
        return one_of(v, AWS_STORAGE_CLASSES, "storage_class")

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        import re

        if v is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", v):
            raise ValueError(f"region must look like 'us-east-1'; found {v!r}")
        return v

    @model_validator(mode="after")
    def _existing(self) -> S3:
        if not self.create and (self.storage_class is not None or self.object_lock_enabled):
            msg = (
                f"S3({self.bucket!r}, create=False) names a bucket this pipeline does not own, so "
                "it cannot set its storage_class or object_lock_enabled; drop them (the bucket's "
                "owner configures it), or let the stack create a bucket of its own"
            )
            raise ValueError(msg)
        return self

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


__all__ = ["S3"]
