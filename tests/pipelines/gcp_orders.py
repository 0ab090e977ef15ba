"""A four-task pipeline for the GCP compiler tests: every storage and compute flavour."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage
from glacier_gcp.compute import CloudFunction, CloudRun
from glacier_gcp.storage import GCS

orders = Dataset("orders", storage=GCS("acme-orders-landing", prefix="incoming/", create=False))
customers = Dataset("customers", storage=ObjectStorage(), format="csv")
valid = Dataset("valid")  # ephemeral
by_customer = Dataset(
    "by_customer",
    storage=ObjectStorage("infrequent", retention_days=365),
    description="Order totals per customer",
)
report = Dataset(
    "report", storage=GCS("acme-orders-report", storage_class="COLDLINE"), format="delta"
)

pipeline = Pipeline(name="orders", schedule="0 2 * * 1-5")


@pipeline.task(
    compute=compute.serverless(memory=2048, timeout=120, env={"MODE": "prod"}), retries=2
)
def validate(raw: orders) -> valid:
    return raw.filter(pl.col("amount") > 0)


@pipeline.task(
    compute=CloudFunction(memory=4096, timeout=600, env={"API_KEY": Secret("orders/api-key")})
)
def enrich(rows: valid, people: customers) -> by_customer:
    return rows.join(people, on="customer_id").group_by("customer_id").agg(pl.col("amount").sum())


@pipeline.task(compute=CloudRun(cpu=2, memory=8192, env={"TOKEN": Secret("orders/token")}))
def publish(totals: by_customer) -> report:
    return totals.sort("amount", descending=True)


@pipeline.task(compute=compute.serverless(timeout=3000), retries=1)
def audit(raw: orders) -> Dataset("audit", storage=ObjectStorage(versioning=False)):  # type: ignore[valid-type]
    return raw.select(pl.len().alias("rows"))
