"""A one-task pipeline for the Azure runtime tests: a task reading a Key Vault secret.

orders -> check (API_TOKEN from Key Vault) -> checked
"""

from __future__ import annotations

import os

import polars as pl

from glacier import Dataset, Pipeline, Secret
from glacier.storage import ObjectStorage
from glacier_azure.compute import AzureFunction

orders = Dataset("orders", storage=ObjectStorage())
checked = Dataset("checked", storage=ObjectStorage())

pipeline = Pipeline(name="vault")


@pipeline.task(compute=AzureFunction(memory=512, env={"API_TOKEN": Secret("api-token")}))
def check(o: orders) -> checked:
    token = os.environ["API_TOKEN"]
    if token.startswith("revoked-"):
        raise PermissionError(f"the orders API refused token {token}")
    return o.with_columns(token_length=pl.lit(len(token), dtype=pl.UInt32))


def sample_orders() -> pl.DataFrame:
    return pl.DataFrame({"order_id": [1, 2, 3], "amount": [5.0, 12.5, 30.0]})
