"""One rule for every object store's key prefix: no glob characters, no ``.``/``..`` segments.

A prefix becomes part of every key a dataset is read from, written to and granted on. Polars
reads ``*?[]{}`` in a path as a glob and IAM reads ``*`` and ``?`` as wildcards, so
``prefix="*"`` read other datasets' objects and was granted them; ``.``, ``..`` and empty
segments are kept literally by object stores but resolved or refused by paths.
"""

from __future__ import annotations

import pytest

from glacier.errors import CompilationError
from glacier.resources import ResourceError
from glacier_aws.storage import S3
from glacier_azure.storage import BlobStorage
from glacier_gcp.storage import GCS

STORES = {
    "S3": lambda prefix: S3("acme-lake", prefix=prefix),
    "GCS": lambda prefix: GCS("acme-lake", prefix=prefix),
    "BlobStorage": lambda prefix: BlobStorage("lake", prefix=prefix),
}


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("prefix", ["*", "raw/*", "raw/2024-0?", "raw/[ab]", "raw/{a,b}"])
def test_glob_characters_are_refused(store: str, prefix: str) -> None:
    with pytest.raises(ResourceError, match=rf"^{store}: prefix .* holds the glob character"):
        STORES[store](prefix)


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("prefix", ["..", "../other-team", "raw/../x", ".", "./raw", "raw//x"])
def test_dot_and_empty_segments_are_refused(store: str, prefix: str) -> None:
    with pytest.raises(ResourceError, match=rf"^{store}: prefix .* (segment|'//')"):
        STORES[store](prefix)


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("prefix", ["", "raw", "/raw/", "raw/2024-01", "a.b/c_d", "x..y/.z"])
def test_plain_folder_prefixes_are_kept(store: str, prefix: str) -> None:
    assert STORES[store](prefix).prefix == (prefix.strip("/") + "/" if prefix.strip("/") else "")


def test_overlapping_keys_name_both_datasets() -> None:
    from glacier.compilation.grants import check_keys

    with pytest.raises(
        CompilationError, match=r"^datasets 'a' and 'b' are both stored at 'k.parquet'"
    ):
        check_keys({"a": ("lake", "k.parquet"), "b": ("lake", "k.parquet")})
    with pytest.raises(CompilationError, match=r"^datasets 't' and 'p' overlap in 'lake'"):
        check_keys({"t": ("lake", "t.delta"), "p": ("lake", "t.delta/x/p.parquet")})
    check_keys(
        {"a": ("lake", "k.parquet"), "b": ("other", "k.parquet"), "c": ("lake", "k.parquet2")}
    )


def test_a_key_with_a_glob_from_an_unchecked_ir_is_refused() -> None:
    from glacier.compilation.grants import check_keys

    with pytest.raises(CompilationError, match=r"^dataset 'a': key '\*/a.parquet' in 'lake' holds"):
        check_keys({"a": ("lake", "*/a.parquet")})
    check_keys({"e": ("work", "runs/{run_id}/e.parquet")})  # the run id placeholder is fine
