"""Task parameter values checked against their annotations, and parsed from command-line text.

A value given at run time must already be of the annotated type: ``"3"`` for ``k: int`` is
refused, not passed on to become the column ``"3"`` deep inside Polars; the one conversion
allowed is an int where a float is declared. Text from the command line
(``--param split.min_total=5``) is parsed per annotation first. pydantic (``TypeAdapter``)
does the judging. A parameter without an annotation is not checked; on the command line its
value is JSON when it parses as JSON and the text otherwise.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from glacier.task import Task

_UNCHECKED = (typing.Any, object)


def check_params(task: Task, values: Mapping[str, Any]) -> None:
    """Each value checked against its parameter's annotation; DefinitionError naming the first
    that does not fit (names were checked by ``glacier.invoke.bind_params``)."""
    for name, value in values.items():
        declared = task.param_types.get(name, typing.Any)
        if declared in _UNCHECKED or _fits(declared, value):
            continue
        example = _example(task, name, declared)
        msg = (
            f"params[{task.name + '.' + name!r}]: expected {describe(declared)} (task "
            f"{task.name!r} declares {name}: {type_text(declared)}), found {_shown(value)} "
            f"({_a(type(value).__name__)}); pass {describe(declared)}{example}"
        )
        raise DefinitionError(msg)


def parse_cli_params(tasks: Iterable[Task], texts: Mapping[str, str]) -> dict[str, Any]:
    """``{"task.param": text}`` from ``--param`` as typed values, each parsed per annotation
    (a key naming no task or parameter is passed on for the run to refuse)."""
    by_name = {t.name: t for t in tasks}
    values: dict[str, Any] = {}
    for key, text in texts.items():
        name, _, param = key.partition(".")
        task = by_name.get(name)
        if task is None or param not in {p.name for p in task.params}:
            values[key] = _json_or_text(text)
            continue
        declared = task.param_types.get(param, typing.Any)
        values[key] = _parse(declared, text, f"--param {key}={text}", task, param)
    return values


def _parse(declared: Any, text: str, flag: str, task: Task, param: str) -> Any:
    if declared in _UNCHECKED:
        return _json_or_text(text)
    if declared is str:
        return text
    from pydantic import ValidationError

    adapter = _adapter(declared)
    if adapter is None:
        return _json_or_text(text)
    try:
        return adapter.validate_json(text)  # 5, 1.5, true, null, [1, 2], {"a": 1}, "quoted"
    except ValidationError:
        pass
    try:
        return adapter.validate_python(text)  # plain text: abc for a str | None or a Literal
    except ValidationError:
        pass
    msg = (
        f"{flag}: expected {describe(declared, cli=True)} (task {task.name!r} declares "
        f"{param}: {type_text(declared)})"
    )
    raise DefinitionError(msg)


def _fits(declared: Any, value: Any) -> bool:
    """Whether ``value`` is of type ``declared`` (strict: no conversion but int to float)."""
    adapter = _adapter(declared)
    if adapter is None:  # an annotation pydantic cannot judge: a plain class still can be
        return not isinstance(declared, type) or isinstance(value, declared)
    from pydantic import ValidationError

    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _adapter(declared: Any) -> TypeAdapter[Any] | None:
    try:
        return _cached_adapter(declared)
    except TypeError:  # unhashable annotation (e.g. Literal of a list): build it uncached
        return _cached_adapter.__wrapped__(declared)


@functools.lru_cache(maxsize=512)
def _cached_adapter(declared: Any) -> TypeAdapter[Any] | None:
    """A TypeAdapter for the annotation; any class is judged by isinstance. None if pydantic
    cannot build one (then only a plain class is checked, by isinstance)."""
    from pydantic import ConfigDict, PydanticUserError, TypeAdapter

    try:
        return TypeAdapter(declared, config=ConfigDict(arbitrary_types_allowed=True))
    except PydanticUserError:  # a BaseModel, dataclass or TypedDict brings its own config
        pass
    except Exception:
        return None
    try:
        return TypeAdapter(declared)
    except Exception:
        return None


def describe(declared: Any, cli: bool = False) -> str:
    """What a value of the annotation is, in words: ``a float``, ``one of 'a', 'b'``."""
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    if declared is type(None) or declared is None:
        return "null" if cli else "None"
    if declared is bool:
        return "true or false" if cli else "a bool"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(describe(a, cli) for a in args)
    if origin is typing.Annotated:
        return describe(args[0], cli)
    if origin in (list, tuple, set, frozenset) or declared in (list, tuple, set, frozenset):
        of = f" of {type_text(args[0])}" if args else ""
        return f"a JSON list{of}" if cli else f"a {type_text(origin or declared)}{of}"
    if origin is dict or declared is dict:
        return "a JSON object" if cli else "a dict"
    return _a(type_text(declared))


def type_text(declared: Any) -> str:
    """An annotation as written: ``float``, ``list[int]``, ``Literal['a', 'b']``."""
    if declared is type(None):
        return "None"
    if isinstance(declared, type) and not typing.get_args(declared):
        return declared.__qualname__
    if typing.get_origin(declared) in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in typing.get_args(declared))
    return repr(declared).replace("typing.", "")


def _example(task: Task, name: str, declared: Any) -> str:
    """`` such as <default>`` when the default fits the annotation, else nothing."""
    default = next(p.default for p in task.params if p.name == name)
    return f" such as {default!r}" if _fits(declared, default) else ""


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


__all__ = ["check_params", "describe", "parse_cli_params", "type_text"]
