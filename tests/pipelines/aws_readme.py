"""Sources the stack's README must tell a user to upload: an S3 prefix with the characters
S3 allows and a shell treats specially, a Delta table (a folder), and an existing bucket."""

from __future__ import annotations

from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import ObjectStorage
from glacier_aws.storage import S3

events = Dataset("events", storage=S3("acme-readme-events", prefix="drop(1)/it's!"))
history = Dataset("history", storage=ObjectStorage(), format="delta")
rates = Dataset("rates", storage=S3("acme-readme-rates", create=False))
joined = Dataset("joined", storage=ObjectStorage())

pipeline = Pipeline(name="readme")


@pipeline.task(compute=compute.container(env={"TOKEN": Secret("readme/token")}))
def join(rows: events, past: history, fx: rates) -> joined:
    return rows
