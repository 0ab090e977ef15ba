"""Reading one dataset, from a local path or an object-store URL: the reads the local
executor and the cloud runtime share.

A URL is read through Polars' cloud IO, or through the fsspec filesystem its provider asks for
(an emulator or private endpoint Polars' native client cannot reach). Writing is
:mod:`glacier.writes`; what each format means to Polars is :mod:`glacier.formats`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

import polars as pl

from glacier.compilation.registry import provider_for_url
from glacier.formats import scan, text_dtypes
from glacier.ir import DatasetIR


def is_remote(uri: str) -> bool:
    """Whether ``uri`` is an object-store URL (a ``file://`` URL is a local path)."""
    return "://" in uri and not uri.startswith("file://")


def options_for(uri: str, options: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The storage options for ``uri``: flat options as given, or, for per-provider options
    (``{"aws": {...}, "gcp": {...}}``, what a task reaching data on several clouds is
    given), those of ``uri``'s provider."""
    if not options:
        return None
    if not all(isinstance(v, Mapping) for v in options.values()):
        return dict(options)
    provider = provider_for_url(uri)
    chosen = options.get(provider.name) if provider is not None else None
    return dict(chosen) if chosen else None


def filesystem(uri: str, options: Mapping[str, str] | None) -> Any | None:
    """The fsspec filesystem ``uri``'s provider asks for (see the module docstring), or None
    when Polars' own cloud IO reaches it."""
    provider = provider_for_url(uri)
    return None if provider is None else provider.filesystem(options or {})


def scan_dataset(
    ds: DatasetIR, uri: str, storage_options: Mapping[str, str] | None = None
) -> pl.LazyFrame:
    """A LazyFrame over the dataset stored at ``uri`` in the dataset's format."""
    opts = options_for(uri, storage_options)
    dtypes = text_dtypes(ds)
    fs = filesystem(uri, opts)
    if fs is not None:
        data = io.BytesIO(fs.cat_file(uri))
        return scan(ds.format, data, None, dtypes)
    return scan(ds.format, uri, opts, dtypes)


def exists(
    uri: str, storage_options: Mapping[str, str] | None = None, fmt: str = "parquet"
) -> bool:
    """Whether data in format ``fmt`` is stored at ``uri``: other URLs than fsspec routes are
    probed with the format's own scanner (a csv or ndjson object is not valid parquet)."""
    if not is_remote(uri):
        return os.path.exists(uri)
    opts = options_for(uri, storage_options)
    fs = filesystem(uri, opts)
    if fs is not None:
        return bool(fs.exists(uri))
    try:
        scan(fmt, uri, opts).collect_schema()
    except Exception:
        return False
    return True


__all__ = ["exists", "filesystem", "is_remote", "options_for", "scan_dataset"]
