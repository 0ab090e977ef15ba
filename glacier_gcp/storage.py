"""GCP-specific storage: ``GCS(bucket, prefix=...)`` pins a dataset to a named GCS bucket.

A local run with ``LocalExecutor(storage="remote")`` reads and writes
``gs://<bucket>/<prefix><name>.<ext>`` through Polars' cloud IO. Compiling to GCP is not built
in this Glacier version: compiling a pipeline that uses GCS needs a compiler with a ``gcp``
provider, and otherwise is a CompilationError naming the dataset.
"""

from __future__ import annotations

import re
from typing import ClassVar

from glacier.compilation.naming import OBJECT_KEY_PREFIX
from glacier.model import field_validator
from glacier.storage import GCP_STORAGE_CLASSES, StorageResource, folder_prefix, one_of
from glacier_gcp.naming import GCS_BUCKET

_LOCATION = re.compile(r"[A-Za-z]+[A-Za-z0-9-]*[A-Za-z0-9]")


class GCS(StorageResource):
    """A Google Cloud Storage bucket and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "gcp"

    bucket: str
    prefix: str = ""
    location: str | None = None
    storage_class: str | None = None

    def __init__(self, bucket: str | None = None, /, **data: object) -> None:
        if bucket is not None:
            data["bucket"] = bucket
        super().__init__(**data)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str) -> str:
        return GCS_BUCKET.check_field("bucket", v)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return folder_prefix(OBJECT_KEY_PREFIX.check_field("prefix", v))

    @field_validator("location")
    @classmethod
    def _location(cls, v: str | None) -> str | None:
        if v is not None and not _LOCATION.fullmatch(v):
            raise ValueError(f"location must look like 'US', 'EU' or 'us-central1'; found {v!r}")
        return v

    @field_validator("storage_class")
    @classmethod
    def _class(cls, v: str | None) -> str | None:
        return one_of(v, GCP_STORAGE_CLASSES, "storage_class")

    def describe(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}"


__all__ = ["GCS"]
