"""``@task``: turn an annotated function into a DAG node.

Inputs are the parameters annotated with a Dataset (bare or inside ``Annotated[...]``); the
outputs come from the return annotation (a Dataset, ``tuple[a, b]`` or ``None``). Annotations
are resolved once, when the task is decorated, against the function's globals and the scope
that applied the decorator, so ``from __future__ import annotations`` modules and Datasets
declared inside a pipeline-building function both work (pydantic resolves models the same way).
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import inspect
import json
import linecache
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, NamedTuple

import polars as pl

from glacier.compute import ComputeResource, Local
from glacier.dataset import Dataset, check_name
from glacier.errors import DefinitionError
from glacier.spec import InputSpec, ParamSpec, TaskSpec

FrameKind = Literal["lazy", "eager"]
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


@functools.cache
def _default_compute() -> Local:
    """The default compute, shared by every task (resources are immutable).

    Made on first use, not at import: instantiating a pydantic model builds its validator,
    which ``import glacier`` should not pay for.
    """
    return Local()


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
    return eval(_compiled(value), fn.__globals__, dict(scope))


def _resolve_annotations(fn: Callable[..., Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate the function's annotations against its globals plus the decorating scope."""
    try:
        raw = fn.__annotations__  # what inspect.get_annotations returns for a function
        return {key: _evaluate(value, fn, scope) for key, value in raw.items()}
    except NameError as exc:
        msg = (
            f"{_where(fn)}: cannot resolve annotation: {exc}. Declare the Dataset before the "
            "task that uses it, in the module or the function that defines the task"
        )
        raise DefinitionError(msg) from None


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


def _parse_inputs(
    fn: Callable[..., Any], hints: dict[str, Any]
) -> tuple[tuple[TaskInput, ...], tuple[TaskParam, ...]]:
    inputs: list[TaskInput] = []
    params: list[TaskParam] = []
    for name, default, variadic in _parameters(fn):
        if variadic:
            msg = f"{_where(fn)}: *{name} / **{name} are not supported; declare each input as a parameter"
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


_CO_VARARGS, _CO_VARKEYWORDS = inspect.CO_VARARGS, inspect.CO_VARKEYWORDS


