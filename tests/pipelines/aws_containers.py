"""Two container tasks for the AWS operations tests: one with a declared timeout, one without."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

raw = Dataset("raw", storage=ObjectStorage())
clean = Dataset("clean", storage=ObjectStorage(retention_days=7))
summary = Dataset("summary", storage=ObjectStorage(versioning=False))

pipeline = Pipeline(name="boxes", schedule="0 * * * *")


@pipeline.task(compute=compute.container(cpu=1, memory=2048))
def scrub(rows: raw) -> clean:
    return rows.filter(pl.col("amount") > 0)


@pipeline.task(compute=compute.container(cpu=1, memory=2048), timeout=600, retries=1)
def total(rows: clean) -> summary:
    return rows.group_by("region").agg(pl.col("amount").sum())
