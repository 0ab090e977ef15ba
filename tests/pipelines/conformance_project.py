"""A pipeline whose tasks use a module of its own project (with a third-party import)."""

from __future__ import annotations

import polars as pl
from conformance_helpers import positive

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

orders = Dataset("orders", storage=ObjectStorage())
valid = Dataset("valid", storage=ObjectStorage())

pipeline = Pipeline(name="project")


@pipeline.task()
def validate(rows: orders) -> valid:
    return positive(rows).with_columns(pl.col("amount").round(2))
