"""Run one task of a compiled pipeline: what every cloud function does, whatever the cloud.

Provider adapters (each provider's ``runtime`` entry point) turn their event/environment into a call to
:func:`run_task`; everything else (finding the task's code, reading inputs, calling the task,
enforcing schemas, atomic writes) is here and uses the same ``glacier.io``,
``glacier.writes`` and ``glacier.invoke`` functions as the local executor, so a task behaves the same in both.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from glacier.errors import DefinitionError, InputError, PipelineReferenceError
from glacier.invoke import call_task
from glacier.io import scan_dataset
from glacier.ir import PipelineIR, TaskIR
from glacier.loader import load_pipeline, split_ref
from glacier.pipeline import Pipeline
from glacier.redact import redacting, register
from glacier.runtime.locations import check_run_id, resolve_locations
from glacier.schema import check_sources
from glacier.task import Task
from glacier.tasklog import configure_for_runtime
from glacier.writes import PendingWrite, commit_all, prepare_write, run_writes

logger = logging.getLogger("glacier.runtime")


def _resolve_ref(ref: str, bundle_root: Path | None) -> str:
    """A REF with its file part made relative to the bundle root (module REFs unchanged)."""
    target, attr = split_ref(ref)
    if bundle_root is None or not target.endswith(".py") or Path(target).is_absolute():
        return ref
    return f"{bundle_root / target}:{attr}" if attr else str(bundle_root / target)


def load_bundle_pipeline(
    manifest: PipelineIR, bundle_root: str | Path | None = None
) -> Pipeline | None:
    """The pipeline named by the manifest's REF (relative to ``bundle_root``), or None without one.

    The bundle root goes on ``sys.path`` first, so module REFs and the user's own imports
    between bundled modules resolve.
    """
    root = Path(bundle_root) if bundle_root is not None else None
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    if not manifest.source:
        return None
    return load_pipeline(_resolve_ref(manifest.source, root))


def load_task(
    manifest: PipelineIR,
    name: str,
    *,
    pipeline: Pipeline | None = None,
    bundle_root: str | Path | None = None,
) -> Task:
    """The Task object for ``name``: from ``pipeline``, the manifest's REF, or its module.

    The manifest's REF (``manifest.source``) is resolved relative to ``bundle_root``; without
    a REF, the task's module is imported and the task found by qualified name (module-level
    tasks only). The found task must have the manifest's inputs and outputs: the compiled
    infrastructure (permissions, locations) was derived from them.
    """
    spec = _task_spec(manifest, name)
    if pipeline is None:
        pipeline = load_bundle_pipeline(manifest, bundle_root)
    found = _from_pipeline(pipeline, spec) if pipeline is not None else _from_module(spec)
    _check_matches(found, spec, manifest.name)
    return found


def _task_spec(manifest: PipelineIR, name: str) -> TaskIR:
    try:
        return manifest.task(name)
    except KeyError:
        known = ", ".join(t.name for t in manifest.tasks) or "none"
        msg = f"pipeline {manifest.name!r} has no task {name!r}; its tasks: {known}"
        raise DefinitionError(msg) from None


def _from_pipeline(pipeline: Pipeline, spec: TaskIR) -> Task:
    found = pipeline.dag.tasks.get(spec.name)
    if found is None:
        msg = (
            f"task {spec.name!r} is in the manifest but not in pipeline {pipeline.name!r} loaded "
            "from the bundle; recompile so the manifest matches the code"
        )
        raise DefinitionError(msg)
    return found


def _from_module(spec: TaskIR) -> Task:
    """The module-level Task ``spec.module:spec.qualname``."""
    where = f"{spec.module}:{spec.qualname}"
    if "<locals>" in spec.qualname:
        msg = (
            f"task {spec.name!r} ({where}) is defined inside a function, so it can only be found "
            "through its pipeline; compile from a REF (glacier compile file.py:pipeline)"
        )
        raise PipelineReferenceError(msg)
    obj: Any = importlib.import_module(spec.module)
    for part in spec.qualname.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, Task):
        msg = f"task {spec.name!r}: {where} is {obj!r}, expected the @task-decorated function"
        raise PipelineReferenceError(msg)
    return obj


def _check_matches(task: Task, spec: TaskIR, pipeline: str) -> None:
    """The code's inputs/outputs must be the manifest's (permissions were derived from them)."""
    code = (sorted(d.name for d in task.input_datasets), sorted(d.name for d in task.outputs))
    built = (sorted(spec.input_datasets), sorted(spec.outputs))
    if code != built:
        msg = (
            f"pipeline {pipeline!r} task {spec.name!r}: the bundled code reads {code[0]} and writes "
            f"{code[1]}, but the manifest says it reads {built[0]} and writes {built[1]}; "
            "recompile and redeploy the pipeline"
        )
        raise DefinitionError(msg)
    if task.code_hash != spec.code_hash:
        logger.warning("task %r: code differs from the compiled manifest", spec.name)


def _location(locations: Mapping[str, str], dataset: str, task: str) -> str:
    if dataset not in locations:
        known = ", ".join(sorted(locations)) or "none"
        msg = (
            f"task {task!r}: no location for dataset {dataset!r}; locations given for: {known}. "
            "The task's environment must list every input and output (GLACIER_LOCATIONS)"
        )
        raise InputError(msg)
    return locations[dataset]


_HTTP_STATUS = re.compile(r"\b[45]\d\d [A-Z][a-z]+(?: [A-Z][a-z]+)*")


def _first_line(exc: BaseException, limit: int = 240) -> str:
    """An exception's first line, shortened: object-store errors carry whole XML bodies.

    An HTTP status (``403 Forbidden``) cut off by the limit is kept at the end: it is what
    says why, and retry details before it vary in length from one attempt to the next.
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(text) <= limit:
        return text
    status = _HTTP_STATUS.search(text)
    tail = f" ({status.group()})" if status else ""
    if status and status.end() <= limit - 3 - len(tail):
        tail = ""  # the kept text already says it
    return text[: limit - 3 - len(tail)] + "..." + tail


