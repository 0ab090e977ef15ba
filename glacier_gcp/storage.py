"""GCP-specific storage: ``GCS(bucket, prefix=...)`` pins a dataset to a named GCS bucket.

A local run with ``LocalExecutor(storage="remote")`` reads and writes
``gs://<bucket>/<prefix><name>.<ext>`` through Polars' cloud IO. Compiling to GCP is not built
in this Glacier version: compiling a pipeline that uses GCS needs a compiler with a ``gcp``
provider, and otherwise is a CompilationError naming the dataset.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from glacier.checks import check_name, check_one_of, check_pattern, normalize
from glacier.compilation.layout import normalize_prefix
from glacier.compilation.naming import OBJECT_KEY_PREFIX
from glacier.storage import StorageResource
from glacier_gcp.hints import STORAGE_CLASSES
from glacier_gcp.naming import GCS_BUCKET


@dataclass(frozen=True)
class GCS(StorageResource):
    """A Google Cloud Storage bucket and a key prefix in it."""

    kind: ClassVar[str] = "object_storage"
    provider: ClassVar[str | None] = "gcp"

    bucket: str
    _: KW_ONLY
    prefix: str = ""
    location: str | None = None
    storage_class: str | None = None

    def __post_init__(self) -> None:
        check_name(self, "bucket", GCS_BUCKET)
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

    def describe(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}"


__all__ = ["GCS"]
