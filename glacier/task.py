"""``@task``: turn an annotated function into a DAG node.

The function's signature says what the task reads, writes and takes as parameters
(:mod:`glacier.signature`); this module holds the :class:`Task` that carries it with the
task's options (compute, retries, timeout, explicit dependencies) and the ``task`` decorator.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import linecache
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from glacier.codeinfo import code_bytes, source_text
from glacier.compute import ComputeResource, Local
from glacier.dataset import Dataset, check_name
from glacier.errors import CycleError, DefinitionError
from glacier.ir import InputIR, ParamIR, TaskIR
from glacier.signature import (
    check_plain_function,
    parse_inputs,
    parse_outputs,
    resolve_annotations,
)

#: The default compute, shared by every task (resources are immutable).
_DEFAULT_COMPUTE = Local()


def _code_hash(fn: Callable[..., Any]) -> str:
    """A fingerprint of the task's own code: the source text of its function and of every
    function a decorator wraps (``__wrapped__``), each as it is on disk now; bytecode where
    there is no source.

    Source text keeps the hash the same across Python versions (the cloud runtime compares it
    with the manifest's, possibly on another Python), bytecode does not. For a function with no
    decorator the hash is the sha256 of its source. What else a task's result depends on (the
    project's code it calls, the values it reads) is fingerprinted for local runs only, by
    ``glacier.fingerprint``.
    """
    payloads = []
    seen: set[int] = set()
    current: Any = fn
    while isinstance(current, types.FunctionType) and id(current) not in seen:
        seen.add(id(current))
        code = current.__code__
        linecache.checkcache(code.co_filename)  # an edited and reloaded module: fresh lines
        source = source_text(code, current.__globals__)
        payloads.append(source.encode() if source is not None else code_bytes(code))
        current = current.__dict__.get("__wrapped__")
    return hashlib.sha256(b"\0".join(payloads)).hexdigest()


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
        check_plain_function(fn)
        self.fn = fn
        how = "" if name else " (the function's name; rename it or pass task(name=...))"
        self.name = check_name(name or fn.__name__, "Task", how)
        if compute is None:
            compute = _DEFAULT_COMPUTE
        elif not isinstance(compute, ComputeResource):
            msg = f"task {self.name!r}: compute must be a compute resource such as compute.serverless(), found {compute!r}"
            raise DefinitionError(msg)
        self.compute = compute
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise DefinitionError(
                f"task {self.name!r}: retries must be an int >= 0, found {retries!r}"
            )
        self.retries = retries
        if timeout is not None and (
            not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0
        ):
            raise DefinitionError(
                f"task {self.name!r}: timeout must be a number of seconds > 0, found {timeout!r}"
            )
        self.timeout = timeout
        self.depends_on = _check_depends_on(self.name, depends_on)
        if description is not None and not isinstance(description, str):
            msg = f"task {self.name!r}: description must be a str, found {description!r}"
            raise DefinitionError(msg)
        self.description = (
            description
            if description is not None
            else (inspect.cleandoc(fn.__doc__) if fn.__doc__ else "")
        )
        hints = resolve_annotations(fn, scope or {})
        self.inputs, self.params = parse_inputs(fn, hints)
        #: Each plain parameter's resolved annotation (none when unannotated): what values
        #: given at run time are checked against (glacier.params).
        self.param_types = {p.name: hints[p.name] for p in self.params if p.name in hints}
        #: The input Datasets in parameter order (read on every DAG build: a plain attribute).
        self.input_datasets: tuple[Dataset, ...] = tuple([i.dataset for i in self.inputs])
        self.outputs, self.output_frames = parse_outputs(fn, hints)
        _check_unique_outputs(self)
        functools.update_wrapper(self, fn)

    @functools.cached_property
    def code_hash(self) -> str:
        """sha256 of the task's source (through decorators); computed on first use."""
        return _code_hash(self.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        ins = ", ".join(i.dataset.name for i in self.inputs)
        outs = ", ".join(d.name for d in self.outputs)
        return f"<Task {self.name}({ins}) -> ({outs})>"

    def to_ir(self, upstream: Iterable[str] = ()) -> TaskIR:
        """This task as IR; every field was validated when the task was made."""
        return TaskIR(
            name=self.name,
            module=self.fn.__module__,
            qualname=self.fn.__qualname__,
            code_hash=self.code_hash,
            inputs=tuple(
                InputIR(param=i.param, dataset=i.dataset.name, frame=i.frame) for i in self.inputs
            ),
            outputs=tuple(d.name for d in self.outputs),
            output_frames=self.output_frames,
            params=tuple(
                ParamIR(name=p.name, default=p.default, annotation=p.annotation)
                for p in self.params
            ),
            depends_on=tuple(sorted(t.name for t in self.depends_on)),
            upstream=tuple(sorted(upstream)),
            compute=self.compute.to_ir(),
            retries=self.retries,
            timeout=None if self.timeout is None else float(self.timeout),
            description=self.description,
        )


def _check_depends_on(name: str, depends_on: Iterable[Any]) -> tuple[Task, ...]:
    if depends_on == ():
        return ()
    if isinstance(depends_on, str | Task):
        depends_on = [depends_on]
    if isinstance(depends_on, Mapping) or not isinstance(depends_on, Iterable):
        msg = (
            f"task {name!r}: depends_on must be a list of Task objects, found {depends_on!r}; "
            "e.g. depends_on=[extract]"
        )
        raise DefinitionError(msg)
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
            msg = (
                f"task {t.name!r}: dataset {i.dataset.name!r} is both an input and an output of the "
                f"same task, a cycle: {t.name} -> {t.name}; write the result to a new dataset"
            )
            raise CycleError(msg, (t.name, t.name))


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
    """Declare a task: ``@task`` or ``@task(compute=..., retries=2, ...)``.

    Annotations resolve against the scope that *applies* the decorator, not the one that made
    it: ``serverless = task(compute=...)`` at module level, applied inside a pipeline-building
    function, still sees that function's Datasets.
    """

    def build(f: Callable[..., Any], scope: Mapping[str, Any]) -> Task:
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
        return build(fn, _scope if _scope is not None else _caller_scope(1))

    def decorate(f: Callable[..., Any]) -> Task:
        return build(f, _scope if _scope is not None else _caller_scope(1))

    return decorate


__all__ = ["Task", "task"]
