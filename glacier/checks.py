"""Small checks that resources run on their own fields when they are created.

Every resource (``ObjectStorage``, ``compute.serverless(...)``, a provider's bucket,
``Secret``...) is a frozen dataclass deriving from :class:`Checked`, whose ``__post_init__``
calls a few of these checks, one line per field (an example is in :mod:`glacier.resources`).
A failed check raises :class:`~glacier.errors.ResourceError` with one line naming the class,
the field, what was expected and what was found. Types are checked exactly as declared: a str
is not an int (no "1024" -> 1024), a bool is not a number, an int is a float. ``normalize``
stores a cleaned-up value (a sorted env, a float cpu) on the frozen object.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Collection
from dataclasses import MISSING, dataclass, fields
from typing import Any, NoReturn, Protocol

from glacier.errors import ResourceError


class NameRuleLike(Protocol):
    """A cloud naming rule: why ``name`` breaks it, or None (``glacier.compilation.naming``)."""

    def problem(self, name: str, suffix: int = 0) -> str | None: ...


def fail(owner: object, field: str | None, message: str) -> NoReturn:
    """Raise the ResourceError ``"<Class>: <message>"`` for ``owner``'s ``field``."""
    name = owner.__name__ if isinstance(owner, type) else type(owner).__name__
    raise ResourceError(f"{name}: {message}", resource=name, field=field)


