"""The bundle tests' pipeline: its code spans the ``bundle_shop`` package."""

from __future__ import annotations

import importlib

import polars as pl

from bundle_shop.helpers import positive
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

orders = Dataset("orders", storage=ObjectStorage())
valid_orders = Dataset("valid_orders", storage=ObjectStorage())

#: The codec for shop domain names, chosen by name when the task runs: no import statement
#: names it, so only the declared requirement puts it in the bundle.
DOMAIN_CODEC = "idna"

pipeline = Pipeline(name="bundle-shop", requirements=["idna>=3"])


@pipeline.task()
def validate(rows: orders) -> valid_orders:
    codec = importlib.import_module(DOMAIN_CODEC)
    encode = lambda shop: codec.encode(shop).decode()  # noqa: E731
    return positive(rows).with_columns(
        pl.col("shop").map_elements(encode, return_dtype=pl.String).alias("domain")
    )


def sample_orders() -> pl.DataFrame:
    return pl.DataFrame(
        {"order_id": [1, 2, 3], "amount": [-1.0, 5.0, 10.0], "shop": ["a", "bücher", "café"]}
    )