def _parameters(fn: Callable[..., Any]) -> list[_Param]:
    """The function's parameters, read from its code object.

    ``inspect.signature`` costs ~30 us per function, a third of a 3,000-task module's import;
    a plain function's code object says the same. Wrapped functions (``__wrapped__``) and
    explicit ``__signature__`` keep going through ``inspect.signature``, which honours them.
    """
    if hasattr(fn, "__wrapped__") or hasattr(fn, "__signature__"):
        return [
            _Param(p.name, p.default, p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            for p in inspect.signature(fn).parameters.values()
        ]
    code = fn.__code__
    n_pos, n_kw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames[: n_pos + n_kw]
    defaults = fn.__defaults__ or ()
    first_default = n_pos - len(defaults)
    found = [_Param(n, _EMPTY, False) for n in names[:first_default]]
    found += [
        _Param(n, d, False) for n, d in zip(names[first_default:n_pos], defaults, strict=True)
    ]
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
    if value is None or type(value) in (str, int, float, bool):
        return value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        msg = (
            f"{_where(fn)}: parameter {name!r} has default {value!r}; task parameter defaults must be "
            "JSON values (str, int, float, bool, None, list, dict) so runs can override them and "
            "the cloud runtime can receive them"
        )
        raise DefinitionError(msg) from None
    return value


def _output_of(annotation: Any) -> tuple[Dataset, FrameKind | Literal["any"]] | None:
    if isinstance(annotation, Dataset):
        return annotation, "any"
    dataset, _ = _dataset_in(annotation)
    if dataset is not None:
        base = typing.get_args(annotation)[0]
        return dataset, (
            "eager" if base is pl.DataFrame else "lazy" if base is pl.LazyFrame else "any"
        )
    return None


def _parse_outputs(
    fn: Callable[..., Any], hints: dict[str, Any]
) -> tuple[tuple[Dataset, ...], tuple[str, ...]]:
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
            found = typing.cast(list[tuple[Dataset, str]], items)
            return tuple(d for d, _ in found), tuple(k for _, k in found)
    msg = (
        f"{_where(fn)}: return annotation {annotation!r} is not a Dataset; expected a Dataset, "
        "`Annotated[pl.LazyFrame, ds]`, `tuple[ds1, ds2, ...]` of Datasets, or `None`"
    )
    raise DefinitionError(msg)


def _code_hash(fn: Callable[..., Any]) -> str:
    """A fingerprint of the function's code: its source text when available, else its bytecode.

    Source text keeps the hash the same across Python versions (the cloud runtime compares it
    with the manifest's, possibly on another Python), bytecode does not. The source is cut
    from the file by the line range the code object covers instead of ``inspect.getsource``,
    whose tokenizer pass cost ~1-2 ms per task (plus compiling its regexes once per process);
    for ordinary functions the text, so the hash, is the same.
    """
    source = _source_of(fn.__code__, fn.__globals__)
    payload = source.encode() if source is not None else _code_fingerprint(fn.__code__)
    return hashlib.sha256(payload).hexdigest()


def _source_of(code: types.CodeType, module_globals: Mapping[str, Any]) -> str | None:
    """The dedented source lines from the first decorator to the code's last line, or None."""
    lines = linecache.getlines(code.co_filename, dict(module_globals))
    first, last = code.co_firstlineno, _last_line(code)
    if not lines or first < 1 or last > len(lines):
        return None
    return textwrap.dedent("".join(lines[first - 1 : last]))


def _last_line(code: types.CodeType) -> int:
    """The last source line any instruction of ``code`` or its nested code objects spans."""
    positions = getattr(code, "co_positions", None)  # Python 3.11+: end lines included
    if positions is not None:
        ends = [end for _, end, _, _ in positions() if end is not None]
    else:
        ends = [line for _, _, line in code.co_lines() if line is not None]
    nested = [_last_line(c) for c in code.co_consts if isinstance(c, types.CodeType)]
    return max([code.co_firstlineno, *ends, *nested])


def _code_fingerprint(code: types.CodeType) -> bytes:
    """Bytecode, names and constants (nested code objects recursively): no memory addresses."""
    consts = [
        _code_fingerprint(c) if isinstance(c, types.CodeType) else repr(c).encode()
        for c in code.co_consts
    ]
    names = (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)
    return b"\0".join([code.co_code, repr(names).encode(), *consts])


class Task:
    """A pipeline step. Still callable as the plain function it wraps."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        compute: ComputeResource | None = None,
        retries: int = 0,
        timeout: float | None = None,
        name: str | None = None,
        depends_on: Iterable[Task] = (),
        description: str | None = None,
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(fn) or not hasattr(fn, "__code__"):
            raise DefinitionError(f"@task expects a function, found {fn!r}")
        self.fn = fn
        self.name = check_name(name or fn.__name__, "Task")
        if compute is None:
            compute = _default_compute()
        elif not isinstance(compute, ComputeResource):
            msg = f"task {self.name!r}: compute must be a compute resource such as compute.serverless(), found {compute!r}"
            raise DefinitionError(msg)
        self.compute = compute
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise DefinitionError(
                f"task {self.name!r}: retries must be an int >= 0, found {retries!r}"
            )
        self.retries = retries
        if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
            raise DefinitionError(
                f"task {self.name!r}: timeout must be a number of seconds > 0, found {timeout!r}"
            )
        self.timeout = timeout
        self.depends_on = _check_depends_on(self.name, depends_on)
        self.description = (
            description
            if description is not None
            else (inspect.cleandoc(fn.__doc__) if fn.__doc__ else "")
        )
        hints = _resolve_annotations(fn, scope or {})
        self.inputs, self.params = _parse_inputs(fn, hints)
        #: The input Datasets in parameter order (read on every DAG build: a plain attribute).
        self.input_datasets: tuple[Dataset, ...] = tuple([i.dataset for i in self.inputs])
        self.outputs, self.output_frames = _parse_outputs(fn, hints)
        _check_unique_outputs(self)
        functools.update_wrapper(self, fn)

    @functools.cached_property
    def code_hash(self) -> str:
        """sha256 of the task's source; computed on first use (reading source is slow)."""
        return _code_hash(self.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        ins = ", ".join(i.dataset.name for i in self.inputs)
        outs = ", ".join(d.name for d in self.outputs)
        return f"<Task {self.name}({ins}) -> ({outs})>"

    def to_spec(self, upstream: Iterable[str] = ()) -> TaskSpec:
        """This task as IR; every field was validated when the task was made."""
        return TaskSpec.from_checked(
            name=self.name,
            module=self.fn.__module__,
            qualname=self.fn.__qualname__,
            code_hash=self.code_hash,
            inputs=tuple(
                InputSpec.from_checked(param=i.param, dataset=i.dataset.name, frame=i.frame)
                for i in self.inputs
            ),
            outputs=tuple(d.name for d in self.outputs),
            output_frames=self.output_frames,
            params=tuple(_param_spec(p) for p in self.params),
            depends_on=tuple(sorted(t.name for t in self.depends_on)),
            upstream=tuple(sorted(upstream)),
            compute=self.compute.to_spec(),
            retries=self.retries,
            timeout=None if self.timeout is None else float(self.timeout),
            description=self.description,
        )


def _param_spec(p: TaskParam) -> ParamSpec:
    """Scalar defaults are JSON values as they are; others are validated as JSON by pydantic."""
    if p.default is None or type(p.default) in (str, int, float, bool):
        return ParamSpec.from_checked(name=p.name, default=p.default, annotation=p.annotation)
    return ParamSpec(name=p.name, default=p.default, annotation=p.annotation)


def _check_depends_on(name: str, depends_on: Iterable[Any]) -> tuple[Task, ...]:
    if depends_on == ():
        return ()
    if isinstance(depends_on, str | Task):
        depends_on = [depends_on]
    found = tuple(depends_on)
    for dep in found:
        if not isinstance(dep, Task):
            hint = (
                f" (pass the Task object `{dep}` itself, not its name)"
                if isinstance(dep, str)
                else ""
            )
            msg = f"task {name!r}: depends_on accepts Task objects only, found {dep!r}{hint}"
            raise DefinitionError(msg)
    return found


def _check_unique_outputs(t: Task) -> None:
    names = [d.name for d in t.outputs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DefinitionError(
            f"task {t.name!r}: dataset {dupes[0]!r} appears twice in the return annotation"
        )
    produced = set(names)
    for i in t.inputs:
        if i.dataset.name in produced:
            msg = f"task {t.name!r}: dataset {i.dataset.name!r} is both an input and an output of the same task"
            raise DefinitionError(msg)


def _caller_scope(depth: int) -> dict[str, Any]:
    """The local names of the frame that applied the decorator (for nested pipeline builders)."""
    frame = sys._getframe(depth + 1)
    try:
        if frame.f_locals is frame.f_globals:
            return {}  # module level: the function's own globals already cover it
        return dict(frame.f_locals)
    finally:
        del frame


def task(
    fn: Callable[..., Any] | None = None,
    *,
    compute: ComputeResource | None = None,
    retries: int = 0,
    timeout: float | None = None,
    name: str | None = None,
    depends_on: Iterable[Task] = (),
    description: str | None = None,
    _scope: Mapping[str, Any] | None = None,
) -> Any:
    """Declare a task: ``@task`` or ``@task(compute=..., retries=2, ...)``."""
    scope = _scope if _scope is not None else _caller_scope(1)

    def decorate(f: Callable[..., Any]) -> Task:
        return Task(
            f,
            compute=compute,
            retries=retries,
            timeout=timeout,
            name=name,
            depends_on=depends_on,
            description=description,
            scope=scope,
        )

    if fn is not None:
        return decorate(fn)
    return decorate


__all__ = ["Task", "TaskInput", "TaskParam", "task"]
