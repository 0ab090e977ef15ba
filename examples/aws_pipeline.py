"""Example: a daily sales pipeline compiled to AWS.

    glacier plan examples/aws_pipeline.py --target aws
    glacier compile examples/aws_pipeline.py --target aws --out examples/aws_pipeline_infra

The generated stack is checked in under ``examples/aws_pipeline_infra/`` as the golden
reference (the vendored Glacier packages in ``aws/app/`` are left out of git).
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3

sales = Dataset(
    "sales",
    storage=S3("example-sales-landing", prefix="daily/"),
    schema={"store": pl.Utf8, "amount": pl.Float64},
    description="Raw point-of-sale exports, one file per day",
)
stores = Dataset("stores", storage=ObjectStorage(), format="csv")
cleaned = Dataset("cleaned")  # ephemeral: lives in the pipeline's intermediate bucket
by_store = Dataset(
    "by_store",
    storage=ObjectStorage("infrequent", retention_days=730),
    description="Revenue per store",
    metadata={"owner": "finance"},
)

pipeline = Pipeline(name="sales", schedule="30 4 * * *", description="Daily revenue per store")


@pipeline.task(compute=compute.serverless(memory=1024, timeout=120), retries=2)
def clean(raw: sales) -> cleaned:
    """Drop refunds and empty rows."""
    return raw.filter(pl.col("amount") > 0)


@pipeline.task(
    compute=compute.serverless(
        memory=2048, timeout=300, env={"CURRENCY": "EUR", "FX_KEY": Secret("sales/fx")}
    ),
    retries=1,
)
def summarise(rows: cleaned, shops: stores) -> by_store:
    """Revenue per store, joined with the store directory."""
    totals = rows.group_by("store").agg(pl.col("amount").sum().alias("revenue"))
    return totals.join(shops, on="store", how="left")
