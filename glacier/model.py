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
Constraints go in ``Field(...)``; a validator takes ``(cls, value)`` (field) or ``self``
(model, ``mode="after"``). Anything else is a ``TypeError`` when the class is first used,
never a silently ignored declaration. Models also validate as fields of a user's own pydantic
models (``__get_pydantic_core_schema__``).
"""

from __future__ import annotations

import copy
import inspect
import json
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

_T = TypeVar("_T")


class FieldInfo:
    """A field's default and constraints, as given to :func:`Field`."""

    __slots__ = ("annotation", "constraints", "default", "default_factory", "description")

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
        self.annotation: Any = None  # the field's type, once its class is first used

    def is_required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        # A mutable default is copied for each object, as pydantic does.
        return copy.copy(self.default) if isinstance(self.default, dict | list) else self.default

    def __repr__(self) -> str:
        shown = {"default": self.default, **self.constraints}
        return f"FieldInfo({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


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
    """Check or normalize ``fields`` (``"*"``: all): the decorated classmethod takes
    ``(cls, value)`` and returns the value (``before``: the raw argument; ``after``: the value
    once its type is checked), raising ``ValueError`` with a message naming the field when it
    is wrong."""
    if mode not in ("before", "after"):
        raise TypeError(f"field_validator mode must be 'before' or 'after', found {mode!r}")

    def mark(func: Any) -> Any:
        method = func if isinstance(func, classmethod) else classmethod(func)
        _check_arity(method.__func__, 2, "a field validator takes (cls, value)")
        return _Validator(method, fields, mode)

    return mark


def model_validator(*, mode: Literal["after"]) -> Callable[[_T], _T]:
    """Check the whole object once every field is valid: the decorated method takes ``self``
    and returns it, raising ``ValueError`` when the combination is wrong."""
    if mode != "after":
        raise TypeError(
            f"glacier.model supports model_validator(mode='after') only, found {mode!r}"
        )

    def mark(func: Any) -> Any:
        _check_arity(func, 1, "a model validator takes (self)")
        return _Validator(func, (), mode)

    return mark


