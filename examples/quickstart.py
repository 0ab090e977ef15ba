"""The quickstart pipeline: orders and customers in, cleaned, joined, aggregated.

    orders ----> clean_orders ----> valid_orders --+
                                                   +--> enrich --> enriched --+--> revenue_by_country
    customers -> clean_customers -> known_customers+                          +--> top_customers

``orders`` and ``customers`` are sources (no task produces them). ``valid_orders`` and
``known_customers`` have no storage: they are ephemeral and flow between tasks as Polars
LazyFrames. The other datasets are stored in object storage (S3/GCS/Blob when compiled, a
local folder in a local run) and the two reports carry a schema that is checked on write.
"""

from __future__ import annotations

from typing import Annotated

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

orders = Dataset(
    "orders",
    storage=ObjectStorage(),
    schema={
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "amount": pl.Float64,
        "ordered_at": pl.Date,
    },
    description="Raw orders as exported by the shop",
)
customers = Dataset("customers", storage=ObjectStorage(), description="Customer master data")
valid_orders = Dataset("valid_orders", description="Orders with a positive amount and a customer")
known_customers = Dataset("known_customers", description="Customers with a country, deduplicated")
enriched = Dataset(
    "enriched",
    storage=ObjectStorage("infrequent", aws_storage_class="INTELLIGENT_TIERING"),
    description="Valid orders joined with their customer's country",
)
revenue_by_country = Dataset(
    "revenue_by_country",
    storage=ObjectStorage(),
    schema={"country": pl.String, "orders": pl.UInt32, "revenue": pl.Float64},
    format="csv",
    description="Order count and revenue per country",
)
top_customers = Dataset(
    "top_customers",
    storage=ObjectStorage(),
    schema={"customer_id": pl.Int64, "name": pl.String, "revenue": pl.Float64},
    description="The customers with the highest revenue",
)

pipeline = Pipeline(name="quickstart", schedule="0 2 * * *", description="Daily sales reports")


@pipeline.task(compute=compute.serverless(memory=1024, timeout=300), retries=2)
def clean_orders(data: orders) -> valid_orders:
    """Drop orders without a customer or with a non-positive amount."""
    return data.filter(pl.col("customer_id").is_not_null() & (pl.col("amount") > 0))


@pipeline.task(compute=compute.serverless(memory=512))
def clean_customers(data: customers) -> known_customers:
    """Keep one row per customer, and only customers whose country is known."""
    return data.filter(pl.col("country").is_not_null()).unique("customer_id", keep="first")


@pipeline.task(compute=compute.container(cpu=2, memory=4096))
def enrich(order_rows: valid_orders, people: Annotated[pl.LazyFrame, known_customers]) -> enriched:
    """Attach each order's customer name and country (orders of unknown customers drop out)."""
    return order_rows.join(people, on="customer_id", how="inner")


@pipeline.task()
def revenue_per_country(data: enriched) -> revenue_by_country:
    """Order count and revenue per country, largest first."""
    return (
        data.group_by("country")
        .agg(orders=pl.len(), revenue=pl.col("amount").sum().round(2))
        .sort("revenue", "country", descending=[True, False])
    )


@pipeline.task()
def rank_customers(data: enriched, top_n: int = 10) -> top_customers:
    """The ``top_n`` customers by revenue (``top_n`` can be overridden at run time)."""
    return (
        data.group_by("customer_id", "name")
        .agg(revenue=pl.col("amount").sum().round(2))
        .sort("revenue", "customer_id", descending=[True, False])
        .head(top_n)
    )
