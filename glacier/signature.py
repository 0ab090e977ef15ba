"""A task function's signature read as a DAG node: its inputs, parameters and outputs.

Inputs are the parameters annotated with a Dataset (bare or inside ``Annotated[...]``); the
outputs come from the return annotation (a Dataset, ``tuple[a, b]`` or ``None``); every other
parameter is a task parameter with a JSON default. Annotations are resolved once, when the task
is decorated, against the function's globals and the scope that applied the decorator, so
``from __future__ import annotations`` modules and Datasets declared inside a
pipeline-building function both work (pydantic resolves models the same way).
"""

from __future__ import annotations

import builtins
import functools
import inspect
import json
import math
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

import polars as pl

from glacier.dataset import Dataset
from glacier.errors import DefinitionError

FrameKind = Literal["lazy", "eager"]
#: What a task returns for an output: a LazyFrame, a DataFrame, or either.
OutputFrame = Literal["lazy", "eager", "any"]
_EMPTY = inspect.Parameter.empty


# NamedTuples rather than frozen dataclasses: immutable either way, and several times cheaper
# to create, which matters for the import time of a pipeline with thousands of tasks.
class TaskInput(NamedTuple):
    """A parameter bound to a dataset; ``frame`` says whether it receives a DataFrame."""

    param: str
    dataset: Dataset
    frame: FrameKind


class TaskParam(NamedTuple):
    """A plain parameter with its (JSON) default, overridable at run time."""

    name: str
    default: Any
    annotation: str | None


def _where(fn: Callable[..., Any]) -> str:
    return f"task {fn.__name__!r} ({fn.__module__}.{fn.__qualname__})"


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> Any:
    return compile(source, "<annotation>", "eval")


def _evaluate(value: Any, fn: Callable[..., Any], scope: Mapping[str, Any]) -> Any:
    """One annotation, evaluated if it is a string (``from __future__ import annotations``).

    Same lookup order as ``inspect.get_annotations(eval_str=True)``: decorating scope, then
    the function's globals, then builtins. A bare name (``data: raw``, the common case) is
    looked up directly: compiling and eval-ing every annotation dominated the import time of
    a large pipeline module.
    """
    if not isinstance(value, str):
        return value
    if value.isidentifier():
        for namespace in (scope, fn.__globals__, builtins.__dict__):
            if value in namespace:
                return namespace[value]
        raise NameError(f"name {value!r} is not defined")
    found = eval(_compiled(value), fn.__globals__, dict(scope))
    # `-> "clean"` in a `from __future__ import annotations` module is quoted twice;
    # typing.get_type_hints resolves such a forward reference too.
    return _evaluate(found, fn, scope) if isinstance(found, str) else found


