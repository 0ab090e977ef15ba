"""Frozen, validated configuration classes, with pydantic as the judge but not the cost.

Every resource (``ObjectStorage``, ``compute.serverless(...)``, ``S3``, ...) is declared like a
pydantic model: annotated fields, ``Field(default, ge=..., pattern=...)``,
``@field_validator`` and ``@model_validator(mode="after")``. Importing pydantic and building
its validators costs a local run ~50 ms of its whole-process time (import, plugin discovery
and interpreter teardown, measured in ``benchmarks/local_run.py``), more than every other part
of Glacier's overhead together. So :class:`Model` checks arguments itself on the common path
(values of exactly the declared types, the declared constraints, the class's own validators)
and hands every other input to pydantic: a model built from the same declaration decides,
coerces what pydantic coerces, and words the error (:class:`glacier.resources.ResourceError`,
a pydantic ``ValidationError``). The fast path only ever accepts what pydantic accepts, and
yields the same values; ``tests/core/test_core_model.py`` holds it to that.

Supported field types: ``int``, ``float``, ``str``, ``bool``, ``None``, ``Literal[...]``,
unions of those, ``tuple[T, ...]``, ``dict[str, T]`` and other :class:`Model` classes.
"""

from __future__ import annotations

import copy
import inspect
import re
import sys
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[type], type]:  # static typing only
        return lambda cls: cls


_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<required>"})()
_CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")

_T = TypeVar("_T")


