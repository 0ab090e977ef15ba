"""The worker process's side of ``glacier.executor.worker``: find the task, run one attempt,
report.

A module of its own because a worker may have to load the pipeline from its REF
(``glacier.loader``), which the executor itself must not import (the loader imports the
pipeline, which runs the executor): the parent starts this module by name, never imports it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import is_retryable
from glacier.executor.worker import code_fingerprint

if TYPE_CHECKING:
    from glacier.task import Task


def main(request_path: str) -> int:
    """Run one attempt as the request says; write the report. The exit code is for people."""
    folder = os.path.dirname(request_path)
    request = pickle.loads(Path(request_path).read_bytes())
    try:
        task = _find(request["where"], request["code"])
        inputs = {n: _load(how, value) for n, (how, value) in request["inputs"].items()}
    except BaseException as exc:  # a module exiting at import included: run it in the parent
        _report(folder, {"unavailable": f"{type(exc).__name__}: {exc}"})
        return 0
    from glacier.invoke import call_task

    Path(folder, "ready").touch()
    try:
        outputs = call_task(task, inputs, request["params"])
        paths = _write(outputs, folder)
    except BaseException as exc:
        _report(folder, _describe(exc))
        return 1
    _report(folder, {"outputs": paths})
    return 0


def _find(where: tuple[str, ...], code: str) -> Task:
    from glacier.task import Task

    obj: Any
    if where[0] == "ref":
        import warnings

        from glacier.errors import GlacierWarning
        from glacier.loader import load_pipeline

        _, ref, name = where
        with warnings.catch_warnings():  # the run that started this worker already warned
            warnings.simplefilter("ignore", GlacierWarning)
            obj = load_pipeline(ref).dag.tasks.get(name)
    else:
        _, module, qualname, name = where
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    if not isinstance(obj, Task) or obj.name != name:
        raise LookupError(f"{':'.join(where[1:-1])} is not task {name!r}")
    if code_fingerprint(obj.fn) != code:
        msg = (
            f"task {name!r} imported afresh from {where[1]} reaches other code or values than "
            "the running one (a global set at run time, or a file edited since it was imported?)"
        )
        raise LookupError(msg)
    return obj


def _load(how: str, value: Any) -> pl.LazyFrame:
    return pl.scan_ipc(value) if how == "ipc" else pickle.loads(value)  # type: ignore[no-any-return]


def _write(outputs: Mapping[str, pl.LazyFrame | pl.DataFrame], folder: str) -> dict[str, str]:
    """Every output as an Arrow IPC file; the lazy ones as one Polars query."""
    paths = {name: os.path.join(folder, f"output-{name}.arrow") for name in outputs}
    sinks = []
    for name, frame in outputs.items():
        if isinstance(frame, pl.DataFrame):
            frame.write_ipc(paths[name])
        else:
            sinks.append(frame.sink_ipc(paths[name], lazy=True))
    if sinks:
        pl.collect_all(sinks)
    return paths


def _describe(exc: BaseException) -> dict[str, Any]:
    report: dict[str, Any] = {
        "type": type(exc).__qualname__,
        "error": str(exc),
        "retryable": is_retryable(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        "pickled": None,
    }
    with contextlib.suppress(Exception):  # else sent as type and message (WorkerError)
        report["pickled"] = pickle.dumps(exc)
    return report


def _report(folder: str, report: Mapping[str, Any]) -> None:
    """Write the report whole: the parent reads it only after this process exited."""
    Path(folder, "report.pickle").write_bytes(pickle.dumps(dict(report)))


__all__ = ["main"]
