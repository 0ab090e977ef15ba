"""Pipelines spread over clouds, defined at module level so the compilers can bundle them."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3
from glacier_gcp.compute import CloudFunction
from glacier_gcp.storage import GCS

orders = Dataset(
    "orders", storage=S3("legacy-orders", region="us-east-1"), metadata={"expected_gb": 50}
)
cleaned = Dataset("cleaned", storage=ObjectStorage())
totals = Dataset("totals", storage=GCS("team-totals", location="us-central1"))
report = Dataset("report", storage=ObjectStorage())

pipeline = Pipeline(name="spread", schedule="0 3 * * *")


@pipeline.task(compute=CloudFunction(memory=1024))
def clean(rows: orders) -> cleaned:
    """Runs on GCP, reads the legacy S3 data."""
    return rows.filter(pl.col("amount") > 0)


@pipeline.task(compute=compute.serverless())
def summarise(rows: cleaned) -> totals:
    """Runs on the default provider."""
    return rows.group_by("store").agg(pl.col("amount").sum())


@pipeline.task(compute=CloudFunction())
def publish(rows: totals) -> report:
    """Runs on GCP, keeps the report on the default provider."""
    return rows.sort("store")
