"""Two tasks in a row for the workflow tests: the first may fail and be tried again."""

from __future__ import annotations

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

raw = Dataset("raw", storage=ObjectStorage())
mid = Dataset("mid")
out = Dataset("out", storage=ObjectStorage())

pipeline = Pipeline(name="retries")


@pipeline.task(compute=compute.serverless(), retries=2)
def flaky(data: raw) -> mid:
    return data


@pipeline.task(compute=compute.serverless())
def after(data: mid) -> out:
    return data
