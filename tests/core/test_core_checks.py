"""glacier.checks: the small checks resources call from ``__post_init__``, and the base that
turns a wrong call into a ResourceError. Each message is pinned."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar

import pytest

from glacier import Secret, compute
from glacier.checks import (
    Checked,
    check_items,
    check_name,
    check_one_of,
    check_pattern,
    check_range,
    check_type,
    fail,
    normalize,
    short_repr,
)
from glacier.compute import ComputeResource, EnvValue, check_env
from glacier.errors import DefinitionError, ResourceError
from glacier.storage import ObjectStorage
from glacier_aws.naming import S3_BUCKET


@dataclass(frozen=True)
class Box(Checked):
    """A declaration to run single checks on."""

    value: Any = None


def _message(check: Any, value: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ResourceError) as caught:
        check(Box(value), "value", *args, **kwargs)
    assert caught.value.resource == "Box" and caught.value.field == "value"
    return str(caught.value)


def test_check_type_is_exact_bools_are_not_numbers_ints_are_floats() -> None:
    check_type(Box(3), "value", int)
    check_type(Box(3), "value", float)
    check_type(Box(None), "value", str, optional=True)
    assert _message(check_type, "1024", int) == "Box: value must be an int, found '1024'"
    assert _message(check_type, True, int) == "Box: value must be an int, found True"
    assert _message(check_type, True, float) == "Box: value must be a number, found True"
    assert _message(check_type, None, str) == "Box: value must be a str, found None"
    assert (
        _message(check_type, 1, str, bool, optional=True)
        == "Box: value must be a str or a bool or None, found 1"
    )
    assert _message(check_type, "x" * 100, int).endswith("found '" + "x" * 76 + "...")


@pytest.mark.parametrize(
    ("value", "kind", "bounds", "message"),
    [
        (0, int, {"gt": 0}, "Box: value must be an int greater than 0, found 0"),
        (-1, int, {"ge": 0}, "Box: value must be an int at least 0, found -1"),
        (64, int, {"ge": 128, "le": 10240}, "Box: value must be an int from 128 to 10240, found 64"),
        (16, float, {"gt": 0, "le": 8}, "Box: value must be a number greater than 0 and at most 8, found 16"),
        (2.5, int, {}, "Box: value must be an int, found 2.5"),
        ("1024", int, {"gt": 0}, "Box: value must be an int greater than 0, found '1024'"),
        (True, int, {"ge": 0}, "Box: value must be an int at least 0, found True"),
        (float("nan"), float, {"gt": 0}, "Box: value must be a number greater than 0, found nan"),
        (float("inf"), float, {}, "Box: value must be a number, found inf"),
        (5, int, {"lt": 5}, "Box: value must be an int less than 5, found 5"),
    ],
)  # fmt: skip
def test_check_range(value: Any, kind: type, bounds: dict[str, float], message: str) -> None:
    assert _message(check_range, value, kind, **bounds) == message


def test_check_range_accepts_values_in_bounds_and_optional_none() -> None:
    check_range(Box(128), "value", int, ge=128, le=10240)
    check_range(Box(0.25), "value", float, gt=0)
    check_range(Box(2), "value", float, gt=0)  # an int is a number
    check_range(Box(None), "value", int, ge=1, optional=True)
    assert (
        _message(check_range, None, int, ge=1) == "Box: value must be an int at least 1, found None"
    )


def test_check_pattern_matches_in_full() -> None:
    check_pattern(Box("python3.12"), "value", r"python3\.\d{1,2}", "a runtime")
    for bad in ("python3.12\n", "xpython3.12", "python3.123", 3):
        assert _message(check_pattern, bad, r"python3\.\d{1,2}", "a runtime like 'python3.12'") == (
            f"Box: value must be a runtime like 'python3.12', found {bad!r}"
        )
    check_pattern(Box(None), "value", r"x", "x", optional=True)


def test_check_one_of_compares_type_for_type() -> None:
    check_one_of(Box(512), "value", (512, 2048))
    assert _message(check_one_of, 512.0, (512, 2048)) == (
        "Box: value must be one of 512, 2048, found 512.0"
    )
    assert _message(check_one_of, True, (1, 2)) == "Box: value must be one of 1, 2, found True"
    assert _message(check_one_of, "hot", ("Hot", "Cool")) == (
        "Box: value must be one of 'Hot', 'Cool', found 'hot'"
    )


def test_check_name_uses_the_cloud_naming_rule() -> None:
    check_name(Box("my-bucket"), "value", S3_BUCKET)
    assert _message(check_name, "ab", S3_BUCKET) == (
        "Box: value 'ab' is 2 characters; S3 bucket names must be 3-63 characters"
    )
    assert _message(check_name, 7, S3_BUCKET) == "Box: value must be a str, found 7"


def test_check_items() -> None:
    check_items(Box(("a", "b")), "value", str)
    assert _message(check_items, "ab", str) == "Box: value must be a tuple or list, found 'ab'"
    assert _message(check_items, ["a", 1], str) == "Box: value[1] must be a str, found 1"


def test_fail_and_normalize() -> None:
    box = Box(" x ")
    normalize(box, value="x")
    assert box.value == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        box.value = "y"  # type: ignore[misc]
    with pytest.raises(ResourceError, match=r"^Box: value is odd$") as caught:
        fail(box, "value", "value is odd")
    assert isinstance(caught.value, DefinitionError) and isinstance(caught.value, ValueError)


# -- Checked: the call itself ------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket(Checked):
    name: str
    _: KW_ONLY
    prefix: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_pattern(self, "name", r"[a-z0-9-]{3,63}", "3-63 lowercase letters, digits or '-'")
        check_type(self, "prefix", str)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Bucket(prefix="raw"), "Bucket: missing a required argument: 'name'; Bucket takes: name, prefix, tags"),
        (lambda: Bucket("abc", colour=1), "Bucket: got an unexpected keyword argument 'colour'; Bucket takes: name, prefix, tags"),
        (lambda: Bucket("abc", "raw"), "Bucket: too many positional arguments; Bucket takes: name, prefix, tags"),
        (lambda: Bucket("abc", name="abc"), "Bucket: multiple values for argument 'name'; Bucket takes: name, prefix, tags"),
        (lambda: Bucket("A"), "Bucket: name must be 3-63 lowercase letters, digits or '-', found 'A'"),
    ],
)  # fmt: skip
def test_a_wrong_call_is_a_resource_error(make: Any, message: str) -> None:
    with pytest.raises(ResourceError) as caught:
        make()
    assert str(caught.value) == message


def test_a_call_without_arguments_is_left_to_python() -> None:
    # copy, pickle and pydantic make objects with a bare cls.__new__(cls); so does Bucket().
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'name'"):
        Bucket()  # type: ignore[call-arg]


def test_copies_pickles_and_replacements() -> None:
    lake = Bucket("lake", prefix="raw", tags={"team": "data"})
    for clone in (copy.copy(lake), copy.deepcopy(lake), pickle.loads(pickle.dumps(lake))):
        assert clone == lake and clone is not lake
    assert dataclasses.replace(lake, prefix="in").prefix == "in"
    with pytest.raises(ResourceError, match="Bucket: name must be 3-63"):
        dataclasses.replace(lake, name="No")
    fn = compute.serverless(env={"B": "2", "A": "1"})
    assert pickle.loads(pickle.dumps(fn)) == fn and list(copy.deepcopy(fn).env) == ["A", "B"]


def test_short_repr_shows_what_differs_from_the_defaults() -> None:
    assert short_repr(ObjectStorage()) == "ObjectStorage()"
    assert short_repr(Bucket("lake", tags={"a": "b"})) == "Bucket(name='lake', tags={'a': 'b'})"
    assert repr(Bucket("lake")) == "Bucket(name='lake', prefix='', tags={})"  # a dataclass's own


# -- a provider author's resource, declared as the docstrings show ------------------------------


@dataclass(frozen=True, kw_only=True)
class Batch(ComputeResource):
    kind: ClassVar[str] = "container"
    provider: ClassVar[str | None] = "mycloud"

    vcpus: int = 1
    memory: int = 2048
    image: str | None = None
    env: dict[str, EnvValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self, "vcpus", int, ge=1, le=16)
        check_range(self, "memory", int, ge=512)
        check_type(self, "image", str, optional=True)
        normalize(self, env=check_env(self))
        if self.memory < 512 * self.vcpus:
            fail(self, "memory", f"memory must be at least 512 MiB per vCPU, found {self.memory}")

    def describe(self) -> str:
        return f"batch({self.vcpus} vCPU)"


def test_a_third_party_resource_is_a_few_lines() -> None:
    job = Batch(vcpus=2, memory=4096, env={"Z": "1", "A": "2"})
    assert (job.get_type(), job.get_provider(), job.supports_provider("aws")) == (
        "container",
        "mycloud",
        False,
    )
    ir = job.to_ir()
    assert ir.cls == f"{__name__}:Batch" and ir.role == "compute"
    assert ir.config == {"vcpus": 2, "memory": 4096, "image": None, "env": {"A": "2", "Z": "1"}}
    with pytest.raises(
        ResourceError, match=r"^Batch: vcpus must be an int from 1 to 16, found 32$"
    ):
        Batch(vcpus=32)
    with pytest.raises(ResourceError, match=r"^Batch: memory must be at least 512 MiB per vCPU"):
        Batch(vcpus=8, memory=1024)
    with pytest.raises(ResourceError, match=r"^Batch: got an unexpected keyword argument 'cpu'"):
        Batch(cpu=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="non-frozen dataclass"):

        @dataclass(kw_only=True)  # a resource must be frozen
        class Mutable(ComputeResource):
            size: int = 1


def test_resources_are_fields_of_a_users_pydantic_model() -> None:
    import pydantic

    class Job(pydantic.BaseModel):
        compute: compute.Serverless
        storage: ObjectStorage | None = None
        lake: Bucket | None = None

    job = Job.model_validate_json(
        '{"compute": {"memory": 2048, "env": {"B": "x", "A": {"secret": "s"}}},'
        ' "lake": {"name": "my-lake", "prefix": "raw"}}'
    )
    assert job.compute == compute.serverless(memory=2048, env={"A": Secret("s"), "B": "x"})
    assert list(job.compute.env) == ["A", "B"] and job.lake == Bucket("my-lake", prefix="raw")
    with pytest.raises(pydantic.ValidationError, match="Serverless: memory must be an int greater"):
        Job.model_validate({"compute": {"memory": 0}})
    with pytest.raises(pydantic.ValidationError, match="Bucket: name must be 3-63 lowercase"):
        Job.model_validate({"compute": {}, "lake": {"name": "No"}})
    assert '"env":{"A":{"secret":"s"},"B":"x"}' in job.model_dump_json()
