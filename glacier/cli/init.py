"""``glacier init [DIR]``: scaffold a project that ``glacier run`` runs as it is.

It writes a ``glacier.toml`` (the pipeline, the root, the sample input, a ``prod``
environment), a two-task ``pipeline.py``, ``data/orders.csv`` and ``tests/test_pipeline.py``.
An existing file is never overwritten: the command names the files in the way and writes
nothing (``--force`` overwrites them).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from glacier.errors import DefinitionError

CONFIG = """\
# Glacier project settings. Relative paths are relative to this file's folder.
pipeline = "pipeline.py"   # what `glacier run` runs when no REF is given
root = ".glacier"          # where stored datasets live in a local run

[inputs]                   # source dataset -> path or URL
orders = "data/orders.csv"

[params]                   # "task.param" = value
"summarize.min_total" = 0.0

[env.prod]                 # `glacier run --env prod` applies these over the above
root = ".glacier-prod"
params = { "summarize.min_total" = 10.0 }
"""

PIPELINE = '''\
"""{name}: clean the orders, then total them per customer."""

import polars as pl

from glacier import Dataset, Pipeline, get_logger
from glacier.storage import ObjectStorage

# a local run reads orders from glacier.toml's [inputs]; in the cloud, from its bucket
orders = Dataset(
    "orders",
    storage=ObjectStorage(),
    format="csv",
    schema={{"order_id": pl.Int64, "customer": pl.String, "amount": pl.Float64}},
)
valid_orders = Dataset("valid_orders")  # no storage: flows between tasks in memory
totals = Dataset("totals", storage=ObjectStorage())

pipeline = Pipeline(name="{name}")


@pipeline.task()
def clean(data: orders) -> valid_orders:
    return data.filter(pl.col("amount") > 0)


@pipeline.task()
def summarize(data: valid_orders, min_total: float = 0.0) -> totals:
    get_logger().info("keeping customers with a total of at least %s", min_total)
    return (
        data.group_by("customer")
        .agg(total=pl.col("amount").sum())
        .filter(pl.col("total") >= min_total)
        .sort("customer")
    )
'''

DATA = """\
order_id,customer,amount
1,ada,12.5
2,grace,7.0
3,ada,-1.0
4,linus,30.0
5,grace,4.5
"""

TEST = '''\
"""The pipeline on a small frame: run it as `pytest` from the project folder."""

import polars as pl

from pipeline import pipeline


def test_totals_per_customer(tmp_path):
    orders = pl.DataFrame(
        {{"order_id": [1, 2, 3], "customer": ["a", "b", "a"], "amount": [1.0, -2.0, 3.0]}}
    )
    result = pipeline.run(inputs={{"orders": orders}}, root=tmp_path, force=True)
    totals = result["totals"].collect()
    assert totals.to_dicts() == [{{"customer": "a", "total": 4.0}}]
'''


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="scaffold a project: config, a pipeline, sample data and a test",
        description="Write glacier.toml, pipeline.py, data/orders.csv and tests/test_pipeline.py.",
    )
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR", help="project folder (.)")
    parser.add_argument("--name", default=None, help="pipeline name (default: the folder's name)")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")


def _pipeline_name(folder: Path, given: str | None) -> str:
    import re

    if given is not None:
        return given
    name = re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-_")
    return name[:40] if name[:1].isalpha() else f"project-{name}"[:40].strip("-")


def scaffold(folder: Path, name: str, force: bool = False) -> list[Path]:
    """Write the project files into ``folder``; the paths written, in order."""
    files = {
        "glacier.toml": CONFIG,
        "pipeline.py": PIPELINE.format(name=name),
        "data/orders.csv": DATA,
        "tests/test_pipeline.py": TEST.format(),
    }
    there = [rel for rel in files if (folder / rel).exists()]
    if there and not force:
        msg = (
            f"glacier init: {', '.join(there)} already exist in {folder}; nothing was written "
            "(use an empty folder, or --force to overwrite them)"
        )
        raise DefinitionError(msg)
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    name = _pipeline_name(folder, args.name)
    from glacier.pipeline import _PIPELINE_NAME

    if not _PIPELINE_NAME.fullmatch(name):
        msg = f"--name {name!r}: expected 1-40 characters, a lowercase letter first, then a-z, 0-9, '_' or '-'"
        raise DefinitionError(msg)
    for path in scaffold(folder, name, args.force):
        print(f"wrote {path}")
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {args.dir} && "
    print(f"next: {where}glacier run   (then: glacier show totals; pytest tests)")
    return 0
