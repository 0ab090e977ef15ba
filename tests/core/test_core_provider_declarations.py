"""The GCP and Azure provider packages' storage and compute declarations.

The declarations are real (validated on creation, provider-bound, located by remote runs:
tests/executor/test_executor_remote.py).
"""

from __future__ import annotations

import pytest

from glacier import Dataset, Pipeline
from glacier.errors import DefinitionError
from glacier_azure.compute import AzureFunction, ContainerApp
from glacier_azure.storage import BlobStorage
from glacier_gcp.compute import CloudFunction, CloudRun
from glacier_gcp.storage import GCS


def test_gcs_is_validated_and_bound_to_gcp() -> None:
    lake = GCS("lake-raw", prefix="/events", location="EU", storage_class="NEARLINE")
    assert (lake.bucket, lake.prefix, lake.location) == ("lake-raw", "events/", "EU")
    assert lake.get_type() == "object_storage" and lake.get_provider() == "gcp"
    assert lake.supports_provider("gcp") and not lake.supports_provider("aws")
    assert lake.describe() == "gs://lake-raw/events/"
    assert GCS(bucket="b_1.x").prefix == ""
    for bad, why in [
        (lambda: GCS("ab"), r"bucket 'ab' is 2 characters; GCS bucket names must be 3-63"),
        (lambda: GCS("Lake"), r"bucket 'Lake' does not match the GCS bucket naming rule"),
        (lambda: GCS("my-google-lake"), r"not starting with 'goog' or containing 'google'"),
        (lambda: GCS("lake", storage_class="COLD"), r"storage_class must be one of 'STANDARD'"),
        (lambda: GCS("lake", prefix="a b"), r"prefix 'a b' does not match"),
        (lambda: GCS("lake", colour="blue"), r"GCS: got an unexpected keyword argument 'colour'"),
        (lambda: GCS(prefix="x"), r"GCS: missing a required argument: 'bucket'; GCS takes: bucket"),
    ]:
        with pytest.raises(DefinitionError, match=why):
            bad()


def test_blob_storage_is_validated_and_bound_to_azure() -> None:
    lake = BlobStorage("lake", account="devstoreaccount1", prefix="raw/", tier="Cool")
    assert (lake.container, lake.account, lake.prefix) == ("lake", "devstoreaccount1", "raw/")
    assert lake.get_provider() == "azure" and lake.describe() == "az://devstoreaccount1/lake/raw/"
    for bad, why in [
        (lambda: BlobStorage("a--b"), r"container 'a--b' does not match .* no '--'"),
        (lambda: BlobStorage("lake", account="Lake_1"), r"account 'Lake_1' does not match"),
        (lambda: BlobStorage("lake", account="x" * 25), r"storage account names must be 3-24"),
        (lambda: BlobStorage("lake", tier="hot"), r"tier must be one of 'Hot', 'Cool', 'Cold'"),
    ]:
        with pytest.raises(DefinitionError, match=why):
            bad()


def test_gcp_and_azure_compute_are_validated_and_bound() -> None:
    assert (CloudFunction().memory, CloudFunction().timeout) == (1024, 540)
    assert CloudFunction().get_type() == "serverless" and CloudRun().get_type() == "container"
    assert AzureFunction().get_type() == "serverless" and ContainerApp().get_type() == "container"
    assert {c().get_provider() for c in (CloudFunction, CloudRun)} == {"gcp"}
    assert {c().get_provider() for c in (AzureFunction, ContainerApp)} == {"azure"}
    for bad, why in [
        (
            lambda: CloudFunction(timeout=4000),
            r"CloudFunction: timeout must be an int from 1 to 3600, found 4000",
        ),
        (lambda: CloudRun(cpu=16), r"CloudRun: cpu must be a number greater than 0 and at most 8"),
        (
            lambda: AzureFunction(memory=1024),
            r"AzureFunction: memory must be one of 512, 2048, 4096",
        ),
        (lambda: ContainerApp(env={"1X": "v"}), r"environment variable name '1X' must match"),
    ]:
        with pytest.raises(DefinitionError, match=why):
            bad()


def test_a_pipeline_declares_them_and_runs_locally(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import polars as pl

    raw = Dataset("raw", storage=GCS("lake-in"))
    out = Dataset("out", storage=BlobStorage("lake-out", prefix="p"))
    p = Pipeline(name="clouds")

    @p.task(compute=CloudRun(cpu=2, memory=4096))
    def copy(data: raw) -> out:
        return data.with_columns(doubled=pl.col("x") * 2)

    result = p.run(inputs={"raw": pl.DataFrame({"x": [1, 2]})}, root=str(tmp_path))
    assert result["out"].collect()["doubled"].to_list() == [2, 4]
    assert p.spec().dataset("out").storage.provider == "azure"  # type: ignore[union-attr]
