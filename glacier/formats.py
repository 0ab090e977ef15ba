"""Dataset formats as Polars reads and writes them: one place maps a format's name to its
scanner, its sink and its writer, and to the package it needs beyond Polars."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Iterable
from typing import Any

import polars as pl

from glacier.errors import DefinitionError
from glacier.ir import DatasetIR
from glacier.schema import polars_schema

#: Formats whose Polars readers and writers need a package beyond Polars: (module, extra).
FORMAT_PACKAGES = {"delta": ("deltalake", "delta")}


def require_format_packages(datasets: Iterable[DatasetIR]) -> None:
    """A DefinitionError, before anything runs, when a dataset's format needs a package that is
    not installed (Polars imports deltalake only when a delta table is read or written)."""
    for ds in datasets:
        need = FORMAT_PACKAGES.get(ds.format)
        if need and importlib.util.find_spec(need[0]) is None:
            msg = (
                f"dataset {ds.name!r} has format {ds.format!r}, which needs the {need[0]} "
                f"package; it is not installed: pip install 'glacier[{need[1]}]'"
            )
            raise DefinitionError(msg)


def text_dtypes(ds: DatasetIR) -> dict[str, pl.DataType] | None:
    """Declared dtypes to parse a csv/ndjson dataset with.

    Text formats do not store dtypes: inferred, a Date column written by one run reads back as
    String in the next, and a task reading a skipped task's output would see other types than
    in a full run (and fail its own schema check). Binary formats keep their dtypes.
    """
    if ds.format not in ("csv", "ndjson") or ds.schema_ is None:
        return None
    return dict(polars_schema(ds.schema_))


def scan(
    fmt: str,
    source: Any,
    opts: dict[str, str] | None,
    dtypes: dict[str, pl.DataType] | None = None,
) -> pl.LazyFrame:
    if fmt == "parquet":
        return pl.scan_parquet(source, storage_options=opts)
    if fmt == "csv":  # unknown columns in schema_overrides are ignored by the csv reader
        if isinstance(source, io.BytesIO):
            return pl.read_csv(source, schema_overrides=dtypes).lazy()
        return pl.scan_csv(source, storage_options=opts, schema_overrides=dtypes)
    if fmt == "ndjson":
        return _scan_ndjson(source, opts, dtypes)
    if fmt == "ipc":
        return pl.scan_ipc(source, storage_options=opts)
    if fmt == "delta":
        return pl.scan_delta(source, storage_options=opts)
    raise ValueError(f"unknown dataset format {fmt!r}")


def _scan_ndjson(
    source: Any, opts: dict[str, str] | None, dtypes: dict[str, pl.DataType] | None
) -> pl.LazyFrame:
    """ndjson with declared dtypes for the columns present (unlike csv, the ndjson reader
    fails on an override naming a missing column; a missing column is the schema check's
    to report, with the dataset's name)."""
    if isinstance(source, io.BytesIO):
        frame = pl.read_ndjson(source)
        present = {c: t for c, t in (dtypes or {}).items() if c in frame.columns}
        if not present:
            return frame.lazy()
        source.seek(0)
        return pl.read_ndjson(source, schema_overrides=present).lazy()
    lazy = pl.scan_ndjson(source, storage_options=opts)
    if not dtypes:
        return lazy
    columns = lazy.collect_schema().names()
    present = {c: t for c, t in dtypes.items() if c in columns}
    if not present:
        return lazy
    return pl.scan_ndjson(source, storage_options=opts, schema_overrides=present)


def sink(fmt: str, lf: pl.LazyFrame, target: str, opts: dict[str, str] | None) -> pl.LazyFrame:
    """A lazy sink of ``lf`` to ``target`` (any format but delta, which has its own log)."""
    result = getattr(lf, f"sink_{fmt}")(target, storage_options=opts, lazy=True)
    assert isinstance(result, pl.LazyFrame)
    return result


def write_frame(fmt: str, df: pl.DataFrame, target: io.BytesIO) -> None:
    """Write ``df`` to ``target`` in ``fmt`` (every format but delta)."""
    getattr(df, f"write_{fmt}")(target)


__all__ = [
    "FORMAT_PACKAGES",
    "require_format_packages",
    "scan",
    "sink",
    "text_dtypes",
    "write_frame",
]
