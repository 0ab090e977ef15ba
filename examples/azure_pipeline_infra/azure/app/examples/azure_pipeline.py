"""Example: a daily sales pipeline compiled to Azure.

    glacier plan examples/azure_pipeline.py --target azure
    glacier compile examples/azure_pipeline.py --target azure --out examples/azure_pipeline_infra

The generated stack is checked in under ``examples/azure_pipeline_infra/`` as the golden
reference (the vendored Glacier packages in ``azure/app/`` are left out of git). The stack
creates its own resource group unless ``pulumi config set glacier:resourceGroup`` names one.
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage
from glacier_azure.storage import BlobStorage

sales = Dataset(
    "sales",
    storage=BlobStorage("landing", account="examplesalesdrop", prefix="daily/", create=False),
    schema={"store": pl.Utf8, "amount": pl.Float64},
    description="Raw point-of-sale exports, one file per day",
)
stores = Dataset("stores", storage=ObjectStorage(), format="csv")
cleaned = Dataset("cleaned")  # ephemeral: lives in the pipeline's work container
by_store = Dataset(
    "by_store",
    storage=ObjectStorage("infrequent", retention_days=730),
    description="Revenue per store",
    metadata={"owner": "finance"},
)
ranking = Dataset("ranking", storage=ObjectStorage())

pipeline = Pipeline(name="sales", schedule="30 4 * * *", description="Daily revenue per store")


@pipeline.task(compute=compute.serverless(memory=1024, timeout=90), retries=2)
def clean(raw: sales) -> cleaned:
    """Drop refunds and empty rows."""
    return raw.filter(pl.col("amount") > 0)


@pipeline.task(
    compute=compute.serverless(
        memory=2048, timeout=600, env={"CURRENCY": "EUR", "FX_KEY": Secret("sales-fx")}
    ),
    retries=1,
)
def summarise(rows: cleaned, shops: stores) -> by_store:
    """Revenue per store, joined with the store directory."""
    totals = rows.group_by("store").agg(pl.col("amount").sum().alias("revenue"))
    return totals.join(shops, on="store", how="left")


@pipeline.task(compute=compute.container(cpu=1, memory=2048))
def rank(totals: by_store) -> ranking:
    """Stores by revenue, best first."""
    return totals.sort("revenue", descending=True)