def resolve_annotations(fn: Callable[..., Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate the function's annotations against its globals plus the decorating scope."""
    resolved: dict[str, Any] = {}
    for key, value in fn.__annotations__.items():  # what inspect.get_annotations returns
        try:
            resolved[key] = _evaluate(value, fn, scope)
        except NameError as exc:
            msg = (
                f"{_where(fn)}: cannot resolve annotation: {exc}. Declare the Dataset before the "
                "task that uses it, in the module or the function that defines the task"
            )
            raise DefinitionError(msg) from None
        except Exception as exc:  # e.g. `raw | None`: a Dataset is not a type
            what = "the return annotation" if key == "return" else f"the annotation of {key!r}"
            msg = (
                f"{_where(fn)}: cannot evaluate {what}, {value!r}: "
                f"{type(exc).__name__}: {exc}; expected a Dataset, `Annotated[pl.LazyFrame, ds]`"
                + (", `tuple[ds1, ds2]` or `None`" if key == "return" else " or a plain type")
            )
            raise DefinitionError(msg) from None
    return resolved


def _dataset_in(annotation: Any) -> tuple[Dataset | None, FrameKind | None]:
    """The Dataset an input annotation names, and whether it asks for a DataFrame."""
    if isinstance(annotation, Dataset):
        return annotation, "lazy"
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        found = [e for e in extras if isinstance(e, Dataset)]
        if len(found) == 1:
            frame: FrameKind = "eager" if base is pl.DataFrame else "lazy"
            return found[0], frame
        if len(found) > 1:
            return None, None
    return None, None


def parse_inputs(
    fn: Callable[..., Any], hints: dict[str, Any]
) -> tuple[tuple[TaskInput, ...], tuple[TaskParam, ...]]:
    inputs: list[TaskInput] = []
    params: list[TaskParam] = []
    for name, default, variadic, positional_only in _parameters(fn):
        if variadic:
            msg = f"{_where(fn)}: *{name} / **{name} are not supported; declare each input as a parameter"
            raise DefinitionError(msg)
        if positional_only:
            msg = (
                f"{_where(fn)}: parameter {name!r} is positional-only; tasks are called with "
                "keyword arguments (inputs and parameters by name): remove the '/' from the signature"
            )
            raise DefinitionError(msg)
        annotation = hints.get(name, _EMPTY)
        if type(annotation) is Dataset:  # the common case, `data: raw`, without a call
            inputs.append(TaskInput(name, annotation, "lazy"))
            continue
        dataset, frame = _dataset_in(annotation)
        if dataset is not None and frame is not None:
            inputs.append(TaskInput(name, dataset, frame))
            continue
        params.append(_param(fn, name, default, annotation))
    return tuple(inputs), tuple(params)


def _param(fn: Callable[..., Any], name: str, default: Any, annotation: Any) -> TaskParam:
    """A plain parameter, which must have a JSON default (Dataset parameters are inputs)."""
    if typing.get_origin(annotation) is typing.Annotated and any(
        isinstance(e, Dataset) for e in typing.get_args(annotation)[1:]
    ):
        msg = f"{_where(fn)}: parameter {name!r} names several Datasets in Annotated[...]; expected exactly one"
        raise DefinitionError(msg)
    if default is _EMPTY:
        found = "no annotation" if annotation is _EMPTY else f"annotation {annotation!r}"
        msg = (
            f"{_where(fn)}: parameter {name!r} has {found} and no default; expected a Dataset "
            f"annotation (`{name}: my_dataset` or `Annotated[pl.LazyFrame, my_dataset]`) or a default "
            f"value for a task parameter (`{name}: float = 1.0`)"
        )
        raise DefinitionError(msg)
    return TaskParam(name, _json_default(fn, name, default), _annotation_str(annotation))


class _Param(NamedTuple):
    name: str
    default: Any
    variadic: bool
    positional_only: bool = False


_CO_VARARGS, _CO_VARKEYWORDS = inspect.CO_VARARGS, inspect.CO_VARKEYWORDS


def _parameters(fn: Callable[..., Any]) -> list[_Param]:
    """The function's parameters, read from its code object.

    ``inspect.signature`` costs ~30 us per function, a third of a 3,000-task module's import;
    a plain function's code object says the same. Wrapped functions (``__wrapped__``) and
    explicit ``__signature__`` keep going through ``inspect.signature``, which honours them.
    """
    if hasattr(fn, "__wrapped__") or hasattr(fn, "__signature__"):
        return [
            _Param(
                p.name,
                p.default,
                p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD),
                p.kind is p.POSITIONAL_ONLY,
            )
            for p in inspect.signature(fn).parameters.values()
        ]
    code = fn.__code__
    n_pos, n_kw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames[: n_pos + n_kw]
    defaults = fn.__defaults__ or ()
    first_default = n_pos - len(defaults)
    n_posonly = code.co_posonlyargcount
    found = [_Param(n, _EMPTY, False) for n in names[:first_default]]
    found += [
        _Param(n, d, False) for n, d in zip(names[first_default:n_pos], defaults, strict=True)
    ]
    if n_posonly:
        found[:n_posonly] = [p._replace(positional_only=True) for p in found[:n_posonly]]
    if n_kw:
        kwdefaults = fn.__kwdefaults__ or {}
        found += [_Param(n, kwdefaults.get(n, _EMPTY), False) for n in names[n_pos:]]
    extra = n_pos + n_kw
    for flag in (_CO_VARARGS, _CO_VARKEYWORDS):
        if code.co_flags & flag:
            found.insert(
                n_pos if flag == _CO_VARARGS else len(found),
                _Param(code.co_varnames[extra], _EMPTY, True),
            )
            extra += 1
    return found


def _annotation_str(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    return getattr(annotation, "__name__", None) or repr(annotation)


def _json_default(fn: Callable[..., Any], name: str, value: Any) -> Any:
    """A default that JSON carries unchanged, so local and cloud runs see the same value.

    The IR must round-trip: NaN, infinities, tuples (JSON makes lists of them) and non-str
    dict keys are refused here rather than failing later in ``pipeline.spec()``.
    """
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is float and math.isfinite(value):
        return value
    try:
        found = json.loads(json.dumps(value, allow_nan=False))
        if not _same_json(found, value):
            raise TypeError("not a JSON value")
    except (TypeError, ValueError):
        msg = (
            f"{_where(fn)}: parameter {name!r} has default {value!r}; task parameter defaults must be "
            "JSON values (str, finite int or float, bool, None, list, dict with str keys; for a "
            "tuple use a list) so runs can override them and the cloud runtime can receive them"
        )
        raise DefinitionError(msg) from None
    return found


def _same_json(found: Any, value: Any) -> bool:
    """Whether ``value`` is ``found`` (its JSON round trip) type for type: (1, 2) is not [1, 2]."""
    if isinstance(value, bool | str | int | float | None):
        return found == value and type(found) is type(value)
    if type(value) is list:
        return len(found) == len(value) and all(map(_same_json, found, value))
    if type(value) is dict:
        return list(found) == list(value) and all(_same_json(found[k], value[k]) for k in value)
    return False


def _output_of(annotation: Any) -> tuple[Dataset, OutputFrame] | None:
    if isinstance(annotation, Dataset):
        return annotation, "any"
    dataset, _ = _dataset_in(annotation)
    if dataset is not None:
        base = typing.get_args(annotation)[0]
        return dataset, (
            "eager" if base is pl.DataFrame else "lazy" if base is pl.LazyFrame else "any"
        )
    return None


def parse_outputs(
    fn: Callable[..., Any], hints: dict[str, Any]
) -> tuple[tuple[Dataset, ...], tuple[OutputFrame, ...]]:
    if "return" not in hints:
        msg = (
            f"{_where(fn)}: missing return annotation; expected `-> my_dataset`, "
            "`-> tuple[ds1, ds2]`, or `-> None` for a task that produces no dataset"
        )
        raise DefinitionError(msg)
    annotation = hints["return"]
    if annotation is None or annotation is type(None):
        return (), ()
    single = _output_of(annotation)
    if single is not None:
        return (single[0],), (single[1],)
    if typing.get_origin(annotation) is tuple:
        items = [_output_of(a) for a in typing.get_args(annotation)]
        if items and all(i is not None for i in items):
            found = typing.cast(list[tuple[Dataset, OutputFrame]], items)
            return tuple(d for d, _ in found), tuple(k for _, k in found)
    msg = (
        f"{_where(fn)}: return annotation {annotation!r} is not a Dataset; expected a Dataset, "
        "`Annotated[pl.LazyFrame, ds]`, `tuple[ds1, ds2, ...]` of Datasets, or `None`"
    )
    raise DefinitionError(msg)


_NOT_PLAIN = inspect.CO_COROUTINE | inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR


def check_plain_function(fn: Callable[..., Any]) -> None:
    """A task must return its frames when called: no coroutine or generator functions."""
    if not fn.__code__.co_flags & _NOT_PLAIN:
        return  # the common case, decided without inspect's unwrapping
    for test, kind in (
        (inspect.iscoroutinefunction, "an async function"),
        (inspect.isasyncgenfunction, "an async generator function"),
        (inspect.isgeneratorfunction, "a generator function (it uses yield)"),
    ):
        if test(fn):
            msg = (
                f"{_where(fn)} is {kind}; a task must be a plain function that returns its "
                "output frames (return a pl.LazyFrame or pl.DataFrame per output)"
            )
            raise DefinitionError(msg)


__all__ = [
    "FrameKind",
    "OutputFrame",
    "TaskInput",
    "TaskParam",
    "check_plain_function",
    "parse_inputs",
    "parse_outputs",
    "resolve_annotations",
]
