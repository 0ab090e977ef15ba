"""Pipelines whose tasks run on two providers (hand-off), and one that goes back and forth."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline
from glacier_aws.compute import Lambda
from glacier_aws.storage import S3
from glacier_gcp.compute import CloudFunction, CloudRun
from glacier_gcp.storage import GCS

raw = Dataset("raw", storage=S3("handoff-raw"))
landed = Dataset("landed", storage=S3("handoff-landed"))
scored = Dataset("scored", storage=GCS("handoff-scored"))
back = Dataset("back", storage=S3("handoff-back"))

pipeline = Pipeline(name="handoff", schedule="0 2 * * *")


@pipeline.task(compute=Lambda())
def land(rows: raw) -> landed:
    """On AWS, first."""
    return rows.filter(pl.col("amount") > 0)


@pipeline.task(compute=CloudFunction())
def score(rows: landed) -> scored:
    """On GCP, after AWS: reads S3 through its federated role."""
    return rows.with_columns(pl.col("amount").alias("score"))


roundtrip = Pipeline(name="roundtrip")


@roundtrip.task(compute=Lambda(), name="land")
def land_again(rows: raw) -> landed:
    return rows


@roundtrip.task(compute=CloudFunction(), name="score")
def score_again(rows: landed) -> scored:
    return rows


@roundtrip.task(compute=Lambda())
def report(rows: scored) -> back:
    """Back on AWS, reading GCS: the work goes back and forth."""
    return rows


passing = Pipeline(name="passing")
handed = Dataset("handed")  # ephemeral: kept per run, under the run's id


@passing.task(compute=Lambda(), name="land")
def land_ephemeral(rows: raw) -> handed:
    return rows


@passing.task(compute=CloudFunction(), name="score")
def score_ephemeral(rows: handed) -> scored:
    return rows


forward = Pipeline(name="forward", schedule="0 3 * * *")
fresh = Dataset("fresh", storage=GCS("forward-fresh"))
staged = Dataset("staged", storage=S3("forward-staged"))
loaded = Dataset("loaded", storage=S3("forward-loaded"))


@forward.task(compute=CloudFunction())
def prepare(rows: fresh) -> staged:
    """On GCP, first: writes S3 through its federated role."""
    return rows.filter(pl.col("amount") > 0)


@forward.task(compute=Lambda())
def load(rows: staged) -> loaded:
    """On AWS, after GCP's workflow hands off."""
    return rows.with_columns(pl.col("amount").alias("loaded"))


backward = Pipeline(name="backward")


@backward.task(compute=Lambda(), name="land")
def land_from_gcs(rows: fresh) -> loaded:
    """On AWS, reading GCS: needs the AWS -> GCP federation, not built."""
    return rows


in_jobs = Pipeline(name="in_jobs")


@in_jobs.task(compute=CloudRun(), name="prepare")
def prepare_in_a_job(rows: fresh) -> staged:
    """A Cloud Run job (no function in the stack but the relay)."""
    return rows


@in_jobs.task(compute=Lambda(), name="load")
def load_after_a_job(rows: staged) -> loaded:
    return rows


clash = Pipeline(name="clash")


@clash.task(compute=CloudFunction(), name="handoff")
def handoff(rows: fresh) -> staged:
    """Named like the relay."""
    return rows


@clash.task(compute=Lambda(), name="load")
def load_after_clash(rows: staged) -> loaded:
    return rows