def read_inputs(
    manifest: PipelineIR,
    spec: TaskIR,
    locations: Mapping[str, str],
    storage_options: Mapping[str, str] | None = None,
) -> dict[str, pl.LazyFrame]:
    """A LazyFrame per input dataset; an unreadable input is an InputError naming it, a
    source that breaks its declared schema (column names, dtypes) a SchemaError."""
    frames: dict[str, pl.LazyFrame] = {}
    for name in spec.input_datasets:
        uri = _location(locations, name, spec.name)
        ds = manifest.dataset(name)
        try:
            frame = scan_dataset(ds, uri, storage_options)
            frame.collect_schema()  # fail here, naming the dataset, not deep inside the task
        except Exception as exc:
            origin = "upload it there" if ds.is_source else f"run task {ds.producer!r} first"
            reason = _first_line(exc)
            msg = f"task {spec.name!r}: cannot read input dataset {name!r} at {uri} ({reason}); {origin}"
            raise InputError(msg) from exc
        if ds.is_source:  # what a task wrote was checked then; a source is checked here
            check_sources([(name, ds.schema_, frame, f"at {uri}, read by task {spec.name!r}")])
        frames[name] = frame
    return frames


def write_outputs(
    manifest: PipelineIR,
    spec: TaskIR,
    frames: Mapping[str, pl.LazyFrame | pl.DataFrame],
    locations: Mapping[str, str],
    storage_options: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Write every output (schema-checked) as one Polars query; per-dataset results.

    Every schema is checked before anything is computed; local outputs are sunk to temporary
    files, object-store outputs computed (a task failing midway leaves every object as it
    was, see :func:`glacier.writes.prepare_write`), and all are published only once all verified.
    """
    pending: list[PendingWrite] = []
    try:
        for n in spec.outputs:  # a SchemaError on a later output aborts the earlier ones
            location = _location(locations, n, spec.name)
            pending.append(prepare_write(manifest.dataset(n), frames[n], location, storage_options))
        run_writes(pending)
        results = commit_all(pending)  # all verified before any is visible
    except BaseException:
        for p in pending:
            p.abort()
        raise
    return {
        name: {"uri": r.uri, "rows": r.rows, "bytes": r.bytes}
        for name, r in zip(spec.outputs, results, strict=True)
    }


def run_task(
    manifest: PipelineIR,
    task_name: str,
    locations: Mapping[str, str],
    *,
    run_id: str,
    pipeline: Pipeline | None = None,
    storage_options: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    bundle_root: str | Path | None = None,
) -> dict[str, Any]:
    """Run one task of ``manifest`` for run ``run_id``; its report.

    ``locations`` maps the task's input and output datasets to URIs or paths (templates with
    ``{run_id}`` allowed). Returns ``{"task", "run_id", "status", "rows", "bytes", "outputs",
    "datasets", "seconds"}``; ``outputs`` maps each output to its URI, ``datasets`` each
    output to ``{"uri", "rows", "bytes"}`` (``bytes`` is None when the store reports no size,
    e.g. Polars' native cloud writes). Errors propagate so the orchestrator can retry.
    """
    started = time.perf_counter()
    run_id = check_run_id(run_id)
    resolved = resolve_locations(locations, run_id)
    spec = _task_spec(manifest, task_name)
    register_secrets(spec)
    configure_for_runtime()  # the task's get_logger() lines reach the platform's log service
    with redacting():  # an error naming a secret's value leaves with *** in its place
        task = load_task(manifest, task_name, pipeline=pipeline, bundle_root=bundle_root)
        inputs = read_inputs(manifest, spec, resolved, storage_options)
        frames = call_task(task, inputs, params)
        written = write_outputs(manifest, spec, frames, resolved, storage_options)
    return {
        "task": task_name,
        "run_id": run_id,
        "status": "succeeded",
        "rows": sum(w["rows"] for w in written.values()),
        "bytes": _total_bytes(written.values()),
        "outputs": {name: w["uri"] for name, w in written.items()},
        "datasets": written,
        "seconds": round(time.perf_counter() - started, 3),
    }


def register_secrets(spec: TaskIR, env: Mapping[str, str] = os.environ) -> list[str]:
    """Have the values of the task's secrets redacted from everything logged or raised; the
    variables that held one.

    A secret reaches a cloud function as the environment variable named by its ``env`` key
    (the stack injects it, or the provider's adapter fetched it before calling run_task).
    """
    declared = spec.compute.config.get("env")
    if not isinstance(declared, Mapping):
        return []
    names = sorted(
        k for k, v in declared.items() if isinstance(v, Mapping) and "secret" in v and env.get(k)
    )
    register(env[k] for k in names)
    return names


def _total_bytes(written: Iterable[Mapping[str, Any]]) -> int | None:
    """Bytes of all outputs; None (unknown) if any output's size could not be measured."""
    sizes = [w["bytes"] for w in written]
    return None if any(b is None for b in sizes) else sum(sizes)


__all__ = [
    "load_bundle_pipeline",
    "load_task",
    "read_inputs",
    "register_secrets",
    "run_task",
    "write_outputs",
]
