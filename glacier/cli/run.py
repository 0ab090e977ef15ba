"""``glacier run REF``: run a pipeline locally and print a summary table.

    glacier run REF [--select DS ...] [--force] [--root DIR] [--input NAME=PATH ...]
                    [--param TASK.PARAM=VALUE ...] [--remote] [--no-progress] [--explain]

``--param`` values are parsed per the parameter's annotation (``5`` for a float, ``true`` for
a bool, JSON for a list or dict, ``null`` for None, the text itself for a str); a value that
does not parse is one error line (``--param split.min_total=abc: expected a float``). An
unannotated parameter takes JSON when the text parses as JSON, else the text. A failed task
prints the summary, then one error line naming the task, and exits 1. ``--explain`` first prints, per task, whether it runs or is
skipped and why (what changed since its last run), then runs the pipeline as usual.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from glacier.errors import DefinitionError, TaskFailedError
from glacier.executor import LocalExecutor
from glacier.loader import load_pipeline
from glacier.params import parse_cli_params


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a pipeline locally on Polars",
        description="Run a pipeline locally: stale tasks only, unless --force.",
    )
    parser.add_argument(
        "ref", metavar="REF", help="path/to/file.py[:attr] or package.module[:attr]"
    )
    parser.add_argument(
        "--select", nargs="+", metavar="DS", default=None, help="run only what these datasets need"
    )
    parser.add_argument("--force", action="store_true", help="rerun every task, even fresh ones")
    parser.add_argument("--root", default=".glacier", help="where stored datasets live (.glacier)")
    parser.add_argument(
        "--input", action="append", default=[], metavar="NAME=PATH", help="data for a source"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="TASK.PARAM=VALUE", help="task parameter"
    )
    parser.add_argument(
        "--remote", action="store_true", help="read/write the datasets' real cloud object URLs"
    )
    parser.add_argument("--no-progress", action="store_true", help="no live progress display")
    parser.add_argument(
        "--explain", action="store_true", help="print why each task runs or is skipped, then run"
    )


def _pairs(values: list[str], option: str, example: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        name, eq, value = item.partition("=")
        if not eq or not name or not value:
            raise DefinitionError(f"{option} {item!r}: expected {example}")
        pairs[name.strip()] = value
    return pairs


def run(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(args.ref)
    inputs = _pairs(args.input, "--input", "NAME=PATH, e.g. --input orders=data/orders.parquet")
    raw = _pairs(args.param, "--param", "TASK.PARAM=VALUE, e.g. --param split.min_total=5")
    params = parse_cli_params(pipeline.tasks, raw)
    executor = LocalExecutor(
        storage="remote" if args.remote else "local",
        root=args.root,
        progress=False if args.no_progress else None,
    )
    console = Console()
    try:
        result = executor.run(
            pipeline,
            inputs=inputs,
            params=params,
            select=args.select,
            force=args.force,
            explain=args.explain,
        )
    except TaskFailedError as exc:
        if exc.result is not None:
            console.print(exc.result)
        raise
    console.print(result)
    return 0
