"""Generic storage resources: ``ObjectStorage`` (any cloud) and ``LocalFS`` (this machine).

Provider hints (``aws_storage_class``, ``gcp_storage_class``, ``azure_tier``) are read only by
the compiler for that provider; the others ignore them. Which values a hint may take is that
provider's knowledge: ``ObjectStorage`` asks the provider package to check it (through the
``glacier.providers`` registry), so the core holds no cloud's list of storage classes.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar, Literal

from glacier.checks import check_one_of, check_range, check_type, fail, normalize
from glacier.errors import ProviderNotInstalledError
from glacier.resources import Resource

AccessPattern = Literal["frequent", "infrequent", "archive"]
ACCESS_PATTERNS: tuple[AccessPattern, ...] = ("frequent", "infrequent", "archive")

#: ObjectStorage's provider hints: keyword -> (provider, the provider's name for the hint).
PROVIDER_HINTS = {
    "aws_storage_class": ("aws", "storage_class"),
    "gcp_storage_class": ("gcp", "storage_class"),
    "azure_tier": ("azure", "tier"),
}


def check_hints(
    provider: str, hints: Mapping[str, object], allowed: Mapping[str, Collection[str]]
) -> None:
    """Raise a ValueError naming the first of ``hints`` that is not in ``allowed`` or whose
    value is not allowed: the body of a provider package's ``check_storage_hints``."""
    for name, value in hints.items():
        if name not in allowed:
            msg = f"{provider} takes no storage hint {name!r}; it takes: {', '.join(allowed)}"
            raise ValueError(msg)
        if value not in allowed[name]:
            msg = f"{provider} has no {name} {value!r}; expected one of {', '.join(allowed[name])}"
            raise ValueError(msg)


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")  # two letters at least: C:// is a drive


def local_folder(path: str) -> str:
    """``path`` when it is a folder path on this machine; a ValueError naming the right storage
    class for a URL (a local run would write to the real bucket) and the plain path for
    ``file://`` (which Polars would take as the relative folder ``./file:/abs``)."""
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
    # Providers know their schemes and storage classes; the registry imports provider
    # packages, which import this module: looked up here.
    from glacier.compilation.registry import installed_providers, provider_for_url

    provider = provider_for_url(path)
    if provider is not None:
        use = f"for {scheme}:// data use {provider.storage_class}(...) or ObjectStorage()"
    else:
        classes = ["ObjectStorage()", *(p.storage_class for p in installed_providers())]
        named = f"{', '.join(classes[:-1])} or {classes[-1]}" if len(classes) > 1 else classes[0]
        use = f"copy the data to a folder here, or use {named} for cloud data"
    msg = (
        f"base_path must be a folder on this machine, found the URL {path!r}; {use} "
        "(LocalFS never touches remote storage)"
    )
    raise ValueError(msg)


class StorageResource(Resource):
    """Base of every storage resource."""

    role: ClassVar[Literal["storage", "compute", "resource"]] = "storage"


@dataclass(frozen=True)
class ObjectStorage(StorageResource):
    """Object storage on whichever cloud the compiler targets (S3, GCS or Azure Blob)."""

    kind: ClassVar[str] = "object_storage"

    access_pattern: AccessPattern = "frequent"
    _: KW_ONLY
    aws_storage_class: str | None = None
    gcp_storage_class: str | None = None
    azure_tier: str | None = None
    versioning: bool = True
    retention_days: int | None = None

    def __post_init__(self) -> None:
        check_one_of(self, "access_pattern", ACCESS_PATTERNS)
        check_type(self, "versioning", bool)
        check_range(self, "retention_days", int, ge=1, optional=True)
        for keyword, (provider, hint) in PROVIDER_HINTS.items():
            check_type(self, keyword, str, optional=True)
            value = getattr(self, keyword)
            if value is not None:
                self._check_hint(keyword, provider, hint, value)

    def _check_hint(self, keyword: str, provider: str, hint: str, value: str) -> None:
        # The registry imports provider packages, which import this module: looked up here.
        from glacier.compilation.registry import check_storage_hints

        try:
            check_storage_hints(provider, {hint: value})
        except (ValueError, ProviderNotInstalledError) as exc:
            fail(self, keyword, f"{keyword}: {exc}")

    def describe(self) -> str:
        return "object storage"


@dataclass(frozen=True)
class LocalFS(StorageResource):
    """A folder on this machine: ``<base_path>/<dataset name>.<extension>``. Local runs only."""

    kind: ClassVar[str] = "local_fs"
    provider: ClassVar[str | None] = "local"

    base_path: str | os.PathLike[str] = "./data"

    def __post_init__(self) -> None:
        # LocalFS(Path("data")) and LocalFS("data") mean the same folder, kept as a str.
        check_type(self, "base_path", str, os.PathLike)
        normalize(self, base_path=os.fspath(self.base_path))
        if not str(self.base_path).strip():
            fail(
                self,
                "base_path",
                f"base_path must be a non-empty folder path, found {self.base_path!r}",
            )
        try:
            local_folder(str(self.base_path))
        except ValueError as exc:
            fail(self, "base_path", str(exc))

    def describe(self) -> str:
        return "local fs"


__all__ = [
    "ACCESS_PATTERNS",
    "PROVIDER_HINTS",
    "LocalFS",
    "ObjectStorage",
    "StorageResource",
    "check_hints",
]