def _check_arity(func: Callable[..., Any], count: int, what: str) -> None:
    params = list(inspect.signature(func).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != count or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        name = getattr(func, "__qualname__", repr(func))
        raise TypeError(f"{name}: {what} (no validation-info argument in glacier.model)")


class _Rejected(Exception):
    """The fast path cannot accept a value; pydantic decides (and words the error)."""


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
            raise _Rejected
        if isinstance(value, str | tuple | dict) and not (
            c.get("min_length", 0) <= len(value) <= c.get("max_length", sys.maxsize)
        ):
            raise _Rejected
        if pattern is not None:
            # Only ASCII without line breaks: there Python's ``re`` and pydantic's Rust regex
            # agree (``$`` also matches before a final newline in Python, not in Rust).
            if not isinstance(value, str) or not value.isascii() or "\n" in value:
                raise _Rejected
            if not pattern.search(value):
                raise _Rejected
        return value

    return constrained


_PLAIN = (int, float, str, bool, type(None))


def _type_checker(tp: Any, where: str) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is float:

        def as_float(v: Any) -> Any:  # pydantic turns an int into a float; so does this
            if type(v) is float:
                return v
            if type(v) is int:
                try:
                    return float(v)
                except OverflowError:
                    raise _Rejected from None
            raise _Rejected

        return as_float
    if tp in (int, str, bool):

        def exact(v: Any) -> Any:
            if type(v) is not tp:
                raise _Rejected
            return v

        return exact
    if tp is None or tp is type(None):

        def none(v: Any) -> Any:
            if v is not None:
                raise _Rejected
            return v

        return none
    if isinstance(tp, type) and issubclass(tp, Model):

        def instance(v: Any) -> Any:
            if not isinstance(v, tp):
                raise _Rejected
            return v

        return instance
    if origin is Literal:
        allowed = [(type(a), a) for a in args]

        def literal(v: Any) -> Any:
            if (type(v), v) not in allowed:
                raise _Rejected
            return v

        return literal
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        members = [_type_checker(a, where) for a in args]
        # pydantic's smart unions prefer the member of the value's exact type (2 stays an int
        # in ``float | int``); then the others in order.
        exact_member = {a: m for a, m in zip(args, members, strict=True) if a in _PLAIN}

        def union(v: Any) -> Any:
            first = exact_member.get(type(v))
            for member in ([first] if first else []) + members:
                try:
                    return member(v)
                except _Rejected:
                    pass
            raise _Rejected

        return union
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _type_checker(args[0], where)

        def sequence(v: Any) -> Any:
            if type(v) not in (tuple, list):
                raise _Rejected
            return tuple(item(x) for x in v)

        return sequence
    if origin is dict and len(args) == 2:
        key, val = _type_checker(args[0], where), _type_checker(args[1], where)

        def mapping(v: Any) -> Any:
            if type(v) is not dict:
                raise _Rejected
            return {key(k): val(x) for k, x in v.items()}

        return mapping
    hint = (
        "; put constraints in Field(...) as the default"
        if origin is typing.Annotated
        else "; supported: int, float, str, bool, None, Literal, unions, tuple[T, ...], "
        "dict[str, T], Model classes"
    )
    msg = f"{where}: glacier.model.Model fields cannot have type {tp!r}{hint}"
    raise TypeError(msg)


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


class _Schema:
    """What a Model class checks, built on its first use (not at import)."""

    def __init__(self, cls: type[Model]) -> None:
        self.fields: dict[str, FieldInfo] = {}
        self.types: dict[str, Any] = {}
        validators: dict[str, _Validator] = {}  # by attribute name: a subclass's replaces
        for klass in reversed(cls.__mro__):
            if not (isinstance(klass, type) and issubclass(klass, Model)):
                continue
            for name, annotation in inspect.get_annotations(klass).items():
                if name.startswith("_") or _is_classvar(annotation):
                    continue
                declared = klass.__dict__.get(name, _MISSING)
                info = declared if isinstance(declared, FieldInfo) else Field(declared)
                self.types[name] = info.annotation = _resolve(annotation, klass)
                self.fields[name] = info
            validators.update(klass.__dict__.get("__glacier_validators__", {}))
        self.validators = list(validators.values())
        self.before: dict[str, list[Callable[[Any], Any]]] = {n: [] for n in self.fields}
        self.after: dict[str, list[Callable[[Any], Any]]] = {n: [] for n in self.fields}
        self.model_validators: list[Callable[[Any], Any]] = []
        for v in self.validators:
            if not v.fields:
                self.model_validators.append(v.func)
            for name in self._names(v, cls):
                (self.before if v.mode == "before" else self.after)[name].append(
                    v.func.__get__(None, cls)
                )
        where = cls.__qualname__
        self.checks = {
            n: _checker(self.types[n], i, f"{where}.{n}") for n, i in self.fields.items()
        }
        self._pydantic: Any = None

    def _names(self, v: _Validator, cls: type[Model]) -> list[str]:
        names = list(self.fields) if "*" in v.fields else list(v.fields)
        unknown = [n for n in names if n not in self.fields]
        if unknown:
            msg = f"{cls.__qualname__}: a field_validator names unknown field(s) {unknown}"
            raise TypeError(msg)
        return names

    def fast(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The validated values, or None when pydantic must decide."""
        values: dict[str, Any] = {}
        try:
            for name, info in self.fields.items():
                if name not in data:
                    if info.is_required():
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
        """A pydantic model with this declaration (fields, constraints, validators), whose
        validators run as ``cls``'s own (bound to ``cls``; model validators get a ``cls``)."""
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
                    checks[f"field_{i}"] = pydantic.field_validator(
                        *self._names(v, cls),
                        mode=v.mode,  # type: ignore[call-overload]
                    )(classmethod(_as_field_check(v.func.__get__(None, cls))))
                else:
                    checks[f"model_{i}"] = pydantic.model_validator(mode="after")(
                        _as_model_check(v.func, cls, list(self.fields))
                    )
            self._pydantic = pydantic.create_model(  # type: ignore[call-overload]
                cls.__name__,
                __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
                __validators__=checks,
                __module__=cls.__module__,
                **fields,
            )
        return self._pydantic


def _resolve(annotation: Any, klass: type) -> Any:
    """An annotation evaluated where its class was defined (module, and enclosing function)."""
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(klass.__module__)
    namespace = dict(vars(module)) if module is not None else {}
    namespace.update(klass.__dict__.get("__glacier_locals__", {}))
    return eval(annotation, namespace)


def _as_field_check(bound: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def check(_generated: Any, value: Any) -> Any:
        return bound(value)

    return check


def _as_model_check(func: Callable[[Any], Any], cls: type[Model], names: list[str]) -> Any:
    def check(checked: Any) -> Any:
        obj = object.__new__(cls)
        object.__setattr__(obj, "__dict__", {n: getattr(checked, n) for n in names})
        object.__setattr__(obj, "_glacier_set", frozenset(checked.model_fields_set))
        func(obj)
        return checked

    return check


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
    __glacier_validators__: ClassVar[dict[str, _Validator]] = {}
    model_fields: ClassVar[dict[str, FieldInfo]] = _ModelFields()  # type: ignore[assignment]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__glacier_schema__ = None
        if "model_config" in vars(cls):
            msg = (
                f"{cls.__qualname__}.model_config: glacier.model reads no model_config (a "
                "Glacier resource is frozen and forbids unknown arguments already); remove it"
            )
            raise TypeError(msg)
        for name, value in vars(cls).items():
            if type(value).__module__.startswith("pydantic"):  # e.g. pydantic.Field(...)
                msg = (
                    f"{cls.__qualname__}.{name}: {type(value).__name__} is pydantic's; a Glacier "
                    "resource is declared with Field, field_validator and model_validator from "
                    "glacier.model (they take pydantic's arguments)"
                )
                raise TypeError(msg)
        found = {k: v for k, v in vars(cls).items() if isinstance(v, _Validator)}
        for name in found:
            delattr(cls, name)
        cls.__glacier_validators__ = found
        # A class made inside a function may name that function's locals in its annotations.
        frame = sys._getframe(1)
        if frame.f_locals is not frame.f_globals:
            cls.__glacier_locals__ = dict(frame.f_locals)  # type: ignore[attr-defined]

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
        object.__setattr__(self, "_glacier_set", frozenset(data))
        if values is not None:
            object.__setattr__(self, "__dict__", values)
            if schema.model_validators and not self._run_model_validators(schema):
                values = None
        if values is None:
            values = self._validate_with_pydantic(schema, data)
            object.__setattr__(self, "__dict__", values)

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

    def _values(self) -> dict[str, Any]:
        """The fields (what equality, hashing, dumps and pickles see; never cached extras)."""
        return {name: self.__dict__[name] for name in type(self).model_fields}

    # -- the parts of pydantic's BaseModel interface Glacier and its users rely on -----------

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The fields given when the object was made (the others hold their defaults)."""
        return frozenset(self._glacier_set)

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        exclude: set[str] | None = None,
        exclude_unset: bool = False,
    ) -> dict[str, Any]:
        """The fields as a new dict; nested models become dicts, and with ``mode="json"``
        tuples become lists."""
        return {
            name: _dump(value, mode)
            for name, value in self._values().items()
            if not (exclude and name in exclude)
            and not (exclude_unset and name not in self._glacier_set)
        }

    def model_dump_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied, not validated again (as pydantic's model_copy)."""
        copied = object.__new__(type(self))
        values = {**self._values(), **(update or {})}
        object.__setattr__(copied, "__dict__", copy.deepcopy(values) if deep else values)
        object.__setattr__(copied, "_glacier_set", self._glacier_set | set(update or ()))
        return copied

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """``obj`` if it is one already, else one made from a mapping of its fields."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Mapping):
            return cls(**obj)
        raise TypeError(
            f"{cls.__name__}.model_validate takes a mapping, found {type(obj).__name__}"
        )

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        """The JSON schema pydantic gives this declaration (imports pydantic)."""
        schema: dict[str, Any] = cls._schema().pydantic_model(cls).model_json_schema()
        return schema

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """As a field of a user's pydantic model: a dict of fields or an instance, checked by
        the same rules, and dumped as a dict."""
        from pydantic_core import core_schema

        fields = handler.generate_schema(cls._schema().pydantic_model(cls))

        def validate(value: Any, check: Any) -> Any:
            if isinstance(value, cls):
                return value
            checked = check(value)
            made = object.__new__(cls)  # not cls(...): a subclass may take positional arguments
            Model.__init__(made, **{n: getattr(checked, n) for n in checked.model_fields_set})
            return made

        def dump(value: Model, info: Any) -> dict[str, Any]:
            return value.model_dump(mode="json" if info.mode_is_json() else "python")

        return core_schema.no_info_wrap_validator_function(
            validate,
            fields,
            serialization=core_schema.plain_serializer_function_ser_schema(dump, info_arg=True),
        )

    def __setattr__(self, name: str, value: Any) -> None:
        from glacier.resource_error import ResourceError

        line = {"type": "frozen_instance", "loc": (name,), "input": value}
        raise ResourceError.from_exception_data(type(self).__name__, [line])  # type: ignore[list-item]

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), _frozen(self._values())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._shown(', ')})"

    def __str__(self) -> str:
        return self._shown(" ")

    def _shown(self, sep: str) -> str:
        return sep.join(f"{k}={v!r}" for k, v in self._values().items() if k in self._glacier_set)

    def __getstate__(self) -> dict[str, Any]:
        return {"values": self._values(), "set": self._glacier_set}

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
    """A hashable stand-in for ``value``; equal values (dicts in any order) give equal ones."""
    if isinstance(value, dict):
        return frozenset((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


__all__ = ["Field", "FieldInfo", "Model", "field_validator", "model_validator"]
