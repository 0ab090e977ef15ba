"""Calling one task function: bind its inputs and parameters, check what it returns.

Shared by the local executor and the cloud runtime, so a task behaves the same on a laptop
and in a cloud function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.environ import task_environment
from glacier.errors import DefinitionError, InputError, TaskFailedError
from glacier.params import check_params
from glacier.tasklog import task_scope

if TYPE_CHECKING:
    from glacier.task import Task

Frame = pl.LazyFrame | pl.DataFrame


def bind_params(task: Task, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The task's parameter values: defaults, overridden by ``params`` (keyed by param name),
    each of which must fit its parameter's annotation (see glacier.params)."""
    values = {p.name: p.default for p in task.params}
    unknown = sorted(set(params or {}) - set(values))
    if unknown:
        known = ", ".join(sorted(values)) or "none"
        msg = (
            f"task {task.name!r} has no parameter {unknown[0]!r}; its parameters: {known} "
            "(dataset inputs cannot be overridden with params=)"
        )
        raise DefinitionError(msg)
    if params:
        check_params(task, params)
        values.update(params)
    return values


def _bind_inputs(task: Task, inputs: Mapping[str, Frame]) -> dict[str, Frame]:
    kwargs: dict[str, Frame] = {}
    for inp in task.inputs:
        name = inp.dataset.name
        if name not in inputs:
            msg = f"task {task.name!r}: no data for its input dataset {name!r} (parameter {inp.param!r})"
            raise InputError(msg)
        frame = inputs[name]
        if inp.frame == "eager":
            # a clone per reader (cheap: it shares the buffers), so no task changes what
            # another task, or the caller who passed the frame, sees
            kwargs[inp.param] = (
                frame.collect() if isinstance(frame, pl.LazyFrame) else frame.clone()
            )
        else:
            kwargs[inp.param] = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    return kwargs


def check_outputs(task: Task, returned: Any) -> dict[str, Frame]:
    """The task's return value as ``{dataset name: frame}``, or TaskFailedError saying why not."""
    names = [d.name for d in task.outputs]
    if not names:
        if returned is not None:
            found = type(returned).__name__
            msg = f"task {task.name!r} declares no outputs (-> None) but returned a {found}; return None"
            raise TaskFailedError(msg, task=task.name)
        return {}
    if len(names) == 1:
        values = (returned,)
    elif isinstance(returned, tuple | list) and len(returned) == len(names):
        values = tuple(returned)
    else:
        found = _describe(returned)
        msg = (
            f"task {task.name!r} must return a tuple of {len(names)} frames "
            f"({', '.join(names)}), found {found}"
        )
        raise TaskFailedError(msg, task=task.name)
    out: dict[str, Frame] = {}
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, pl.LazyFrame | pl.DataFrame):
            msg = (
                f"task {task.name!r} output {name!r}: expected a pl.LazyFrame or pl.DataFrame, "
                f"found {_describe(value)}"
            )
            raise TaskFailedError(msg, task=task.name)
        out[name] = value
    return out


def _describe(value: Any) -> str:
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return "None" if value is None else f"a {type(value).__module__}.{type(value).__qualname__}"


def call_task(
    task: Task,
    inputs: Mapping[str, Frame],
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Frame]:
    """Run ``task.fn`` on ``inputs`` (keyed by dataset name); ``{dataset: frame}`` it produced.

    ``env`` (a local run's task environment, secrets resolved) is set in ``os.environ`` while
    the function runs, and only then (see glacier.environ).
    """
    kwargs: dict[str, Any] = _bind_inputs(task, inputs)
    for name, value in bind_params(task, params).items():  # a DataFrame param: its own too
        kwargs[name] = value.clone() if isinstance(value, pl.DataFrame) else value
    with task_environment(env), task_scope(task.name):  # get_logger() names this task
        returned = task.fn(**kwargs)
    return check_outputs(task, returned)


__all__ = ["bind_params", "call_task", "check_outputs"]
