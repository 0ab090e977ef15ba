"""Sample pipelines for the executor tests, built by functions so each test gets fresh paths."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

import polars as pl
from pydantic import BaseModel

from glacier import Dataset, Pipeline
from glacier.storage import LocalFS, ObjectStorage


def orders_frame(n: int = 100) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": list(range(n)),
            "customer": [i % 7 for i in range(n)],
            "amount": [float((i * 37) % 101) - 5.0 for i in range(n)],
        }
    )


def customers_frame() -> pl.DataFrame:
    return pl.DataFrame({"customer": list(range(7)), "region": ["n", "s", "e", "w", "n", "s", "e"]})


def analytics(out: str, calls: list[str] | None = None, fmt: str = "parquet") -> Pipeline:
    """orders, customers -> clean (ephemeral) -> enriched (ephemeral) -> two stored outputs."""
    log = calls if calls is not None else []
    orders = Dataset("orders")
    customers = Dataset("customers")
    clean = Dataset("clean")
    enriched = Dataset("enriched")
    by_region = Dataset("by_region", storage=LocalFS(out), format=fmt)  # type: ignore[arg-type]
    totals = Dataset("totals", storage=ObjectStorage())
    p = Pipeline(name="analytics")

    @p.task()
    def clean_orders(o: orders, min_amount: float = 0.0) -> clean:
        log.append("clean_orders")
        return o.filter(pl.col("amount") > min_amount)

    @p.task()
    def enrich(o: clean, c: customers) -> enriched:
        log.append("enrich")
        return o.join(c, on="customer")

    @p.task()
    def region_totals(e: enriched) -> by_region:
        log.append("region_totals")
        return e.group_by("region").agg(pl.col("amount").sum()).sort("region")

    @p.task()
    def grand_total(e: enriched) -> totals:
        log.append("grand_total")
        return e.select(pl.col("amount").sum(), pl.len().alias("n"))

    return p


def eager_reference(orders: pl.DataFrame, customers: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The analytics pipeline's logic, step by step and eager."""
    enriched = orders.filter(pl.col("amount") > 0).join(customers, on="customer")
    return {
        "by_region": enriched.group_by("region").agg(pl.col("amount").sum()).sort("region"),
        "totals": enriched.select(pl.col("amount").sum(), pl.len().alias("n")),
    }


def chain(hook: Callable[[str], Any] = lambda name: None, retries: int = 0) -> Pipeline:
    """raw -> a (stored) -> b (stored) -> c (stored); ``hook(task)`` runs inside each task."""
    raw = Dataset("raw", storage=ObjectStorage())
    a, b, c = (Dataset(n, storage=ObjectStorage()) for n in ("a", "b", "c"))
    p = Pipeline(name="chain")

    @p.task(retries=retries)
    def make_a(r: raw) -> a:
        hook("make_a")
        return r.with_columns(step=pl.lit(1))

    @p.task(retries=retries)
    def make_b(x: a) -> b:
        hook("make_b")
        return x.with_columns(step=pl.col("step") + 1)

    @p.task(retries=retries)
    def make_c(x: b) -> c:
        hook("make_c")
        return x.with_columns(step=pl.col("step") + 1)

    return p


def _address(df: pl.DataFrame, column: str) -> int:
    """The memory address of a column's values (the same for two frames sharing them)."""
    return int(df.to_arrow().column(column).chunk(0).buffers()[1].address)


def branches(barrier: threading.Barrier, seen: list[int]) -> Pipeline:
    """Two independent tasks that each wait for the other: they only finish if run in parallel.

    Both read ``shared`` as a DataFrame; ``seen`` collects where the data of the ``double``
    column each received lives (each task gets its own DataFrame, over the same buffers when
    ``shared`` was computed once).
    """
    src = Dataset("src")
    shared = Dataset("shared")
    left, right = (
        Dataset("left", storage=ObjectStorage()),
        Dataset("right", storage=ObjectStorage()),
    )
    p = Pipeline(name="branches")

    @p.task()
    def prepare(s: src) -> shared:
        return s.with_columns(double=pl.col("id") * 2)

    @p.task()
    def go_left(df: Annotated[pl.DataFrame, shared]) -> left:
        seen.append(_address(df, "double"))
        barrier.wait()
        return df.filter(pl.col("id") % 2 == 0)

    @p.task()
    def go_right(df: Annotated[pl.DataFrame, shared]) -> right:
        seen.append(_address(df, "double"))
        barrier.wait()
        return df.filter(pl.col("id") % 2 == 1)

    return p


class Order(BaseModel):
    id: int
    amount: float
    note: str | None = None


def typed(out: str) -> Pipeline:
    """A pydantic-schema'd output: non-Optional columns must hold no nulls."""
    src = Dataset("src")
    checked = Dataset("checked", storage=LocalFS(out), schema=Order)
    p = Pipeline(name="typed")

    @p.task()
    def check(s: src) -> checked:
        return s

    return p


def two_outputs(fail_second: bool) -> Pipeline:
    """One task with two stored outputs; the second can fail mid-stream."""
    src = Dataset("src")
    first, second = Dataset("first", ObjectStorage()), Dataset("second", ObjectStorage())
    other = Dataset("other", ObjectStorage())
    p = Pipeline(name="two_outputs")

    def explode(batch: pl.DataFrame) -> pl.DataFrame:
        if fail_second and batch["id"].max() >= 50_000:  # late in the stream
            raise RuntimeError("disk on fire")
        return batch

    @p.task()
    def split(s: src) -> tuple[first, second]:
        return s.filter(pl.col("id") % 2 == 0), s.map_batches(explode, streamable=True)

    @p.task()
    def independent(s: src) -> other:
        return s.select(pl.len())

    return p
