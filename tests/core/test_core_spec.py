"""The IR: ``pipeline.spec()`` round-trips through JSON exactly, schemas and dtypes included."""

from __future__ import annotations

import dataclasses
import json
from types import ModuleType

import polars as pl
import pytest

from glacier import Dataset, Pipeline, PipelineIR, Secret, compute, task
from glacier.ir import SPEC_VERSION, from_json, to_json
from glacier.schema import decode_dtype, encode_dtype, polars_schema, schema_mismatches
from glacier.storage import ObjectStorage

DTYPES = [
    pl.Int8(), pl.UInt64(), pl.Float32(), pl.Boolean(), pl.String(), pl.Binary(), pl.Date(),
    pl.Time(), pl.Null(), pl.Categorical(),
    pl.Datetime("ms"), pl.Datetime("us", "Europe/Paris"), pl.Datetime("ns", "UTC"),
    pl.Duration("ms"), pl.Decimal(12, 2), pl.Enum(["low", "mid", "high"]),
    pl.List(pl.Int64), pl.List(pl.List(pl.String)), pl.Array(pl.Float64, 3),
    pl.Struct({"a": pl.Int32, "b": pl.List(pl.Datetime("us", "Asia/Tokyo")), "c": pl.Struct({"d": pl.Decimal(10, 4)})}),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_dtype_codec_round_trip(dtype: pl.DataType) -> None:
    encoded = encode_dtype(dtype)
    assert json.loads(json.dumps(encoded)) == encoded
    assert decode_dtype(json.loads(json.dumps(encoded))) == dtype


def test_dtype_classes_encode_like_instances() -> None:
    assert encode_dtype(pl.Int64) == encode_dtype(pl.Int64()) == "Int64"


def test_unknown_dtypes_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown Polars dtype 'Int128x'"):
        decode_dtype("Int128x")
    with pytest.raises(ValueError, match=r"unknown Polars dtype 'Series'"):
        decode_dtype("Series")
    with pytest.raises(ValueError, match=r"unknown Polars dtype \{'type': 'Tensor'\}"):
        decode_dtype({"type": "Tensor"})


def _rich_pipeline() -> Pipeline:
    events = Dataset(
        "events",
        storage=ObjectStorage("infrequent", aws_storage_class="STANDARD_IA", retention_days=30),
        schema={
            "at": pl.Datetime("us", "America/New_York"),
            "price": pl.Decimal(10, 2),
            "level": pl.Enum(["a", "b"]),
            "tags": pl.List(pl.String),
            "point": pl.Struct({"x": pl.Float64, "y": pl.Float64}),
        },
        format="ndjson",
        description='Raw "events" <with> odd\ntext',
        metadata={"owner": "ops", "tags": ["x", 1, None], "nested": {"b": 2, "a": 1}},
    )
    daily = Dataset("daily", storage=ObjectStorage())

    @task(
        compute=compute.serverless(memory=2048, env={"TOKEN": Secret("api/token"), "MODE": "x"}),
        retries=3,
        timeout=60,
    )
    def summarise(
        data: events,
        window: int = 7,
        label: str | None = None,
        weights: list[float] = [1.0],  # noqa: B006 - a JSON list default, on purpose
    ) -> daily:
        """Daily totals."""
        return data

    @task(compute=compute.container(image="repo/img:1", cpu=0.5, gpu=1), depends_on=[summarise])
    def publish(data: daily) -> None:
        return None

    return Pipeline(
        [publish, summarise], name="rich", schedule="0 2 * * *", description="a pipeline"
    )


def test_spec_json_round_trip_is_exact() -> None:
    spec = _rich_pipeline().spec()
    assert isinstance(spec, PipelineIR)
    text = to_json(spec)
    again = from_json(text)
    assert again == spec
    assert to_json(again) == text
    assert json.loads(text)["datasets"][1]["schema"]["columns"][0]["name"] == "at"
    schema = again.dataset("events").schema_
    assert schema is not None
    assert polars_schema(schema) == pl.Schema(
        {
            "at": pl.Datetime("us", "America/New_York"),
            "price": pl.Decimal(10, 2),
            "level": pl.Enum(["a", "b"]),
            "tags": pl.List(pl.String),
            "point": pl.Struct({"x": pl.Float64, "y": pl.Float64}),
        }
    )


def test_spec_contents() -> None:
    spec = _rich_pipeline().spec()
    assert (spec.version, spec.name, spec.schedule, spec.description) == (
        SPEC_VERSION,
        "rich",
        "0 2 * * *",
        "a pipeline",
    )
    assert [d.name for d in spec.datasets] == ["daily", "events"]
    events = spec.dataset("events")
    assert (events.format, events.extension, events.ephemeral, events.is_source) == (
        "ndjson",
        "ndjson",
        False,
        True,
    )
    assert events.metadata == {"nested": {"a": 1, "b": 2}, "owner": "ops", "tags": ["x", 1, None]}
    assert events.storage is not None and events.storage.config["retention_days"] == 30
    assert events.storage.config == {  # every field, defaults included
        "access_pattern": "infrequent",
        "aws_storage_class": "STANDARD_IA",
        "gcp_storage_class": None,
        "azure_tier": None,
        "versioning": True,
        "retention_days": 30,
    }
    t = spec.task("summarise")
    assert (t.retries, t.timeout, t.description, t.qualname.endswith("summarise")) == (
        3,
        60,
        "Daily totals.",
        True,
    )
    assert [(p.name, p.default) for p in t.params] == [
        ("window", 7),
        ("label", None),
        ("weights", [1.0]),
    ]
    assert t.compute.config["env"] == {"MODE": "x", "TOKEN": {"secret": "api/token"}}
    assert len(t.code_hash) == 64 and t.input_datasets == ("events",)
    assert spec.task("publish").compute.type == "container"
    with pytest.raises(KeyError, match="pipeline 'rich' has no task 'nope'"):
        spec.task("nope")
    with pytest.raises(KeyError, match="pipeline 'rich' has no dataset 'nope'"):
        spec.dataset("nope")


def test_spec_is_deterministic_and_frozen() -> None:
    assert to_json(_rich_pipeline().spec()) == to_json(_rich_pipeline().spec())
    pipeline = _rich_pipeline()
    spec = pipeline.spec()
    assert pipeline.spec() is spec  # built once
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]


