"""glacier.model: resources check plainly valid arguments themselves and let pydantic judge the
rest. The fast path must accept only what pydantic accepts, and yield the same values."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any, ClassVar, Literal

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glacier.ir as ir
import glacier.spec as spec
from glacier import Secret, compute
from glacier.errors import DefinitionError
from glacier.model import Field, Model, _Schema, field_validator, model_validator
from glacier.resources import ResourceError
from glacier.storage import LocalFS, ObjectStorage
from glacier_aws.compute import Fargate, Lambda
from glacier_aws.storage import S3
from glacier_azure.compute import AzureFunction, ContainerApp
from glacier_azure.storage import BlobStorage
from glacier_gcp.compute import CloudFunction, CloudRun
from glacier_gcp.storage import GCS

#: Every resource class, with the arguments it requires.
CLASSES: list[tuple[type[Model], dict[str, Any]]] = [
    (compute.Local, {}),
    (compute.Container, {}),
    (compute.Serverless, {}),
    (ObjectStorage, {}),
    (LocalFS, {}),
    (S3, {"bucket": "my-bucket"}),
    (Lambda, {}),
    (Fargate, {}),
    (GCS, {"bucket": "my-bucket"}),
    (CloudFunction, {}),
    (CloudRun, {}),
    (BlobStorage, {"container": "data"}),
    (AzureFunction, {}),
    (ContainerApp, {}),
]

#: Values of every kind the fields see: right, wrong, coercible by pydantic, out of range.
VALUES: list[Any] = [
    None, 0, 1, -1, 2, 21, 128, 512, 1024, 2048, 4096, 10241, 0.25, 1.0, 1.5, 2.0, True, False,
    "", "x", "1024", "1.0", "true", "frequent", "archive", "hot", "Hot", "Cool", "GLACIER_IR",
    "NEARLINE", "python3.12", "python312", "node18", "arm64", "x86_64", "my-bucket", "Bad_Bucket",
    "raw", "/raw/", "us-east-1", "EU", "devstoreaccount1", "./data", [], (),
    ["arn:aws:lambda:us-east-1:1:layer:x:1"], ("arn:aws:lambda:us-east-1:1:layer:x:1",),
    ["not-an-arn"], {}, {"A": "b"}, {"B": "1", "A": Secret("s")}, {"1A": "b"}, {"A": 3},
    Secret("s"), 10**30, 10**400, float("nan"), b"bytes", object(),
    "python3.12\n", "api/token\n", "my-bucket\n", "pythön3.12", "\uff41pi",
]  # fmt: skip


def _values(obj: Model) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in type(obj).model_fields}


def _pydantic(cls: type[Model]) -> Any:
    return cls._schema().pydantic_model(cls)


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b or (a != a and b != b)  # NaN


@pytest.mark.parametrize(("cls", "required"), CLASSES, ids=[c.__name__ for c, _ in CLASSES])
def test_fast_path_agrees_with_pydantic_on_every_field(
    cls: type[Model], required: dict[str, Any]
) -> None:
    judge = _pydantic(cls)
    checked = 0
    for name in cls.model_fields:
        for value in VALUES:
            arguments = {**required, name: value}
            try:
                expected: dict[str, Any] | None = _values(judge(**arguments))
            except pydantic.ValidationError as exc:
                expected, errors = None, exc.errors(include_context=False)
            try:
                found: dict[str, Any] | None = _values(cls(**arguments))
            except ResourceError as exc:
                found = None
                assert expected is None, f"{cls.__name__}({name}={value!r}): refused, {exc}"
                assert exc.errors(include_context=False) == errors
            if found is not None:
                assert expected is not None, f"{cls.__name__}({name}={value!r}) accepted"
                assert _same(found, expected), (name, value, found, expected)
            checked += 1
    assert checked == len(cls.model_fields) * len(VALUES)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([v for v in VALUES if isinstance(v, str)]),
    st.builds(Secret, st.sampled_from(["a", "api/token"])),
)
_ANY = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=4), inner, max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CLASSES), st.data())
def test_fast_path_agrees_with_pydantic_on_generated_values(
    case: tuple[type[Model], dict[str, Any]], data: st.DataObject
) -> None:
    cls, required = case
    names = data.draw(st.lists(st.sampled_from(list(cls.model_fields)), max_size=3, unique=True))
    arguments = {**required, **{n: data.draw(_ANY, label=n) for n in names}}
    try:
        expected: dict[str, Any] | None = _values(_pydantic(cls)(**arguments))
    except pydantic.ValidationError:
        expected = None
    try:
        found: dict[str, Any] | None = _values(cls(**arguments))
    except ResourceError:
        found = None
    assert (found is None) == (expected is None), (arguments, found, expected)
    if found is not None:
        assert _same(found, expected), (arguments, found, expected)


def test_plainly_valid_arguments_never_reach_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pydantic(self: _Schema, cls: type[Model]) -> Any:
        raise AssertionError(f"{cls.__name__} asked pydantic")

    monkeypatch.setattr(_Schema, "pydantic_model", no_pydantic)
    for cls, required in CLASSES:
        cls(**required)
    compute.serverless(memory=2048, timeout=60, env={"TOKEN": Secret("api/token"), "MODE": "x"})
    compute.container(image="repo/image:1", cpu=2, memory=4096, gpu=1)
    ObjectStorage("archive", aws_storage_class="DEEP_ARCHIVE", retention_days=30)
    Lambda(memory=512, layers=["arn:aws:lambda:us-east-1:1:layer:x:1"], reserved_concurrency=2)
    Fargate(cpu=2, memory=4096)
    S3("my-bucket", prefix="/raw", region="eu-west-1", storage_class="STANDARD_IA")
    LocalFS(base_path=__import__("pathlib").Path("data"))


def test_invalid_arguments_are_worded_by_pydantic() -> None:
    with pytest.raises(ResourceError) as caught:
        Fargate(cpu=3, memory=1)
    assert isinstance(caught.value, DefinitionError | pydantic.ValidationError)
    assert "Fargate(cpu=3, memory=1) is not a size Fargate offers" in str(caught.value)
    assert str(caught.value).startswith("Fargate: ")
    with pytest.raises(ResourceError, match=r"memory: Input should be a valid integer"):
        compute.serverless(memory="lots")  # type: ignore[arg-type]
    # What pydantic coerces is coerced, as it would be with a pydantic model.
    assert compute.serverless(memory="2048").memory == 2048  # type: ignore[arg-type]


def test_resource_error_is_loaded_on_first_use() -> None:
    import glacier.resource_error
    import glacier.resources

    assert glacier.resources.ResourceError is glacier.resource_error.ResourceError
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = glacier.resources.Nope  # type: ignore[attr-defined]


def test_models_are_frozen_comparable_hashable_and_picklable() -> None:
    fn = compute.serverless(memory=2048, env={"T": Secret("t"), "A": "1"})
    same = compute.serverless(env={"A": "1", "T": Secret("t")}, memory=2048)
    assert fn == same and hash(fn) == hash(same) and fn != compute.serverless()
    assert fn != compute.container() and ObjectStorage() != LocalFS()
    assert len({ObjectStorage(), ObjectStorage(), LocalFS()}) == 2
    for clone in (pickle.loads(pickle.dumps(fn)), copy.deepcopy(fn), copy.copy(fn)):
        assert clone == fn and clone.model_fields_set == fn.model_fields_set
    with pytest.raises(ResourceError, match="Instance is frozen"):
        fn.memory = 1  # type: ignore[misc]
    with pytest.raises(ResourceError, match="Instance is frozen"):
        del fn.memory  # type: ignore[misc]
    assert fn.memory == 2048


def test_dump_copy_repr_and_fields() -> None:
    fn = compute.Serverless(env={"T": Secret("t")})
    assert fn.model_dump() == {
        "memory": 1024,
        "timeout": 300,
        "runtime": "python3.12",
        "env": {"T": {"secret": "t"}},
    }
    layers = Lambda(layers=["arn:aws:lambda:us-east-1:1:layer:x:1"])
    assert layers.model_dump()["layers"] == ("arn:aws:lambda:us-east-1:1:layer:x:1",)
    assert layers.model_dump(mode="json")["layers"] == ["arn:aws:lambda:us-east-1:1:layer:x:1"]
    dumped = fn.model_dump()
    dumped["env"]["X"] = "y"  # a new dict: the object is not changed through it
    assert list(fn.env) == ["T"]
    assert repr(fn) == "Serverless(env={'T': Secret('t')})"
    assert repr(compute.local()) == "Local(workers=1)"
    assert repr(ObjectStorage()) == "ObjectStorage()"
    assert fn.model_fields_set == {"env"}
    assert list(compute.Serverless.model_fields) == ["memory", "timeout", "runtime", "env"]
    assert fn.model_fields is compute.Serverless.model_fields
    moved = fn.model_copy(update={"memory": 4096})
    assert (
        moved.memory == 4096 and fn.memory == 1024 and moved.model_fields_set == {"env", "memory"}
    )


def test_a_declaration_the_fast_path_cannot_check_is_refused() -> None:
    class Odd(Model):
        when: set[int] = Field(default_factory=set)

    with pytest.raises(TypeError, match=r"Odd.when: glacier.model.Model fields cannot have type"):
        Odd()


def test_pydantic_declarations_in_a_resource_class_are_refused() -> None:
    # A third-party resource written against pydantic would silently lose its defaults and
    # validators; say which import to use instead.
    from glacier.compute import ComputeResource

    with pytest.raises(TypeError, match=r"Quota.limit: FieldInfo is pydantic's; .*glacier.model"):

        class Quota(ComputeResource):
            limit: int = pydantic.Field(default=1, ge=1)

    with pytest.raises(TypeError, match=r"Checked._check: PydanticDescriptorProxy is pydantic's"):

        class Checked(ComputeResource):
            limit: int = 1

            @pydantic.field_validator("limit")
            @classmethod
            def _check(cls, v: int) -> int:
                return v


def test_validators_run_in_declaration_order_before_and_after() -> None:
    seen: list[str] = []

    class Ordered(Model):
        name: str = "x"
        size: int = Field(default=1, ge=1)

        @field_validator("name", mode="before")
        @classmethod
        def _strip(cls, v: Any) -> Any:
            seen.append("before")
            return v.strip() if isinstance(v, str) else v

        @field_validator("name")
        @classmethod
        def _upper(cls, v: str) -> str:
            seen.append("after")
            return v.upper()

        @model_validator(mode="after")
        def _whole(self) -> Ordered:
            seen.append("model")
            if self.name == "BAD":
                raise ValueError("name BAD is reserved")
            return self

    assert Ordered(name="  ab ").name == "AB" and seen == ["before", "after", "model"]
    with pytest.raises(ResourceError, match="name BAD is reserved"):
        Ordered(name="bad")
    with pytest.raises(ResourceError, match="size: Input should be greater than or equal to 1"):
        Ordered(size=0)


@pytest.mark.parametrize(
    ("ir_cls", "spec_cls"),
    [
        (ir.ResourceIR, spec.ResourceSpec),
        (ir.ColumnIR, spec.ColumnSpec),
        (ir.SchemaIR, spec.SchemaSpec),
        (ir.DatasetIR, spec.DatasetSpec),
        (ir.InputIR, spec.InputSpec),
        (ir.ParamIR, spec.ParamSpec),
        (ir.TaskIR, spec.TaskSpec),
        (ir.PipelineIR, spec.PipelineSpec),
    ],
)
def test_the_two_ir_representations_have_the_same_fields(ir_cls: Any, spec_cls: Any) -> None:
    plain = {f.name: f for f in dataclasses.fields(ir_cls)}
    assert list(plain) == list(spec_cls.model_fields)
    for name, f in plain.items():
        model = spec_cls.model_fields[name]
        if f.default_factory is not dataclasses.MISSING:
            assert (
                model.default_factory is not None and f.default_factory() == model.default_factory()
            )
        elif f.default is dataclasses.MISSING:
            assert model.is_required(), name
        else:
            assert f.default == model.default, name


# -- declarations as a third-party provider writes them -----------------------------------------


def test_validators_run_as_the_class_own_on_both_paths() -> None:
    from glacier.compute import ComputeResource

    class Batch(ComputeResource):
        MAX_VCPUS: ClassVar[int] = 4
        vcpus: int = 1
        memory: int = 1024

        @field_validator("vcpus")
        @classmethod
        def _vcpus(cls, v: int) -> int:
            if v > cls.MAX_VCPUS:
                raise ValueError(f"vcpus must be at most {cls.MAX_VCPUS}")
            return v

        @model_validator(mode="after")
        def _memory(self) -> Batch:
            if self.memory < self.per_cpu() * self.vcpus or not isinstance(self, Batch):
                raise ValueError(f"memory must be at least {self.per_cpu()} MB per vCPU")
            assert self.model_fields_set <= {"vcpus", "memory"}
            return self

        def per_cpu(self) -> int:
            return 512

    assert Batch(vcpus=2, memory="1024").memory == 1024  # type: ignore[arg-type]  # via pydantic
    with pytest.raises(ResourceError, match="vcpus must be at most 4"):
        Batch(vcpus=8, memory="4096")  # type: ignore[arg-type]
    with pytest.raises(ResourceError, match="memory must be at least 512 MB per vCPU"):
        Batch(vcpus=4, memory="1024")  # type: ignore[arg-type]
    assert repr(Batch(vcpus=2)) == "Batch(vcpus=2)"


def test_annotations_resolve_where_the_class_is_defined() -> None:
    Tier = Literal["small", "large"]

    class Sized(Model):
        tier: Tier = "small"  # type: ignore[valid-type]
        LIMITS: ClassVar[UndefinedAtRuntime] = {}  # type: ignore[name-defined]  # noqa: F821

    assert Sized(tier="large").tier == "large"
    with pytest.raises(ResourceError, match="Input should be 'small' or 'large'"):
        Sized(tier="huge")


def test_declarations_glacier_model_cannot_honour_are_type_errors() -> None:
    from typing import Annotated

    class Constrained(Model):
        size: Annotated[int, Field(gt=0)] = 1

    with pytest.raises(TypeError, match=r"Constrained.size: .*put constraints in Field\(...\)"):
        Constrained()
    with pytest.raises(TypeError, match="a field validator takes \\(cls, value\\)"):

        class WithInfo(Model):
            x: int = 1

            @field_validator("x")
            @classmethod
            def _x(cls, v: int, info: Any) -> int:
                return v

    with pytest.raises(TypeError, match="model_validator\\(mode='after'\\) only"):
        model_validator(mode="before")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Configured\.model_config: glacier\.model reads no"):

        class Configured(Model):
            model_config = {"str_strip_whitespace": True}  # type: ignore[assignment]
            name: str = "x"


def test_star_validators_and_overrides_by_name() -> None:
    class Base(Model):
        a: str = "x"
        b: str = "y"

        @field_validator("*")
        @classmethod
        def _strip(cls, v: str) -> str:
            return v.strip()

        @field_validator("a")
        @classmethod
        def _a(cls, v: str) -> str:
            if v == "forbidden":
                raise ValueError("a may not be 'forbidden'")
            return v

    class Child(Base):
        @field_validator("a")
        @classmethod
        def _a(cls, v: str) -> str:  # replaces Base._a, as in pydantic
            return v.upper()

    assert (Base(a=" p ", b=" q ").a, Base(a=" p ", b=" q ").b) == ("p", "q")
    with pytest.raises(ResourceError, match="a may not be 'forbidden'"):
        Base(a="forbidden")
    assert Child(a="forbidden").a == "FORBIDDEN"


def test_unions_keep_the_exact_type_as_pydantic_does() -> None:
    class Sized(Model):
        size: float | int = 1

    assert type(Sized(size=2).size) is int and type(Sized(size=2.0).size) is float
    assert _same(_values(Sized(size=2)), _values(_pydantic(Sized)(size=2)))


def test_equal_objects_hash_alike_and_cached_properties_stay_out() -> None:
    import functools

    fn = compute.serverless(env={"A": "1", "B": "2"})
    reordered = fn.model_copy(update={"env": {"B": "2", "A": "1"}})
    assert fn == reordered and hash(fn) == hash(reordered)

    class Named(Model):
        name: str = "x"

        @functools.cached_property
        def arn(self) -> str:
            return f"arn:aws:s3:::{self.name}"

    named = Named()
    before = hash(named)
    assert named.arn == "arn:aws:s3:::x"
    assert hash(named) == before and named == Named() and named.model_dump() == {"name": "x"}
    state = named.__getstate__()
    assert state["values"] == {"name": "x"}  # what pickling keeps


def test_resources_are_fields_of_a_users_pydantic_model() -> None:
    class Job(pydantic.BaseModel):
        compute: compute.Serverless
        storage: ObjectStorage | None = None

    job = Job.model_validate_json('{"compute": {"memory": 2048}, "storage": {"versioning": false}}')
    assert job.compute == compute.Serverless(memory=2048) and job.storage is not None
    assert job.storage.versioning is False and job.compute.model_fields_set == {"memory"}
    same = Job(compute=job.compute)
    assert same.compute is job.compute
    assert json.loads(job.model_dump_json())["compute"]["memory"] == 2048
    with pytest.raises(pydantic.ValidationError, match="greater than 0"):
        Job.model_validate({"compute": {"memory": 0}})
    assert "compute" in Job.model_json_schema()["properties"]


def test_more_of_pydantics_model_interface() -> None:
    fn = compute.Serverless(memory=2048)
    assert fn.model_dump(exclude_unset=True) == {"memory": 2048}
    assert set(fn.model_dump(exclude={"env"})) == {"memory", "timeout", "runtime"}
    assert json.loads(fn.model_dump_json())["memory"] == 2048
    assert compute.Serverless.model_validate({"memory": 2048}) == fn
    assert compute.Serverless.model_validate(fn) is fn
    assert compute.Serverless.model_json_schema()["properties"]["memory"]["exclusiveMinimum"] == 0
    deep = compute.serverless(env={"A": "1"}).model_copy(deep=True)
    assert deep.env == {"A": "1"}
    assert compute.Serverless.model_fields["memory"].annotation is int
    assert compute.Serverless.model_fields["env"].is_required() is False
    assert str(fn) == "memory=2048"
