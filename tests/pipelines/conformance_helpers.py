"""A helper module of the conformance suite's multi-module project (see conformance_project)."""

from __future__ import annotations

import polars as pl
import yaml  # a third-party import the bundle must carry


def positive(frame: pl.LazyFrame) -> pl.LazyFrame:
    limits = yaml.safe_load("min: 0")
    return frame.filter(pl.col("amount") > limits["min"])
