"""A pipeline that needs Azure storage (for the missing-compiler error)."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3
from glacier_azure.storage import BlobStorage

orders = Dataset("orders", storage=S3("legacy-orders"))
archive = Dataset("archive", storage=BlobStorage("archive"))
pipeline = Pipeline(name="needs_azure")


@pipeline.task(compute=Lambda())
def keep(rows: orders) -> archive:
    return rows.filter(pl.col("amount") > 0)
