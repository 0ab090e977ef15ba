"""Example: one pipeline over three clouds: legacy orders stay in S3, processing runs on GCP,
the published report lives in Azure.

    glacier plan examples/multicloud.py --target multi --default gcp
    glacier compile examples/multicloud.py --target multi --default gcp --out examples/multicloud_infra

The orders bucket already exists in AWS (``S3(..., create=False)``); the processing runs on
Google Cloud (generic compute goes to the default provider, ``CloudFunction`` asks for it)
and keeps its results in GCS, except the ranking, shared in S3 with the legacy tools; an
Azure function publishes it to Blob storage. Each task that reads or writes S3 from another
cloud gets an AWS role trusting only its own identity (a Google service account, an Azure
managed identity): no AWS key is stored anywhere. ``infra/README.md`` says in which order to
deploy the three stacks, how they find each other and how to start a run; the plan prints
each cross-provider transfer and what it costs a month for the ``expected_gb`` hints below.
The generated stacks are checked in under ``examples/multicloud_infra/`` (the vendored
Glacier packages in ``*/app/`` are left out of git).
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3
from glacier_azure.compute import AzureFunction
from glacier_azure.storage import BlobStorage
from glacier_gcp.compute import CloudFunction

orders = Dataset(
    "orders",
    storage=S3("example-legacy-orders", prefix="exports/", region="us-east-1", create=False),
    schema={"store": pl.Utf8, "amount": pl.Float64},
    description="Legacy point-of-sale exports, kept in S3",
    metadata={"expected_gb": 20},  # GB one run reads across clouds: the transfer estimate
)
valid = Dataset("valid")  # ephemeral: the GCP stack's intermediate bucket
by_store = Dataset("by_store", storage=ObjectStorage(), description="Revenue per store")
ranking = Dataset(
    "ranking",
    storage=S3("example-shared-ranking", region="us-east-1"),
    description="Stores by revenue, shared with the legacy tools",
    metadata={"expected_gb": 0.01},
)
report = Dataset("report", storage=BlobStorage("reports"), description="The published ranking")

pipeline = Pipeline(
    name="legacy_sales", schedule="0 5 * * *", description="S3 orders, GCP analytics, Azure report"
)


@pipeline.task(compute=CloudFunction(memory=2048, timeout=300), retries=2)
def validate(raw: orders) -> valid:
    """Read the legacy orders across clouds once, keep the sales."""
    return raw.filter(pl.col("amount") > 0)


@pipeline.task(compute=compute.serverless(memory=1024))
def summarise(rows: valid) -> by_store:
    """Revenue per store."""
    return rows.group_by("store").agg(pl.col("amount").sum().alias("revenue"))


@pipeline.task(compute=compute.serverless())
def rank(totals: by_store) -> ranking:
    """Stores by revenue, best first."""
    return totals.sort("revenue", descending=True)


@pipeline.task(compute=AzureFunction(memory=2048))
def publish(ranked: ranking) -> report:
    """The ten best stores, for the team working in Azure."""
    return ranked.head(10)