def _found(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else f"{shown[:77]}..."


def _is(value: object, kind: type) -> bool:
    """``isinstance`` as a resource means it: bools are not numbers, ints are floats."""
    if kind in (int, float) and isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


_ARTICLE = {int: "an int", float: "a number", str: "a str", bool: "a bool", dict: "a dict"}


def _name(kind: type) -> str:
    return _ARTICLE.get(kind, kind.__name__)


def check_type(owner: object, field: str, *kinds: type, optional: bool = False) -> None:
    """``owner.<field>`` is an instance of one of ``kinds`` (or None, when ``optional``)."""
    value = getattr(owner, field)
    if (optional and value is None) or any(_is(value, k) for k in kinds):
        return
    expected = " or ".join(_name(k) for k in kinds) + (" or None" if optional else "")
    fail(owner, field, f"{field} must be {expected}, found {_found(value)}")


def _bounds(gt: float | None, ge: float | None, lt: float | None, le: float | None) -> str:
    if ge is not None and le is not None and gt is None and lt is None:
        return f"from {ge} to {le}"
    parts = [
        f"{word} {bound}"
        for word, bound in (
            ("greater than", gt),
            ("at least", ge),
            ("less than", lt),
            ("at most", le),
        )
        if bound is not None
    ]
    return " and ".join(parts)


def check_range(
    owner: object,
    field: str,
    kind: type[int] | type[float],
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    optional: bool = False,
) -> None:
    """``owner.<field>`` is an int (or a finite number, for ``float``) within the bounds."""
    value = getattr(owner, field)
    if optional and value is None:
        return
    fits = _is(value, kind) and math.isfinite(value)
    if fits:
        fits = (
            (gt is None or value > gt)
            and (ge is None or value >= ge)
            and (lt is None or value < lt)
            and (le is None or value <= le)
        )
    if not fits:
        bounds = _bounds(gt, ge, lt, le)
        expected = f"{_name(kind)} {bounds}".strip() + (" or None" if optional else "")
        fail(owner, field, f"{field} must be {expected}, found {_found(value)}")


def check_pattern(
    owner: object, field: str, pattern: str | re.Pattern[str], rule: str, *, optional: bool = False
) -> None:
    """``owner.<field>`` is a str that ``pattern`` matches in full; ``rule`` says it in words."""
    value = getattr(owner, field)
    if optional and value is None:
        return
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        fail(owner, field, f"{field} must be {rule}, found {_found(value)}")


def check_one_of(
    owner: object, field: str, allowed: Collection[object], *, optional: bool = False
) -> None:
    """``owner.<field>`` is one of ``allowed``, type for type (``True`` is not ``1``)."""
    value = getattr(owner, field)
    if optional and value is None:
        return
    if not any(type(value) is type(a) and value == a for a in allowed):
        shown = ", ".join(repr(a) for a in allowed)
        fail(owner, field, f"{field} must be one of {shown}, found {_found(value)}")


def check_name(owner: object, field: str, rule: NameRuleLike, *, optional: bool = False) -> None:
    """``owner.<field>`` is a str that the cloud naming ``rule`` accepts."""
    value = getattr(owner, field)
    if optional and value is None:
        return
    check_type(owner, field, str)
    problem = rule.problem(value)
    if problem is not None:
        fail(owner, field, f"{field} {value!r} {problem}")


#: Characters a key prefix may not hold: Polars reads them as a glob pattern, and IAM (and
#: other clouds' conditions) as wildcards, so ``prefix="*"`` would read, and be granted, other
#: datasets' objects.
GLOB_CHARACTERS = "*?[]{}"


def key_prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` is not a safe object-key prefix for every object store, or None.

    Refused: glob characters (see :data:`GLOB_CHARACTERS`), and ``.``, ``..`` or empty
    segments: object stores keep them literally while paths (and Polars' object store
    client) resolve or reject them, so the key written and the key granted could differ.
    """
    found = [c for c in GLOB_CHARACTERS if c in prefix]
    if found:
        shown = " ".join(found)
        return (
            f"holds the glob character(s) {shown}: Polars would read every key it matches as "
            "this dataset and the grants would cover them; use letters, digits and !-_.'()/ only"
        )
    inner = prefix.strip("/")
    for segment in inner.split("/") if inner else ():
        if segment in ("", ".", ".."):
            what = "an empty segment ('//')" if not segment else f"a {segment!r} segment"
            return (
                f"has {what}: object stores keep it literally while paths resolve it, so the "
                "key written and the key granted could differ; write the folder path plainly "
                "('raw/2024', not 'raw/./2024' or 'raw/../x')"
            )
    return None


def check_key_prefix(owner: object, field: str) -> None:
    """``owner.<field>`` is a str that is safe as an object-key prefix (see
    :func:`key_prefix_problem`): the one rule every object store's ``prefix`` follows."""
    check_type(owner, field, str)
    value = getattr(owner, field)
    problem = key_prefix_problem(value)
    if problem is not None:
        fail(owner, field, f"{field} {_found(value)} {problem}")


def check_items(owner: object, field: str, kind: type) -> None:
    """``owner.<field>`` is a tuple or list of ``kind`` items."""
    value = getattr(owner, field)
    if not isinstance(value, tuple | list):
        fail(owner, field, f"{field} must be a tuple or list, found {_found(value)}")
    for i, item in enumerate(value):
        if not _is(item, kind):
            fail(owner, field, f"{field}[{i}] must be {_name(kind)}, found {_found(item)}")


def normalize(owner: object, **values: Any) -> None:
    """Store cleaned-up field values on a frozen dataclass (from its ``__post_init__``)."""
    for field, value in values.items():
        object.__setattr__(owner, field, value)


def short_repr(obj: object) -> str:
    """``Class(field=value, ...)`` showing only the fields that differ from their defaults
    (``ObjectStorage()``, ``ObjectStorage(versioning=False)``): for messages that name a resource."""
    shown = []
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if f.default is not MISSING and value == f.default:
            continue
        if f.default_factory is not MISSING and value == f.default_factory():
            continue
        shown.append(f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"


@functools.cache
def _signature(cls: type) -> inspect.Signature:
    return inspect.signature(cls.__init__)  # type: ignore[misc]


def _check_call(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A ResourceError, in Python's words, when ``cls(*args, **kwargs)`` does not fit."""
    signature = _signature(cls)
    try:
        signature.bind(None, *args, **kwargs)
    except TypeError as exc:
        takes = ", ".join(list(signature.parameters)[1:])
        fail(cls, None, f"{exc}; {cls.__name__} takes: {takes}")


@dataclass(frozen=True)
class Checked:
    """Base of frozen dataclasses that check their arguments: a wrong call (an unknown
    argument, a missing one, too many) is a ResourceError like a wrong value, not a TypeError.

    A frozen dataclass itself (with no fields), so a subclass is one too even undecorated,
    and a subclass that adds fields must be declared ``@dataclass(frozen=True)``.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # A call without arguments is let through to __init__: copy, pickle and pydantic (a
        # resource as a field of a user's model) make objects with a bare cls.__new__(cls).
        if args or kwargs:
            _check_call(cls, args, kwargs)
        return super().__new__(cls)


__all__ = [
    "GLOB_CHARACTERS",
    "Checked",
    "NameRuleLike",
    "check_items",
    "check_key_prefix",
    "check_name",
    "check_one_of",
    "check_pattern",
    "check_range",
    "check_type",
    "fail",
    "key_prefix_problem",
    "normalize",
    "short_repr",
]
