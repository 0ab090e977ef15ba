"""A four-task pipeline for the Azure compiler tests: every storage and compute flavour."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage
from glacier_azure.compute import AzureFunction, ContainerApp
from glacier_azure.storage import BlobStorage

orders = Dataset(
    "orders",
    storage=BlobStorage("landing", account="acmelanding", prefix="incoming/", create=False),
)
customers = Dataset("customers", storage=ObjectStorage(), format="csv")
valid = Dataset("valid")  # ephemeral
by_customer = Dataset(
    "by_customer",
    storage=ObjectStorage("infrequent", retention_days=365),
    description="Order totals per customer",
)
report = Dataset("report", storage=BlobStorage("reports", tier="Cold"), format="delta")

pipeline = Pipeline(name="orders", schedule="0 2 * * 1-5")


@pipeline.task(compute=compute.serverless(memory=2048, timeout=60, env={"MODE": "prod"}), retries=2)
def validate(raw: orders) -> valid:
    return raw.filter(pl.col("amount") > 0)


@pipeline.task(
    compute=AzureFunction(memory=4096, timeout=100, env={"API_KEY": Secret("orders/api-key")})
)
def enrich(rows: valid, people: customers) -> by_customer:
    return rows.join(people, on="customer_id").group_by("customer_id").agg(pl.col("amount").sum())


@pipeline.task(compute=ContainerApp(cpu=2, memory=4096, env={"TOKEN": Secret("orders/token")}))
def publish(totals: by_customer) -> report:
    return totals.sort("amount", descending=True)


@pipeline.task(compute=compute.serverless(timeout=3000), retries=1)
def audit(raw: orders) -> Dataset("audit", storage=ObjectStorage(versioning=False)):  # type: ignore[valid-type]
    return raw.select(pl.len().alias("rows"))
