"""Datasets in S3 buckets the pipeline does not own: a landing bucket it reads, a lake it writes."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3

landing = Dataset("landing", storage=S3("acme-landing", prefix="in/", create=False))
lake = Dataset("lake", storage=S3("acme-lake", prefix="sales", create=False))
summary = Dataset("summary", storage=ObjectStorage())

pipeline = Pipeline(name="ext")


@pipeline.task()
def load(rows: landing) -> lake:
    return rows.filter(pl.col("amount") > 0)


@pipeline.task()
def summarize(rows: lake) -> summary:
    return rows.group_by("region").agg(pl.col("amount").sum())
