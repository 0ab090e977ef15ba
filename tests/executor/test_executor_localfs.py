"""LocalFS takes folders on this machine only: a URL would make a default local run write to
the cloud (and skip after the object is gone), and ``file:///abs`` a relative ``./file:`` folder."""

from __future__ import annotations

import os

import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.errors import DefinitionError
from glacier.storage import LocalFS


@pytest.mark.parametrize(
    ("url", "storage_class"),
    [
        ("s3://bucket/prefix", "glacier_aws.storage.S3"),
        ("S3A://bucket", "glacier_aws.storage.S3"),
        ("gs://bucket/prefix", "glacier_gcp.storage.GCS"),
        ("az://container/prefix", "glacier_azure.storage.BlobStorage"),
        ("abfss://container@account.dfs.core.windows.net/p", "glacier_azure.storage.BlobStorage"),
    ],
)
def test_localfs_refuses_a_cloud_url_and_names_the_storage_class(url, storage_class):
    with pytest.raises(
        DefinitionError, match=rf"found the URL '{url}'; .*{storage_class}\(\.\.\.\)"
    ):
        LocalFS(url)
    with pytest.raises(
        DefinitionError,
        match=r"LocalFS: base_path must be a folder on this machine, .*ObjectStorage\(\)",
    ):
        LocalFS(base_path=url)


@pytest.mark.parametrize(
    "url", ["https://example.com/data", "http://host/x", "ftp://h/x", "hdfs://nn/x"]
)
def test_localfs_refuses_any_other_url(url):
    with pytest.raises(DefinitionError, match=r"base_path must be a folder on this machine, found"):
        LocalFS(url)


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("file:///abs/out", "/abs/out"),
        ("file://localhost/abs/my%20out", "/abs/my out"),
        ("FILE:///abs", "/abs"),
    ],
)
def test_localfs_refuses_a_file_url_and_gives_the_plain_path(url, plain):
    with pytest.raises(DefinitionError, match=rf"file URL '{url}'; write LocalFS\('{plain}'\)"):
        LocalFS(url)


def test_a_default_local_run_never_writes_where_a_url_points(workdir):
    """Declaring the dataset fails before any run: nothing goes to a bucket or to ./s3:."""
    with pytest.raises(DefinitionError, match=r"glacier_aws\.storage\.S3"):
        Dataset("out", storage=LocalFS("s3://bucket/p"))
    assert os.listdir(workdir) == []


def test_plain_paths_still_work(workdir):
    for folder in ("out", "./out", str(workdir / "abs"), "C://data", "with:colon"):
        assert LocalFS(folder).base_path == folder
    raw = Dataset("raw")
    out = Dataset("out", storage=LocalFS(str(workdir / "abs")))
    p = Pipeline(name="plain")

    @p.task()
    def copy(r: raw) -> out:
        return r

    p.run(inputs={"raw": pl.DataFrame({"x": [1]})})
    assert pl.read_parquet(workdir / "abs" / "out.parquet")["x"].to_list() == [1]
