"""EventBridge schedule conversion and the S3 bucket layout."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from glacier import Dataset, Pipeline, task
from glacier.compilation.layout import cloud_key, dataset_key, normalize_prefix
from glacier.errors import CompilationError
from glacier.runtime.locations import resolve_location
from glacier.storage import ObjectStorage
from glacier_aws.stepfunctions import schedule_expression


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 2 * * *", "cron(0 2 * * ? *)"),
        ("*/15 * * * *", "cron(*/15 * * * ? *)"),
        ("30 6 1 * *", "cron(30 6 1 * ? *)"),
        ("0 0 1,15 JAN-JUN *", "cron(0 0 1,15 JAN-JUN ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("0 9 * * MON-FRI", "cron(0 9 ? * 2-6 *)"),
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("0 0 * * 7", "cron(0 0 ? * 1 *)"),
        ("0 0 * * 6,0", "cron(0 0 ? * 1,7 *)"),
        ("0 0 * * 5-7", "cron(0 0 ? * 1,6,7 *)"),
        ("0 0 * * */2", "cron(0 0 ? * 1,3,5,7 *)"),
        ("0 0 * * 0-6", "cron(0 0 * * ? *)"),
        ("0 0 * * 5L", "cron(0 0 ? * 6L *)"),
        ("0 0 * * 1#2", "cron(0 0 ? * 2#2 *)"),
        ("0 0 L * *", "cron(0 0 L * ? *)"),
        ("0 0 ? * *", "cron(0 0 * * ? *)"),
    ],
)
def test_cron_to_eventbridge(cron: str, expected: str) -> None:
    assert schedule_expression(cron) == expected


@pytest.mark.parametrize(
    ("cron", "match"),
    [
        ("0 0 1 * 1", r"restricts both day-of-month and day-of-week .* use '\*' for one"),
        ("0 0 * *", "expected five fields"),
        ("0 0 * * * *", "expected five fields"),
        ("0 0 * * 8", r"day-of-week 8 is out of range \(0-7\)"),
        ("0 0 * * 5-1", r"day-of-week range '5-1' runs backwards"),
        ("0 L * * *", r"hour field 'L' may only use digits, '\*', ',', '-' and '/'"),
        ("0 0 * FOO *", r"month field 'FOO' may only use digits or JAN-DEC"),
        ("0 0 * * FOO", r"day-of-week 'FOO' is not 0-7 or SUN-SAT"),
    ],
)
def test_cron_eventbridge_cannot_express(cron: str, match: str) -> None:
    with pytest.raises(
        CompilationError, match=rf"schedule '{re.escape(cron)}' cannot be expressed.*{match}"
    ):
        schedule_expression(cron)


def _spec():  # type: ignore[no-untyped-def]
    raw = Dataset("raw", storage=ObjectStorage(), format="csv")
    tmp = Dataset("tmp")
    out = Dataset("out_table", storage=ObjectStorage(), format="delta")

    @task()
    def a(r: raw) -> tmp:
        return r

    @task()
    def b(t: tmp) -> out:
        return t

    return Pipeline([a, b], name="lay").spec()


def test_cloud_keys_follow_the_layout() -> None:
    spec = _spec()
    assert {ds.name: cloud_key(ds) for ds in spec.datasets} == {
        "out_table": "out_table.delta",
        "raw": "raw.csv",
        "tmp": "runs/{run_id}/tmp.parquet",
    }
    tmp = f"s3://lay-intermediate/{cloud_key(spec.dataset('tmp'))}"
    assert resolve_location(tmp, "exec-1") == "s3://lay-intermediate/runs/exec-1/tmp.parquet"


def test_storage_prefix_and_key() -> None:
    spec = _spec()
    raw = spec.dataset("raw")
    assert dataset_key(raw) == "raw.csv"
    assert dataset_key(raw, "landing") == dataset_key(raw, "/landing/") == "landing/raw.csv"
    assert normalize_prefix("a/b") == "a/b/" and normalize_prefix("/") == ""
    assert raw.storage is not None
    with_prefix = replace(raw, storage=replace(raw.storage, config={"prefix": "in/"}))
    spec = replace(
        spec, datasets=tuple(with_prefix if d.name == "raw" else d for d in spec.datasets)
    )
    assert cloud_key(spec.dataset("raw")) == "in/raw.csv"


def test_a_bad_run_id_never_reaches_a_key() -> None:
    with pytest.raises(ValueError, match=r"run id 'a/b' is invalid"):
        resolve_location("s3://b/runs/{run_id}/x.parquet", "a/b")
