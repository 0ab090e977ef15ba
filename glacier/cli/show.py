"""``glacier show DATASET [--head N]``: print the first rows of a stored dataset.

DATASET is a dataset name of the pipeline (``--ref REF``, else the project configuration's
``pipeline``), read where a local run keeps it (``--root``, else the configured root, else
``.glacier``) or, for a source, where the configuration's ``[inputs]`` points; or a path to a
data file (parquet, csv, json/ndjson, ipc).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from glacier.errors import InputError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show",
        help="print the first rows of a stored dataset",
        description="Print the head of a dataset a local run stored, or of a data file.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="a dataset name or a data file path")
    parser.add_argument("--head", type=int, default=10, metavar="N", help="rows to show (10)")
    parser.add_argument("--ref", default=None, metavar="REF", help="the pipeline (default: config)")
    parser.add_argument("--root", default=None, help="the run's root (default: config, .glacier)")
    parser.add_argument(
        "--env", default=None, metavar="NAME", help="apply [env.NAME] of the config"
    )


_READERS: dict[str, Callable[[Path], pl.LazyFrame]] = {
    ".parquet": pl.scan_parquet,
    ".csv": pl.scan_csv,
    ".ndjson": pl.scan_ndjson,
    ".jsonl": pl.scan_ndjson,
    ".ipc": pl.scan_ipc,
    ".arrow": pl.scan_ipc,
    ".feather": pl.scan_ipc,
}


def _from_file(path: Path) -> pl.LazyFrame:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(_READERS))
        raise InputError(f"glacier show {path}: unknown file type {path.suffix!r}; known: {known}")
    return reader(path)


def _from_pipeline(args: argparse.Namespace) -> tuple[pl.LazyFrame, str]:
    from glacier.cli.run import resolve_ref
    from glacier.executor.locations import Locator
    from glacier.io import exists, scan_dataset
    from glacier.loader import load_pipeline
    from glacier.project import apply_config

    pipeline = load_pipeline(resolve_ref(args.ref, args.env))
    validated = pipeline.validated()
    names = [d.name for d in validated.ir.datasets]
    if args.dataset not in names:
        msg = (
            f"glacier show {args.dataset}: pipeline {pipeline.name!r} has no dataset "
            f"{args.dataset!r} and no such file exists; its datasets: {', '.join(names)}"
        )
        raise InputError(msg)
    config, inputs, _ = apply_config(validated, args.env, {}, {})
    ds = validated.ir.dataset(args.dataset)
    root = args.root or config.root or ".glacier"
    uri = inputs.get(ds.name) or Locator(root).uri(ds)
    if uri is None:
        msg = (
            f"glacier show {ds.name}: the dataset is ephemeral (no storage), so no run keeps it; "
            "give it storage, or read it with result[name] after pipeline.run()"
        )
        raise InputError(msg)
    if not exists(uri, None, ds.format):
        msg = f"glacier show {ds.name}: no data at {uri}; run the pipeline first (glacier run)"
        raise InputError(msg)
    return scan_dataset(ds, uri, None), uri


def run(args: argparse.Namespace) -> int:
    if args.head < 0:
        raise InputError(f"--head {args.head}: expected a number of rows, 0 or more")
    path = Path(args.dataset)
    if path.suffix and path.is_file():
        frame, where = _from_file(path), str(path)
    else:
        frame, where = _from_pipeline(args)
    head = frame.head(args.head).collect()
    with pl.Config(tbl_rows=max(args.head, 1), tbl_cols=-1, fmt_str_lengths=60):
        print(f"{args.dataset} ({where}), first {head.height} rows:")
        print(head)
    return 0
