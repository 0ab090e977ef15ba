"""A four-task pipeline for the AWS compiler tests: every storage and compute flavour."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3

orders = Dataset("orders", storage=S3("acme-orders-landing", prefix="incoming/"))
customers = Dataset("customers", storage=ObjectStorage(), format="csv")
valid = Dataset("valid")  # ephemeral
by_customer = Dataset(
    "by_customer",
    storage=ObjectStorage("infrequent", retention_days=365),
    description="Order totals per customer",
    metadata={"owner": "finance"},
)
report = Dataset(
    "report", storage=ObjectStorage(aws_storage_class="INTELLIGENT_TIERING"), format="delta"
)

pipeline = Pipeline(name="orders", schedule="0 2 * * *")


@pipeline.task(
    compute=compute.serverless(memory=2048, timeout=120, env={"MODE": "prod"}), retries=2
)
def validate(raw: orders) -> valid:
    return raw.filter(pl.col("amount") > 0)


@pipeline.task(compute=Lambda(memory=4096, timeout=600, env={"API_KEY": Secret("orders/api-key")}))
def enrich(rows: valid, people: customers) -> by_customer:
    return rows.join(people, on="customer_id").group_by("customer_id").agg(pl.col("amount").sum())


@pipeline.task(compute=compute.container(cpu=2, memory=8192, env={"TOKEN": Secret("orders/token")}))
def publish(totals: by_customer) -> report:
    return totals.sort("amount", descending=True)
