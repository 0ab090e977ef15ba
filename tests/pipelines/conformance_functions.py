"""Short tasks: on Azure its serverless tasks fit a Logic App's 120 s wait, so they compile to
Function Apps (the container task stays a Container Apps job); elsewhere an ordinary pipeline.

orders, rates -> price -> priced (ephemeral) -> pick  -> big     -> report
                                             -> total -> totals  ->
"""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage

orders = Dataset("orders", storage=ObjectStorage())
rates = Dataset("rates", storage=ObjectStorage(), format="csv")
priced = Dataset("priced")
big = Dataset("big", storage=ObjectStorage())
totals = Dataset("totals", storage=ObjectStorage(), format="ndjson")
report = Dataset("report", storage=ObjectStorage())

pipeline = Pipeline(name="quick")
short = compute.serverless(memory=512, timeout=60)


@pipeline.task(compute=compute.serverless(timeout=90, env={"TOKEN": Secret("quick-token")}),
               retries=1)  # fmt: skip
def price(o: orders, r: rates) -> priced:
    return o.join(r, on="currency", how="left").with_columns(
        eur=pl.col("amount") * pl.col("rate").fill_null(1.0)
    )


@pipeline.task(compute=short)
def pick(p: priced) -> big:
    return p.filter(pl.col("eur") >= 10.0)


@pipeline.task(compute=compute.container(cpu=0.5))
def total(p: priced) -> totals:
    return p.group_by("currency").agg(eur=pl.col("eur").sum(), orders=pl.len()).sort("currency")


@pipeline.task(compute=short)
def summarise(b: big, t: totals) -> report:
    return pl.concat([
        b.select(metric=pl.lit("big"), value=pl.len().cast(pl.Float64)),
        t.select(metric=pl.lit("eur"), value=pl.col("eur").sum()),
    ])  # fmt: skip


def sample_orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": [1, 2, 3, 4, 5, 6],
            "currency": ["EUR", "USD", "GBP", "USD", "EUR", "CHF"],
            "amount": [5.0, 12.5, 30.0, 7.25, 99.0, 3.0],
        }
    )


def sample_rates() -> pl.DataFrame:
    return pl.DataFrame({"currency": ["USD", "GBP", "EUR"], "rate": [0.9, 1.2, 1.0]})
