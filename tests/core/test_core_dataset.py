"""Dataset and resource declarations: validation on creation, immutability, provider queries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, Optional

import polars as pl
import pydantic
import pytest

from glacier import Dataset, Secret, compute
from glacier.errors import DefinitionError, ResourceError
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
    spec = resource.to_ir()
    assert (spec.type, spec.provider) == (kind, provider)
    assert spec.cls == f"{type(resource).__module__}:{type(resource).__qualname__}"


def test_resource_defaults_match_the_contract() -> None:
    assert compute.container().to_ir().config == {
        "image": None,
        "cpu": 1.0,
        "memory": 2048,
        "gpu": 0,
        "env": {},
    }
    assert compute.serverless().to_ir().config == {
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


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (lambda: compute.serverless(memory=0), "memory", r"memory must be an int greater than 0, found 0"),
        (lambda: compute.serverless(timeout=-5), "timeout", r"timeout must be an int greater than 0"),
        (lambda: compute.serverless(runtime="node18"), "runtime", r"runtime must be a Python runtime such as 'python3.12', found 'node18'"),
        (lambda: compute.container(cpu=0), "cpu", r"cpu must be a number greater than 0, found 0"),
        (lambda: compute.container(gpu=-1), "gpu", r"gpu must be an int at least 0, found -1"),
        (lambda: compute.local(workers=0), "workers", r"workers must be an int at least 1, found 0"),
        (lambda: compute.serverless(env={"1BAD": "x"}), "env", r"environment variable name '1BAD' must match"),
        (lambda: compute.container(env={"K": 3}), "env", r"env\['K'\] must be a str or glacier.Secret, found 3"),
        (lambda: ObjectStorage("hot"), "access_pattern", r"access_pattern must be one of 'frequent', 'infrequent', 'archive', found 'hot'"),
        (lambda: ObjectStorage(aws_storage_class="COLD"), "aws_storage_class", r"aws_storage_class: AWS has no storage_class 'COLD'; expected one of STANDARD"),
        (lambda: ObjectStorage(gcp_storage_class="COLD"), "gcp_storage_class", r"gcp_storage_class: GCP has no storage_class 'COLD'; expected one of"),
        (lambda: ObjectStorage(azure_tier="Frozen"), "azure_tier", r"azure_tier: Azure has no tier 'Frozen'; expected one of Hot, Cool, Cold, Archive"),
        (lambda: ObjectStorage(retention_days=0), "retention_days", r"retention_days must be an int at least 1 or None, found 0"),
        (lambda: ObjectStorage(colour="blue"), None, r"got an unexpected keyword argument 'colour'; ObjectStorage takes: access_pattern, "),
        (lambda: LocalFS("  "), "base_path", r"base_path must be a non-empty folder path, found '  '"),
        (lambda: Secret("bad name!"), "secret", r"secret must be a secret name of 1-128 .*, found 'bad name!'"),
    ],
)  # fmt: skip
def test_bad_resource_arguments_name_the_field(make: Any, field: str | None, message: str) -> None:
    with pytest.raises(ResourceError, match=message) as caught:
        make()
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{caught.value.resource}: ")


def test_resources_are_immutable() -> None:
    storage, fn = ObjectStorage(), compute.serverless()
    with pytest.raises(dataclasses.FrozenInstanceError):
        storage.versioning = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fn.memory = 1  # type: ignore[misc]
    changed = dataclasses.replace(storage, versioning=False)
    assert changed.versioning is False and storage.versioning is True


def test_secrets_in_env() -> None:
    fn = compute.serverless(env={"TOKEN": Secret("api/token"), "MODE": "prod", "A": Secret("a")})
    assert list(fn.env) == ["A", "MODE", "TOKEN"]
    assert fn.secrets() == (Secret("a"), Secret("api/token"))
    assert repr(Secret("a")) == "Secret('a')" and Secret("a").name == "a"
    assert fn.to_ir().config["env"]["TOKEN"] == {"secret": "api/token"}