class FieldInfo:
    """A field's default and constraints, as given to :func:`Field`."""

    __slots__ = ("constraints", "default", "default_factory", "description")

    def __init__(
        self,
        default: Any,
        default_factory: Callable[[], Any] | None,
        description: str | None,
        constraints: dict[str, Any],
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.description = description
        self.constraints = constraints

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        # A mutable default is copied for each object, as pydantic does.
        return copy.copy(self.default) if isinstance(self.default, dict | list) else self.default


def Field(
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A field with a default and constraints (the subset of ``pydantic.Field`` resources use)."""
    given: dict[str, Any] = {"gt": gt, "ge": ge, "lt": lt, "le": le, "min_length": min_length}
    given |= {"max_length": max_length, "pattern": pattern}
    constraints = {k: v for k, v in given.items() if v is not None}
    return FieldInfo(default, default_factory, description, constraints)


class _Validator:
    """A ``field_validator``/``model_validator`` marker, collected when the class is made."""

    __slots__ = ("fields", "func", "mode")

    def __init__(self, func: Any, fields: tuple[str, ...], mode: str) -> None:
        self.func, self.fields, self.mode = func, fields, mode


def field_validator(
    *fields: str, mode: Literal["before", "after"] = "after"
) -> Callable[[Any], Any]:
    """Check or normalize ``fields``: the decorated classmethod takes the value and returns it
    (``before``: the raw argument; ``after``: the value once its type is checked), raising
    ``ValueError`` with a message naming the field when it is wrong."""

    def mark(func: Any) -> Any:
        return _Validator(
            func if isinstance(func, classmethod) else classmethod(func), fields, mode
        )

    return mark


def model_validator(*, mode: Literal["after"]) -> Callable[[_T], _T]:
    """Check the whole object once every field is valid: the decorated method takes ``self``
    and returns it, raising ``ValueError`` when the combination is wrong."""

    def mark(func: Any) -> Any:
        return _Validator(func, (), mode)

    return mark


class _Rejected(Exception):
    """The fast path cannot accept a value; pydantic decides (and words the error)."""


_REJECTED = _Rejected()


def _checker(tp: Any, info: FieldInfo | None, where: str) -> Callable[[Any], Any]:
    """A function returning the value of type ``tp`` (constraints included) or raising."""
    check = _type_checker(tp, where)
    if info is None or not info.constraints:
        return check
    c = info.constraints
    pattern = re.compile(c["pattern"]) if "pattern" in c else None

    def constrained(value: Any) -> Any:
        value = check(value)
        if value is None:
            return value
        if isinstance(value, int | float) and not (
            ("gt" not in c or value > c["gt"])
            and ("ge" not in c or value >= c["ge"])
            and ("lt" not in c or value < c["lt"])
            and ("le" not in c or value <= c["le"])
        ):
            raise _REJECTED
        if isinstance(value, str | tuple | dict) and not (
            c.get("min_length", 0) <= len(value) <= c.get("max_length", sys.maxsize)
        ):
            raise _REJECTED
        if pattern is not None and (not isinstance(value, str) or not pattern.search(value)):
            raise _REJECTED
        return value

    return constrained


def _type_checker(tp: Any, where: str) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is float:

        def as_float(v: Any) -> Any:  # pydantic turns an int into a float; so does this
            if type(v) is float:
                return v
            if type(v) is int:
                return float(v)
            raise _REJECTED

        return as_float
    if tp in (int, str, bool):

        def exact(v: Any) -> Any:
            if type(v) is not tp:
                raise _REJECTED
            return v

        return exact
    if tp is None or tp is type(None):

        def none(v: Any) -> Any:
            if v is not None:
                raise _REJECTED
            return v

        return none
    if isinstance(tp, type) and issubclass(tp, Model):

        def instance(v: Any) -> Any:
            if not isinstance(v, tp):
                raise _REJECTED
            return v

        return instance
    if origin is Literal:
        allowed = [(type(a), a) for a in args]

        def literal(v: Any) -> Any:
            if (type(v), v) not in allowed:
                raise _REJECTED
            return v

        return literal
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        members = [_type_checker(a, where) for a in args]

        def union(v: Any) -> Any:
            for member in members:
                try:
                    return member(v)
                except _Rejected:
                    pass
            raise _REJECTED

        return union
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _type_checker(args[0], where)

        def sequence(v: Any) -> Any:
            if type(v) not in (tuple, list):
                raise _REJECTED
            return tuple(item(x) for x in v)

        return sequence
    if origin is dict and len(args) == 2:
        key, val = _type_checker(args[0], where), _type_checker(args[1], where)

        def mapping(v: Any) -> Any:
            if type(v) is not dict:
                raise _REJECTED
            return {key(k): val(x) for k, x in v.items()}

        return mapping
    msg = f"{where}: glacier.model.Model fields cannot have type {tp!r}"
    raise TypeError(msg)


class _Schema:
    """What a Model class checks, built on its first use (not at import)."""

    def __init__(self, cls: type[Model]) -> None:
        hints = typing.get_type_hints(cls)
        self.fields: dict[str, FieldInfo] = {}
        self.types: dict[str, Any] = {}
        validators: list[_Validator] = []
        for klass in reversed(cls.__mro__):
            if not (isinstance(klass, type) and issubclass(klass, Model)):
                continue
            for name in inspect.get_annotations(klass):
                hint = hints[name]
                if name.startswith("_") or hint is ClassVar or typing.get_origin(hint) is ClassVar:
                    continue
                declared = klass.__dict__.get(name, _MISSING)
                info = declared if isinstance(declared, FieldInfo) else Field(declared)
                self.fields[name] = info
                self.types[name] = hints[name]
            validators += klass.__dict__.get("__glacier_validators__", ())
        self.before: dict[str, list[Callable[[Any], Any]]] = {n: [] for n in self.fields}
        self.after: dict[str, list[Callable[[Any], Any]]] = {n: [] for n in self.fields}
        self.model_validators: list[Callable[[Any], Any]] = []
        for v in validators:
            if not v.fields:
                self.model_validators.append(v.func)
            for name in v.fields:
                (self.before if v.mode == "before" else self.after)[name].append(
                    v.func.__get__(None, cls)
                )
        self.validators = validators
        where = cls.__qualname__
        self.checks = {
            n: _checker(self.types[n], i, f"{where}.{n}") for n, i in self.fields.items()
        }
        self._pydantic: Any = None

    def fast(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The validated values, or None when pydantic must decide."""
        values: dict[str, Any] = {}
        try:
            for name, info in self.fields.items():
                if name not in data:
                    if info.required:
                        return None
                    values[name] = info.make_default()
                    continue
                value = data[name]
                for before in self.before[name]:
                    value = before(value)
                value = self.checks[name](value)
                for after in self.after[name]:
                    value = after(value)
                values[name] = value
        except (_Rejected, ValueError, AssertionError):
            return None
        if len(data) > len(self.fields) or any(k not in self.fields for k in data):
            return None
        return values

    def pydantic_model(self, cls: type[Model]) -> Any:
        """A pydantic model with this declaration (fields, constraints, validators)."""
        if self._pydantic is None:
            import pydantic

            fields: dict[str, Any] = {}
            for name, info in self.fields.items():
                options: dict[str, Any] = {"description": info.description, **info.constraints}
                if info.default_factory is not None:
                    options["default_factory"] = info.default_factory
                elif info.default is not _MISSING:
                    options["default"] = info.default
                fields[name] = (self.types[name], pydantic.Field(**options))
            checks: dict[str, Any] = {}
            for i, v in enumerate(self.validators):
                if v.fields:
                    checks[f"field_{i}"] = pydantic.field_validator(*v.fields, mode=v.mode)(v.func)  # type: ignore[call-overload]
                else:
                    checks[f"model_{i}"] = pydantic.model_validator(mode="after")(v.func)
            self._pydantic = pydantic.create_model(  # type: ignore[call-overload]
                cls.__name__,
                __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
                __validators__=checks,
                __module__=cls.__module__,
                **fields,
            )
        return self._pydantic


class _ModelFields:
    """``Model.model_fields`` on the class and its instances, as pydantic offers it."""

    def __get__(self, obj: object, cls: type[Model]) -> dict[str, FieldInfo]:
        return cls._schema().fields


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class Model:
    """A frozen configuration object, validated on creation; see the module docstring."""

    __slots__ = ("__dict__", "_glacier_set")
    _glacier_set: frozenset[str]
    __glacier_schema__: ClassVar[_Schema | None] = None
    __glacier_validators__: ClassVar[tuple[_Validator, ...]] = ()
    model_fields: ClassVar[dict[str, FieldInfo]] = _ModelFields()  # type: ignore[assignment]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__glacier_schema__ = None
        for name, value in vars(cls).items():
            if type(value).__module__.startswith("pydantic"):  # e.g. pydantic.Field(...)
                msg = (
                    f"{cls.__qualname__}.{name}: {type(value).__name__} is pydantic's; a Glacier "
                    "resource is declared with Field, field_validator and model_validator from "
                    "glacier.model (they take pydantic's arguments)"
                )
                raise TypeError(msg)
        found = [(k, v) for k, v in vars(cls).items() if isinstance(v, _Validator)]
        for name, _ in found:
            delattr(cls, name)
        cls.__glacier_validators__ = tuple(v for _, v in found)

    @classmethod
    def _schema(cls) -> _Schema:
        schema = cls.__dict__.get("__glacier_schema__")
        if schema is None:
            schema = _Schema(cls)
            cls.__glacier_schema__ = schema
        return schema

    def __init__(self, /, **data: Any) -> None:
        cls = type(self)
        schema = cls._schema()
        values = schema.fast(data)
        if values is not None:
            object.__setattr__(self, "__dict__", values)
            if schema.model_validators and not self._run_model_validators(schema):
                values = None
        if values is None:
            values = self._validate_with_pydantic(schema, data)
            object.__setattr__(self, "__dict__", values)
        object.__setattr__(self, "_glacier_set", frozenset(data))

    def _run_model_validators(self, schema: _Schema) -> bool:
        try:
            for check in schema.model_validators:
                check(self)
        except (ValueError, AssertionError):
            return False
        return True

    def _validate_with_pydantic(self, schema: _Schema, data: Mapping[str, Any]) -> dict[str, Any]:
        import pydantic

        from glacier.resource_error import ResourceError

        cls = type(self)
        try:
            checked = schema.pydantic_model(cls)(**data)
        except pydantic.ValidationError as exc:
            error = ResourceError.from_exception_data(exc.title, exc.errors())  # type: ignore[arg-type]
            error.fields = tuple(schema.fields)
            raise error from None
        return {name: getattr(checked, name) for name in schema.fields}

    # -- the parts of pydantic's BaseModel interface Glacier and its users rely on -----------

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The fields given when the object was made (the others hold their defaults)."""
        return frozenset(self._glacier_set)

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The fields as a new dict; nested models become dicts, and with ``mode="json"``
        tuples become lists."""
        return {name: _dump(value, mode) for name, value in self.__dict__.items()}

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with ``update`` applied, not validated again (as pydantic's model_copy)."""
        copy = object.__new__(type(self))
        object.__setattr__(copy, "__dict__", {**self.__dict__, **(update or {})})
        object.__setattr__(copy, "_glacier_set", self._glacier_set | set(update or ()))
        return copy

    def __setattr__(self, name: str, value: Any) -> None:
        from glacier.resource_error import ResourceError

        line = {"type": "frozen_instance", "loc": (name,), "input": value}
        raise ResourceError.from_exception_data(type(self).__name__, [line])  # type: ignore[list-item]

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), _frozen(self.__dict__)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if k in self._glacier_set)
        return f"{type(self).__name__}({shown})"

    def __getstate__(self) -> dict[str, Any]:
        return {"values": self.__dict__, "set": self._glacier_set}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "__dict__", dict(state["values"]))
        object.__setattr__(self, "_glacier_set", frozenset(state["set"]))


def _dump(value: Any, mode: str) -> Any:
    if isinstance(value, Model):
        return value.model_dump(mode=mode)  # type: ignore[arg-type]
    if isinstance(value, dict):
        return {k: _dump(v, mode) for k, v in value.items()}
    if isinstance(value, tuple | list):
        items = [_dump(v, mode) for v in value]
        return items if mode == "json" or isinstance(value, list) else tuple(items)
    return value


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


__all__ = ["Field", "FieldInfo", "Model", "field_validator", "model_validator"]
