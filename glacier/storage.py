"""Generic storage resources: ``ObjectStorage`` (any cloud) and ``LocalFS`` (this machine).

Provider hints (``aws_storage_class``, ``gcp_storage_class``, ``azure_tier``) are read only by
the compiler for that provider; the others ignore them.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from typing import ClassVar, Literal

from glacier.model import Field, field_validator
from glacier.resources import Resource

AccessPattern = Literal["frequent", "infrequent", "archive"]

AWS_STORAGE_CLASSES = (
    "STANDARD",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
GCP_STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")
AZURE_TIERS = ("Hot", "Cool", "Cold", "Archive")


def one_of(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    """``value`` when unset or one of ``allowed``, else a field validator's ValueError."""
    if value is not None and value not in allowed:
        msg = f"{what} must be one of {', '.join(allowed)}; found {value!r}"
        raise ValueError(msg)
    return value


def folder_prefix(prefix: str) -> str:
    """An object-key prefix in its one canonical form: ``"raw"``, ``"/raw"`` and ``"raw/"`` all
    mean the folder ``"raw/"`` (so compiled stacks and remote runs agree on every key)."""
    cleaned = prefix.strip("/")
    return f"{cleaned}/" if cleaned else ""


#: The storage class for each provider's object store, named in LocalFS's error for a URL.
PROVIDER_STORAGE = {
    "aws": "glacier_aws.storage.S3",
    "gcp": "glacier_gcp.storage.GCS",
    "azure": "glacier_azure.storage.BlobStorage",
}
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")  # two letters at least: C:// is a drive


def local_folder(path: str) -> str:
    """``path`` when it is a folder path on this machine; a ValueError naming the right storage
    class for a URL (``s3://``, ``gs://``, ``http://``...) and the plain path for ``file://``.

    A URL given to LocalFS used to be handed to Polars as is: a default local run then wrote
    to the real bucket, and ``file:///abs`` became the relative folder ``./file:/abs``.
    """
    match = _URL.match(path)
    if match is None:
        return path
    scheme = match.group(1).lower()
    if scheme == "file":
        parsed = urllib.parse.urlsplit(path)
        plain = urllib.parse.unquote(parsed.path)
        if parsed.netloc not in ("", "localhost"):
            plain = f"//{parsed.netloc}{plain}"
        msg = (
            f"base_path must be a plain folder path, found the file URL {path!r}; "
            f"write LocalFS({plain!r})"
        )
        raise ValueError(msg)
    from glacier.compilation.registry import provider_for_url  # providers know their schemes

    found = provider_for_url(path)
    provider = None if found is None else found.name
    if provider is not None:
        use = f"for {scheme}:// data use {PROVIDER_STORAGE[provider]}(...) or ObjectStorage()"
    else:
        classes = ", ".join(PROVIDER_STORAGE.values())
        use = f"copy the data to a folder here, or use ObjectStorage() or {classes} for cloud data"
    msg = (
        f"base_path must be a folder on this machine, found the URL {path!r}; {use} "
        "(LocalFS never touches remote storage)"
    )
    raise ValueError(msg)


class StorageResource(Resource):
    """Base of every storage resource."""

    role: ClassVar[Literal["storage", "compute", "resource"]] = "storage"


class ObjectStorage(StorageResource):
    """Object storage on whichever cloud the compiler targets (S3, GCS or Azure Blob)."""

    kind: ClassVar[str] = "object_storage"

    access_pattern: AccessPattern = "frequent"
    aws_storage_class: str | None = None
    gcp_storage_class: str | None = None
    azure_tier: str | None = None
    versioning: bool = True
    retention_days: int | None = Field(default=None, ge=1)

    def __init__(self, access_pattern: AccessPattern | None = None, /, **data: object) -> None:
        if access_pattern is not None:
            data["access_pattern"] = access_pattern
        super().__init__(**data)

    @field_validator("aws_storage_class")
    @classmethod
    def _aws_class(cls, v: str | None) -> str | None:
        return one_of(v, AWS_STORAGE_CLASSES, "aws_storage_class")

    @field_validator("gcp_storage_class")
    @classmethod
    def _gcp_class(cls, v: str | None) -> str | None:
        return one_of(v, GCP_STORAGE_CLASSES, "gcp_storage_class")

    @field_validator("azure_tier")
    @classmethod
    def _azure_tier(cls, v: str | None) -> str | None:
        return one_of(v, AZURE_TIERS, "azure_tier")

    def describe(self) -> str:
        return "object storage"


class LocalFS(StorageResource):
    """A folder on this machine: ``<base_path>/<dataset name>.<extension>``. Local runs only."""

    kind: ClassVar[str] = "local_fs"
    provider: ClassVar[str | None] = "local"

    base_path: str = "./data"

    def __init__(self, base_path: str | os.PathLike[str] | None = None, /, **data: object) -> None:
        if base_path is not None:
            data["base_path"] = base_path
        super().__init__(**data)

    @field_validator("base_path", mode="before")
    @classmethod
    def _path_to_str(cls, v: object) -> object:
        # LocalFS(Path("data")) and LocalFS(base_path=Path("data")) mean the same folder.
        return os.fspath(v) if isinstance(v, os.PathLike) else v

    @field_validator("base_path")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("base_path must be a non-empty folder path")
        return local_folder(v)

    def describe(self) -> str:
        return "local fs"


__all__ = ["LocalFS", "ObjectStorage", "StorageResource"]
