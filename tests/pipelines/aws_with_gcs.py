"""A pipeline with a dataset pinned to GCS: an AWS-only compile must refuse it clearly."""

from __future__ import annotations

from glacier import Dataset, Pipeline
from glacier_aws.storage import S3
from glacier_gcp.storage import GCS

raw = Dataset("raw", storage=S3("acme-raw"))
mirrored = Dataset("mirrored", storage=GCS("acme-mirror"))
pipeline = Pipeline(name="mirror")


@pipeline.task()
def mirror(data: raw) -> mirrored:
    return data
