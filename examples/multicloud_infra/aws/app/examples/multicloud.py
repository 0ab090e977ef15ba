"""Example: one pipeline over two clouds: legacy orders stay in S3, processing runs on GCP.

    glacier plan examples/multicloud.py --target multi --default gcp
    glacier compile examples/multicloud.py --target multi --default gcp --out examples/multicloud_infra

The orders bucket already exists in AWS (``S3(..., create=False)``); every task runs on Google
Cloud (generic compute goes to the default provider, ``CloudFunction`` asks for it), and the
results live in GCS. The one task that reads S3 gets an AWS role trusting only its service
account: no AWS key is stored anywhere. ``infra/README.md`` says in which order to deploy
the two stacks, how they find each other and how to start a run; the plan prints the
cross-provider transfer and what it costs a month for the ``expected_gb`` hint below.
The generated stacks are checked in under ``examples/multicloud_infra/`` (the vendored
Glacier packages in ``*/app/`` are left out of git).
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3
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
ranking = Dataset("ranking", storage=ObjectStorage())

pipeline = Pipeline(
    name="legacy_sales", schedule="0 5 * * *", description="S3 orders, GCP analytics"
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
