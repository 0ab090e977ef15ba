"""A shop pipeline for the cloud runtime tests: fan-out, fan-in, an ephemeral dataset, schemas.

orders, customers -> enrich -> enriched (ephemeral) -> split    -> big, small
                                                   -> by_country -> country_totals
big, small, country_totals -> summarize -> summary
"""

from __future__ import annotations

from typing import Optional

import polars as pl
from pydantic import BaseModel

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage


class Summary(BaseModel):
    metric: str
    value: float
    note: Optional[str]  # Optional: nullable (the other fields must hold no nulls)


orders = Dataset("orders", storage=ObjectStorage())
customers = Dataset("customers", storage=ObjectStorage(), format="csv")
enriched = Dataset("enriched")
big = Dataset("big", storage=ObjectStorage())
small = Dataset("small", storage=ObjectStorage(), format="ndjson")
country_totals = Dataset(
    "country_totals",
    storage=ObjectStorage("infrequent"),
    schema={"country": pl.String, "total": pl.Float64, "orders": pl.UInt32},
)
summary = Dataset("summary", storage=ObjectStorage(), schema=Summary)

pipeline = Pipeline(name="shop")


@pipeline.task(compute=compute.serverless(memory=512), retries=2)
def enrich(o: orders, c: customers) -> enriched:
    return o.join(c, on="customer_id", how="left").with_columns(
        pl.col("country").fill_null("unknown")
    )


@pipeline.task()
def split(data: enriched, min_total: float = 10.0) -> tuple[big, small]:
    return data.filter(pl.col("amount") >= min_total), data.filter(pl.col("amount") < min_total)


@pipeline.task(compute=compute.container(cpu=1))
def by_country(data: enriched) -> country_totals:
    return (
        data.group_by("country").agg(total=pl.col("amount").sum(), orders=pl.len()).sort("country")
    )


@pipeline.task()
def summarize(b: big, s: small, totals: country_totals) -> summary:
    counts = pl.concat(
        [
            b.select(metric=pl.lit("big_orders"), value=pl.len().cast(pl.Float64)),
            s.select(metric=pl.lit("small_orders"), value=pl.len().cast(pl.Float64)),
            totals.select(metric=pl.lit("revenue"), value=pl.col("total").sum()),
        ]
    )
    return counts.with_columns(note=pl.when(pl.col("value") > 0).then(pl.lit("ok")))


def sample_orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": list(range(1, 13)),
            "customer_id": [1, 2, 3, 1, 2, 4, 5, 3, 1, 2, 9, 4],
            "amount": [5.0, 12.5, 30.0, 7.25, 99.0, 3.0, 18.0, 10.0, 1.5, 44.0, 8.0, 60.0],
        }
    )


def sample_customers() -> pl.DataFrame:
    return pl.DataFrame({"customer_id": [1, 2, 3, 4, 5], "country": ["fr", "de", "fr", "us", "de"]})
