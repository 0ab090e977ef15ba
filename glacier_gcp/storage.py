"""GCP-specific storage: ``GCS(bucket, prefix=...)`` pins a dataset to a named GCS bucket.

A local run with ``LocalExecutor(storage="remote")`` reads and writes
``gs://<bucket>/<prefix><name>.<ext>`` through Polars' cloud IO. By default the compiled GCP
stack creates and locks the bucket down; ``GCS(bucket, create=False)`` names a bucket that
exists already (a landing bucket another team owns): the stack looks it up, grants the tasks
access to their keys in it, and leaves its configuration to its owner.
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
from glacier.compilation.naming import OBJECT_KEY_PREFIX
from glacier.storage import StorageResource
from glacier_gcp.hints import STORAGE_CLASSES
from glacier_gcp.naming import GCS_BUCKET


@dataclass(frozen=True)
class GCS(StorageResource):
    """A Google Cloud Storage bucket (created and locked down by the compiled stack, or an
    existing one with ``create=False``) and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "gcp"

    bucket: str
    _: KW_ONLY
    prefix: str = ""
    location: str | None = None
    storage_class: str | None = None
    versioning: bool = True
    create: bool = True

    def __post_init__(self) -> None:
        check_name(self, "bucket", GCS_BUCKET)
        check_key_prefix(self, "prefix")
        check_name(self, "prefix", OBJECT_KEY_PREFIX)
        normalize(self, prefix=normalize_prefix(self.prefix))
        check_pattern(
            self,
            "location",
            r"[A-Za-z]+[A-Za-z0-9-]*[A-Za-z0-9]",
            "a location like 'US', 'EU' or 'us-central1'",
            optional=True,
        )
        check_one_of(self, "storage_class", STORAGE_CLASSES, optional=True)
        for flag in ("versioning", "create"):
            check_type(self, flag, bool)
        if not self.create and (self.storage_class is not None or self.location is not None):
            msg = (
                f"GCS({self.bucket!r}, create=False) names a bucket this pipeline does not own, "
                "so it cannot set its storage_class or location; drop them (the bucket's owner "
                "configures it), or let the stack create a bucket of its own"
            )
            fail(self, None, msg)

    def describe(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}"


__all__ = ["GCS"]
