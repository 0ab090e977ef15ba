"""Pipelines whose Azure tasks reach data kept in S3 (module level, so the compilers bundle
them): one over AWS and Azure, one over all three clouds."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3
from glacier_azure.compute import AzureFunction, ContainerApp
from glacier_azure.storage import BlobStorage
from glacier_gcp.compute import CloudFunction
from glacier_gcp.storage import GCS

orders = Dataset(
    "orders", storage=S3("legacy-orders", region="us-east-1"), metadata={"expected_gb": 20}
)
cleaned = Dataset("cleaned", storage=ObjectStorage())
totals = Dataset("totals", storage=BlobStorage("team-totals"))

pipeline = Pipeline(name="azspread", schedule="0 3 * * *")


@pipeline.task(compute=AzureFunction(memory=2048))
def clean(rows: orders) -> cleaned:
    """Runs on Azure, reads the legacy S3 data."""
    return rows.filter(pl.col("amount") > 0)


@pipeline.task(compute=compute.serverless())
def summarise(rows: cleaned) -> totals:
    """Runs on the default provider."""
    return rows.group_by("store").agg(pl.col("amount").sum()).sort("store")


staged = Dataset("staged", storage=GCS("team-staging", location="us-central1"))
shared = Dataset("shared", storage=S3("team-shared", region="us-east-1"))
scores = Dataset("scores", storage=BlobStorage("team-scores"))
tri = Pipeline(name="tri")


@tri.task(compute=CloudFunction())
def stage(rows: orders) -> staged:
    """Runs on GCP, reads S3, writes GCS."""
    return rows.filter(pl.col("amount") > 0)


@tri.task(compute=CloudFunction())
def share(rows: staged) -> shared:
    """Runs on GCP, writes S3 for the Azure task."""
    return rows.with_columns(pl.col("amount") * 2)


@tri.task(compute=ContainerApp())
def score(rows: shared) -> scores:
    """Runs on Azure (a Container Apps job), reads S3, writes Blob storage."""
    return rows.group_by("store").agg(pl.col("amount").sum()).sort("store")


kept = Dataset("kept", storage=GCS("kept-data"))
azgcs = Pipeline(name="azgcs")


@azgcs.task(compute=AzureFunction())
def copy(rows: orders) -> kept:
    """An Azure task writing GCS: no federation from Azure to GCP is built."""
    return rows


archive = Dataset("archive", storage=BlobStorage("archive"))
toblob = Pipeline(name="toblob")


@toblob.task(compute=Lambda())
def keep(rows: orders) -> archive:
    """An AWS task writing Blob storage: no federation from AWS to Azure is built."""
    return rows


gcpblob = Pipeline(name="gcpblob")


@gcpblob.task(compute=CloudFunction())
def mirror(rows: orders) -> archive:
    """A GCP task writing Blob storage: no federation from GCP to Azure is built."""
    return rows
