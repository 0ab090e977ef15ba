"""A pipeline on one provider that writes into another region."""

from __future__ import annotations

from glacier import Dataset, Pipeline
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3

near = Dataset("near", storage=S3("regions-near", region="us-east-1"))
far = Dataset("far", storage=S3("regions-far", region="eu-west-1"))
pipeline = Pipeline(name="regions")


@pipeline.task(compute=Lambda())
def archive(rows: near) -> far:
    """Copies the data to Europe: an inter-region transfer."""
    return rows
