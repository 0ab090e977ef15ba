"""Tasks with a timeout defined at module level, so a worker process can import them.

Each writes what it does to a log file in the working folder (the test's): a worker
process's side effects are invisible to the test process's memory, not to its files.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage

LOG = "attempts.log"

raw = Dataset("raw")
side = Dataset("side")
out = Dataset("out", storage=ObjectStorage())
extra = Dataset("extra")


def log(line: str) -> None:
    with open(LOG, "a") as fh:
        fh.write(f"{line} {os.getpid()}\n")


def lines() -> list[str]:
    """The logged lines, without pids."""
    path = Path(LOG)
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


def pids() -> set[int]:
    return {int(line.split()[1]) for line in Path(LOG).read_text().splitlines()}


late = Pipeline(name="late")


@late.task(timeout=0.4, retries=1)
def sleepy(r: raw, seconds: float = 1.5) -> out:
    """Sleeps past its timeout, then logs: a killed attempt never logs ``late``."""
    log("start")
    time.sleep(seconds)
    log("late")
    return r


slow_query = Pipeline(name="slow_query")


def _slow_udf(s: pl.Series) -> pl.Series:
    time.sleep(1.5)
    log("late")
    return s


@slow_query.task(timeout=0.4)
def slow_sum(r: raw) -> out:
    """Its time goes to its Polars query (a slow Python function inside it)."""
    log("start")
    return r.with_columns(pl.col("x").map_batches(_slow_udf, return_dtype=pl.Int64))


worked = Pipeline(name="worked")


@worked.task()
def prepare(r: raw) -> side:
    """A plan holding a Python function: it cannot be pickled, its data is sent instead."""
    return r.with_columns(y=pl.col("x").map_batches(lambda s: s * 10, return_dtype=pl.Int64))


@worked.task(timeout=60)
def combine(r: Annotated[pl.DataFrame, raw], s: side, offset: int = 0) -> tuple[out, extra]:
    """Runs in a worker: says which process it ran in, and returns two outputs."""
    log("ran")
    joined = s.join(r.lazy(), on="x").with_columns(pl.col("y") + offset, pid=pl.lit(os.getpid()))
    return joined, r.with_columns(z=pl.col("x") * 2)


failing = Pipeline(name="failing")


@failing.task(timeout=60, retries=3)
def missing_column(r: raw) -> out:
    log("missing")
    return r.select("no_such_column")


@failing.task(timeout=60, retries=2)
def flaky_disk(r: raw) -> None:
    log("flaky")
    if lines().count("flaky") < 2:
        raise OSError("disk hiccup")


secretive = Pipeline(name="secretive")


@secretive.task(
    timeout=60, compute=compute.serverless(env={"MODE": "batch", "API_TOKEN": Secret("api")})
)
def with_env(r: raw) -> out:
    """Runs in a worker: logs the environment it sees there."""
    log(f"{os.environ.get('MODE')}:{os.environ.get('API_TOKEN')}")
    return r