def test_unknown_spec_version_is_rejected() -> None:
    data = json.loads(to_json(_rich_pipeline().spec()))
    data["version"] = SPEC_VERSION + 1
    with pytest.raises(ValueError, match=r"IR version 2, this Glacier reads version 1; recompile"):
        from_json(json.dumps(data))


def test_extra_fields_are_rejected() -> None:
    data = json.loads(to_json(_rich_pipeline().spec()))
    data["tasks"][0]["surprise"] = 1
    with pytest.raises(ValueError, match=r"tasks\.0\.surprise\n  Unexpected keyword argument"):
        from_json(json.dumps(data))
    data = json.loads(to_json(_rich_pipeline().spec()))
    data["datasets"][0]["schema_"] = None  # the JSON key is "schema"
    with pytest.raises(ValueError, match=r"datasets\.0\.schema_\n  Unexpected keyword argument"):
        from_json(json.dumps(data))


def test_wrong_types_in_json_are_rejected() -> None:
    data = json.loads(to_json(_rich_pipeline().spec()))
    data["tasks"][0]["retries"] = "many"
    with pytest.raises(ValueError, match=r"tasks\.0\.retries\n  Input should be a valid integer"):
        from_json(json.dumps(data))


def test_sample_module_spec_round_trip(sample_module: ModuleType) -> None:
    spec = sample_module.pipeline.spec()
    assert from_json(to_json(spec)) == spec
    assert spec.source is not None and spec.source.endswith(".py:pipeline")


def test_schema_mismatches() -> None:
    ds = Dataset("d", schema={"id": pl.Int64, "at": pl.Datetime("us", "UTC")})
    assert ds.schema is not None
    found = pl.Schema({"id": pl.Int32, "extra": pl.String})
    assert schema_mismatches(ds.schema, found) == [
        "column 'id': expected Int64, found Int32",
        "column 'at': expected Datetime(time_unit='us', time_zone='UTC'), found no such column",
        "unexpected columns ['extra'] (expected only ['id', 'at'])",
    ]
    assert schema_mismatches(ds.schema, polars_schema(ds.schema)) == []
