"""Every task annotation form, in a module without ``from __future__ import annotations``."""

from typing import Annotated

import polars as pl

from glacier import Dataset, Pipeline, compute, task
from glacier.storage import LocalFS, ObjectStorage

orders = Dataset("orders", storage=ObjectStorage(), schema={"id": pl.Int64, "amount": pl.Float64})
customers = Dataset("customers", storage=LocalFS("./data"))
clean = Dataset("clean")
enriched = Dataset("enriched", storage=ObjectStorage("infrequent"))
big = Dataset("big", storage=ObjectStorage())
small = Dataset("small")

pipeline = Pipeline(name="plain", schedule="0 2 * * *")


@pipeline.task(compute=compute.serverless(memory=512), retries=2)
def clean_orders(data: orders) -> clean:
    """Drop non-positive amounts."""
    return data.filter(pl.col("amount") > 0)


@task()
def enrich(
    rows: Annotated[pl.LazyFrame, clean], people: Annotated[pl.DataFrame, customers]
) -> Annotated[pl.LazyFrame, enriched]:
    return rows.join(people.lazy(), on="id", how="left")


@task(depends_on=[clean_orders])
def split(data: enriched, min_total: float = 10.0, label: str = "x") -> tuple[big, small]:
    return data.filter(pl.col("amount") >= min_total), data.filter(pl.col("amount") < min_total)


@task(compute=compute.container(cpu=2, memory=4096))
def report(data: big) -> None:
    print(data.collect())


pipeline.add(enrich)
pipeline.add(split)
pipeline.add(report)


def build() -> Pipeline:
    """Datasets declared inside the builder: resolved against this function's locals."""
    source = Dataset("source")
    middle = Dataset("middle", storage=ObjectStorage())
    final = Dataset("final")
    built = Pipeline(name="built")

    @built.task()
    def first(data: source) -> middle:
        return data

    @built.task()
    def second(data: Annotated[pl.DataFrame, middle], factor: int = 2) -> final:
        return data.with_columns(pl.col("x") * factor)

    return built
