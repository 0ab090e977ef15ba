"""Dataset and resource declarations: validation on creation, immutability, provider queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

import polars as pl
import pydantic
import pytest

from glacier import Dataset, Secret, compute
from glacier.errors import DefinitionError
from glacier.storage import LocalFS, ObjectStorage


class Order(pydantic.BaseModel):
    id: int
    amount: float
    note: Optional[str] = None
    placed: dt.datetime
    price: Decimal
    tags: list[str]


@pytest.mark.parametrize("name", ["a", "orders", "orders_2024", "x" * 63])
def test_valid_dataset_names(name: str) -> None:
    assert Dataset(name).name == name


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("", r"Dataset name '' is invalid: expected 1-63 characters"),
        ("Orders", r"Dataset name 'Orders' is invalid: .*; try 'orders'"),
        ("2024_orders", r"Dataset name '2024_orders' is invalid"),
        ("my-data", r"Dataset name 'my-data' is invalid: .*; try 'my_data'"),
        ("x" * 64, r"Dataset name 'x{64}' is invalid"),
        ("_hidden", r"Dataset name '_hidden' is invalid"),
        ("a b", r"Dataset name 'a b' is invalid"),
        (3, r"Dataset name 3 is invalid"),
    ],
)
def test_invalid_dataset_names(name: Any, pattern: str) -> None:
    with pytest.raises(DefinitionError, match=pattern):
        Dataset(name)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"storage": "s3://bucket"},
            r"Dataset 'd': storage must be a storage resource such as ObjectStorage\(\)",
        ),
        ({"storage": compute.local()}, r"storage must be a storage resource"),
        (
            {"format": "xlsx"},
            r"Dataset 'd': format must be one of parquet, csv, ndjson, ipc, delta, found 'xlsx'",
        ),
        ({"description": 3}, r"Dataset 'd': description must be a str, found 3"),
        ({"metadata": {"k": object()}}, r"Dataset 'd': metadata values must be JSON values"),
        ({"metadata": {1: "x"}}, r"Dataset 'd': metadata keys must be strings, found 1"),
        ({"metadata": ["x"]}, r"Dataset 'd': metadata must be a dict, found list"),
    ],
)
def test_bad_dataset_arguments(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(DefinitionError, match=pattern):
        Dataset("d", **kwargs)


@pytest.mark.parametrize(
    ("schema", "pattern"),
    [
        (
            {"id": "int"},
            r"Dataset 'd' column 'id': expected a Polars dtype \(e.g. pl.Int64\) or a Python type, found 'int'",
        ),
        ({"": pl.Int64}, r"Dataset 'd': schema column names must be non-empty strings"),
        (
            [("id", pl.Int64)],
            r"Dataset 'd': schema must be a dict of column -> dtype, a pl.Schema or a pydantic BaseModel subclass, found list",
        ),
        ("id:int", r"schema must be a dict .* found str"),
    ],
)
def test_bad_schema(schema: Any, pattern: str) -> None:
    with pytest.raises(DefinitionError, match=pattern):
        Dataset("d", schema=schema)


def test_bad_pydantic_schema_names_the_column() -> None:
    class Bad(pydantic.BaseModel):
        value: int | str

    with pytest.raises(
        DefinitionError, match=r"Dataset 'd' column 'value': unions other than Optional\[X\]"
    ):
        Dataset("d", schema=Bad)


def test_schema_forms_normalise_to_the_same_columns() -> None:
    as_dict = Dataset("d", schema={"id": pl.Int64, "amount": pl.Float64()})
    as_schema = Dataset("d", schema=pl.Schema({"id": pl.Int64, "amount": pl.Float64}))
    assert as_dict.schema == as_schema.schema
    assert [(c.name, c.dtype) for c in as_dict.schema.columns] == [
        ("id", "Int64"),
        ("amount", "Float64"),
    ]


def test_pydantic_schema_marks_optional_fields_nullable() -> None:
    ds = Dataset("orders", schema=Order)
    columns = {c.name: (c.dtype, c.nullable) for c in ds.schema.columns}
    assert columns == {
        "id": ("Int64", False),
        "amount": ("Float64", False),
        "note": ("String", True),
        "placed": ({"type": "Datetime", "time_unit": "us", "time_zone": None}, False),
        "price": ({"type": "Decimal", "precision": 38, "scale": 9}, False),
        "tags": ({"type": "List", "inner": "String"}, False),
    }
    assert ds.user_schema is Order


def test_dataset_is_immutable_and_copy_with_makes_a_new_one() -> None:
    ds = Dataset("d", storage=ObjectStorage(), metadata={"owner": "finance"})
    with pytest.raises(
        AttributeError, match=r"Dataset 'd' is immutable; use .copy_with\(name=...\)"
    ):
        ds.name = "e"  # type: ignore[misc]
    renamed = ds.copy_with(name="e", format="csv")
    assert (renamed.name, renamed.format, renamed.storage) == ("e", "csv", ObjectStorage())
    assert (ds.name, ds.format) == ("d", "parquet")
    assert renamed.extension == "csv" and Dataset("i", format="ipc").extension == "arrow"


def test_dataset_equality_is_by_value() -> None:
    assert Dataset("d", storage=ObjectStorage()) == Dataset("d", storage=ObjectStorage())
    assert Dataset("d") != Dataset("d", storage=ObjectStorage())
    assert Dataset("d").ephemeral and not Dataset("d", storage=LocalFS()).ephemeral
    assert len({Dataset("d"), Dataset("d")}) == 1


# -- resources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "kind", "provider", "supports"),
    [
        (ObjectStorage(), "object_storage", None, {"aws": True, "gcp": True, "azure": True}),
        (LocalFS("./x"), "local_fs", "local", {"aws": False, "local": True}),
        (compute.local(), "local", None, {"aws": True, "gcp": True}),
        (compute.container(), "container", None, {"azure": True}),
        (compute.serverless(), "serverless", None, {"gcp": True}),
    ],
)
def test_resource_queries(
    resource: Any, kind: str, provider: str | None, supports: dict[str, bool]
) -> None:
    assert resource.get_type() == kind
    assert resource.get_provider() == provider
    for name, expected in supports.items():
        assert resource.supports_provider(name) is expected
    spec = resource.to_spec()
    assert (spec.type, spec.provider) == (kind, provider)
    assert spec.cls == f"{type(resource).__module__}:{type(resource).__qualname__}"


def test_resource_defaults_match_the_contract() -> None:
    assert compute.container().model_dump() == {
        "image": None,
        "cpu": 1.0,
        "memory": 2048,
        "gpu": 0,
        "env": {},
    }
    assert compute.serverless().model_dump() == {
        "memory": 1024,
        "timeout": 300,
        "runtime": "python3.12",
        "env": {},
    }
    assert compute.local().workers == 1
    storage = ObjectStorage(
        "infrequent",
        aws_storage_class="INTELLIGENT_TIERING",
        gcp_storage_class="NEARLINE",
        azure_tier="Cool",
    )
    assert storage.access_pattern == "infrequent" and storage.versioning is True
    assert LocalFS().base_path == "./data"


def _field_error(exc: pytest.ExceptionInfo[pydantic.ValidationError]) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}


@pytest.mark.parametrize(
    ("make", "field", "pattern"),
    [
        (lambda: compute.serverless(memory=0), "memory", r"greater than 0"),
        (lambda: compute.serverless(timeout=-5), "timeout", r"greater than 0"),
        (lambda: compute.serverless(runtime="node18"), "runtime", r"String should match pattern"),
        (lambda: compute.container(cpu=0), "cpu", r"greater than 0"),
        (lambda: compute.container(gpu=-1), "gpu", r"greater than or equal to 0"),
        (lambda: compute.local(workers=0), "workers", r"greater than or equal to 1"),
        (
            lambda: compute.serverless(env={"1BAD": "x"}),
            "env",
            r"environment variable name '1BAD' must match",
        ),
        (lambda: compute.container(env={"K": 3}), "env", r"Input should be a valid string"),
        (
            lambda: ObjectStorage("hot"),
            "access_pattern",
            r"Input should be 'frequent', 'infrequent' or 'archive'",
        ),
        (
            lambda: ObjectStorage(aws_storage_class="COLD"),
            "aws_storage_class",
            r"aws_storage_class must be one of STANDARD",
        ),
        (
            lambda: ObjectStorage(gcp_storage_class="COLD"),
            "gcp_storage_class",
            r"gcp_storage_class must be one of",
        ),
        (
            lambda: ObjectStorage(azure_tier="Frozen"),
            "azure_tier",
            r"azure_tier must be one of Hot, Cool, Cold, Archive",
        ),
        (lambda: ObjectStorage(retention_days=0), "retention_days", r"greater than or equal to 1"),
        (lambda: ObjectStorage(colour="blue"), "colour", r"Extra inputs are not permitted"),
        (lambda: LocalFS("  "), "base_path", r"base_path must be a non-empty folder path"),
        (lambda: Secret("bad name!"), "secret", r"String should match pattern"),
    ],
)
def test_bad_resource_arguments_name_the_field(make: Any, field: str, pattern: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=pattern) as exc:
        make()
    assert any(loc.split(".")[0] == field for loc in _field_error(exc)), _field_error(exc)


def test_resources_are_immutable() -> None:
    storage, fn = ObjectStorage(), compute.serverless()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        storage.versioning = False  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        fn.memory = 1  # type: ignore[misc]
    assert storage.model_copy(update={"versioning": False}).versioning is False


def test_secrets_in_env() -> None:
    fn = compute.serverless(env={"TOKEN": Secret("api/token"), "MODE": "prod", "A": Secret("a")})
    assert list(fn.env) == ["A", "MODE", "TOKEN"]
    assert fn.secrets() == (Secret("a"), Secret("api/token"))
    assert repr(Secret("a")) == "Secret('a')" and Secret("a").name == "a"
    assert fn.to_spec().config["env"]["TOKEN"] == {"secret": "api/token"}
