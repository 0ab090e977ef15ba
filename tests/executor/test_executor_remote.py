"""LocalExecutor(storage="remote") against local stand-ins for S3, Azure Blob and GCS.

S3 is glacier_aws's real ``S3`` resource. GCS and Azure use minimal stand-in resources with
the same ResourceIR shape the provider packages produce (provider + bucket/prefix, or
container/account/prefix), because the executor locates datasets from the IR only.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Dataset, LocalExecutor, Pipeline
from glacier.errors import DefinitionError
from glacier.storage import ObjectStorage, StorageResource
from glacier_aws.storage import S3
from glacier_azure.storage import BlobStorage
from glacier_gcp.storage import GCS


def lake(storage: StorageResource, fmt: str = "parquet") -> Pipeline:
    raw = Dataset("raw", storage=storage)
    clean = Dataset("clean")
    summary = Dataset("summary", storage=storage, format=fmt)  # type: ignore[arg-type]
    p = Pipeline(name="lake")

    @p.task()
    def tidy(r: raw) -> clean:
        return r.filter(pl.col("amount") > 0)

    @p.task()
    def summarize(c: clean) -> summary:
        return c.group_by("customer").agg(pl.col("amount").sum()).sort("customer")

    return p


def expected(orders: pl.DataFrame) -> pl.DataFrame:
    return (
        orders.filter(pl.col("amount") > 0)
        .group_by("customer")
        .agg(pl.col("amount").sum())
        .sort("customer")
    )


def roundtrip(storage: StorageResource, executor: LocalExecutor, orders, fmt="parquet"):
    p = lake(storage, fmt)
    result = executor.run(p, inputs={"raw": orders})  # source from inputs=, output remote
    assert_frame_equal(result["summary"].collect(), expected(orders))
    return result


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "csv", "delta"])
def test_s3_remote_run(workdir, orders, s3_options, fmt):
    options = dict(s3_options)
    if fmt == "delta":
        options["aws_s3_allow_unsafe_rename"] = "true"  # moto has no DynamoDB lock here
    executor = LocalExecutor(storage="remote", storage_options={"aws": options})
    result = roundtrip(S3("lake", prefix=f"runs/{fmt}/"), executor, orders, fmt)
    ext = {"delta": "delta"}.get(fmt, fmt)
    assert result.path("summary") == f"s3://lake/runs/{fmt}/summary.{ext}"
    assert not (workdir / ".glacier" / "datasets").exists()  # nothing landed locally


@pytest.mark.slow
def test_s3_source_from_its_storage_and_generic_object_storage(workdir, orders, s3_options):
    executor = LocalExecutor(
        storage="remote", storage_options={"aws": s3_options}, remote_base="s3://lake/generic"
    )
    pl.LazyFrame(orders).sink_parquet("s3://lake/generic/raw.parquet", storage_options=s3_options)
    result = executor.run(lake(ObjectStorage()))
    assert result.path("summary") == "s3://lake/generic/summary.parquet"
    assert_frame_equal(result["summary"].collect(), expected(orders))


def test_generic_storage_without_a_base_url_is_a_clear_error(workdir, orders):
    with pytest.raises(
        DefinitionError, match=r"dataset '(raw|summary)' uses generic ObjectStorage.*remote_base="
    ):
        LocalExecutor(storage="remote").run(lake(ObjectStorage()), inputs={"raw": orders})


@pytest.mark.slow
def test_azure_remote_run(workdir, orders, azure_options):
    executor = LocalExecutor(storage="remote", storage_options={"azure": azure_options})
    result = roundtrip(
        BlobStorage("lake", account="devstoreaccount1", prefix="p"), executor, orders
    )
    assert result.path("summary") == "az://lake/p/summary.parquet"
    again = roundtrip(
        BlobStorage("lake", account="devstoreaccount1", prefix="/d/"),
        executor,
        orders,
        "delta",
    )
    assert again.tasks["summarize"].rows == expected(orders).height


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_gcs_remote_run_through_gcsfs(workdir, orders, gcs_options, fmt):
    executor = LocalExecutor(storage="remote", storage_options={"gcp": gcs_options})
    result = roundtrip(GCS("lake", prefix=fmt), executor, orders, fmt)
    assert result.path("summary") == f"gs://lake/{fmt}/summary.{fmt}"
    assert result.tasks["summarize"].bytes > 0
    import gcsfs

    assert gcsfs.GCSFileSystem(**gcs_options).exists(f"lake/{fmt}/summary.{fmt}")


def test_unknown_provider_options_are_rejected():
    with pytest.raises(DefinitionError, match=r"unknown provider 'aws_s3'"):
        LocalExecutor(storage="remote", storage_options={"aws_s3": {}}).run(lake(ObjectStorage()))
