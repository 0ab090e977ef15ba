"""Row rules; ``yaml`` is a third-party import the bundle must pin."""

from __future__ import annotations

import polars as pl
import yaml

from .limits import LIMITS


def positive(frame: pl.LazyFrame) -> pl.LazyFrame:
    limits = yaml.safe_load(LIMITS)
    return frame.filter(pl.col("amount") > limits["min"])
