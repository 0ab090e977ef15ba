"""``LocalExecutor``: run a pipeline on this machine with Polars.

A run: choose the tasks (``select=``), locate every dataset (``locations.Locator``), check
that every source has data *before* any task runs, decide what is stale (``state``), hand
the stale tasks to the ``Engine``, record what succeeded, and return a ``RunResult`` (or
raise ``TaskFailedError`` carrying it).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Container, Mapping, Sequence
from typing import Any, Literal

import polars as pl

from glacier.errors import DefinitionError, InputError, MissingSourcesError
from glacier.executor.engine import Engine, Frame, Progress
from glacier.executor.explain import print_plan
from glacier.executor.failures import raise_if_failed
from glacier.executor.fingerprints import Fingerprint, source_fingerprint, task_fingerprints
from glacier.executor.interrupts import stop_on_signals
from glacier.executor.local_env import task_environments
from glacier.executor.locations import Locator
from glacier.executor.result import RunResult, TaskResult
from glacier.executor.state import StateStore, tasks_to_run
from glacier.fingerprint import Fingerprinter, Unknown
from glacier.formats import require_format_packages
from glacier.invoke import bind_params
from glacier.io import exists, is_remote, scan_dataset
from glacier.ir import DatasetIR, PipelineIR
from glacier.project import apply_config
from glacier.schema import check_sources
from glacier.validated import Validated, Validates

InputValue = str | os.PathLike[str] | pl.DataFrame | pl.LazyFrame


class LocalExecutor:
    """Runs pipelines in this process on Polars.

    ``storage="local"`` (default) keeps storage-backed datasets under ``root``;
    ``storage="remote"`` reads and writes their real object URLs with ``storage_options``
    per provider name (``{"<provider>": {...}}``) and ``remote_base`` as the
    URL folder for generic ``ObjectStorage`` datasets. Remote runs always run every selected
    task: object stores give no cheap fingerprint of what is there.
    """

    def __init__(
        self,
        *,
        storage: Literal["local", "remote"] = "local",
        root: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Mapping[str, str]] | None = None,
        remote_base: str | None = None,
        max_workers: int | None = None,
        progress: bool | None = None,
        retry_delay: float = 1.0,
    ) -> None:
        if storage not in ("local", "remote"):
            msg = f"LocalExecutor: storage must be 'local' or 'remote', found {storage!r}"
            raise DefinitionError(msg)
        self.storage = storage
        self.root = os.fspath(root) if root is not None else None
        self.storage_options = storage_options
        self.remote_base = remote_base
        self.max_workers = max_workers
        self.progress = progress
        self.retry_delay = retry_delay

    def run(
        self,
        pipeline: Validates,
        *,
        inputs: Mapping[str, InputValue] | None = None,
        params: Mapping[str, Any] | None = None,
        select: Sequence[str] | None = None,
        force: bool = False,
        root: str | os.PathLike[str] | None = None,
        explain: bool = False,
        env: str | None = None,
    ) -> RunResult:
        """Run ``pipeline`` (its validated DAG and IR): ``inputs`` per source, ``params`` as
        ``{"task.param": value}``, ``select`` the datasets to produce, ``force`` to rerun what
        is fresh, ``root`` for this run's local data; ``explain=True`` prints whether each task
        runs or is skipped, and why, before running.

        The project's configuration file (``glacier.toml`` or ``[tool.glacier]`` found from the
        pipeline's file, with ``[env.<env>]`` applied) supplies the root, inputs and params
        these arguments leave out; without either, the root is ``.glacier``."""
        started = time.perf_counter()
        whole = pipeline.validated()
        config, inputs, params = apply_config(whole, env, inputs or {}, params or {})
        root_dir = next(
            os.fspath(r) for r in (root, self.root, config.root, ".glacier") if r is not None
        )
        names = [str(getattr(d, "name", d)) for d in select or ()]  # names or Datasets
        chosen = whole.select(names) if select else whole
        if select and not chosen.dag.tasks:
            produced = ", ".join(d for d in whole.dag.datasets if d in whole.dag.producer)
            msg = (
                f"pipeline {whole.name!r}: select={list(map(str, select))} names only sources "
                f"(no task produces them), so there is nothing to run; select datasets a task "
                f"produces: {produced}"
            )
            raise DefinitionError(msg)
        # checked against the whole pipeline, then narrowed: with select=, inputs and params
        # for tasks that are not needed are ignored, not errors (one command line for all)
        task_params = _split_params(whole, params or {}, keep=chosen.dag.tasks)
        inputs = _check_inputs(whole, chosen, inputs or {})
        spec = chosen.ir
        require_format_packages(spec.datasets)
        locator = Locator(
            root_dir,
            remote=self.storage == "remote",
            remote_base=self.remote_base,
            storage_options=self.storage_options,
        )
        locations = {d.name: locator.uri(d) for d in spec.datasets}
        frames, source_fps = _load_sources(spec, locator, locations, inputs)
        # the run lock is held from before the state is read until it is saved: two runs of
        # this pipeline on this root never interleave their writes or their state
        with stop_on_signals(), StateStore(root_dir, spec.name) as state:
            try:
                engine = self._run_tasks(
                    chosen, spec, state, frames, source_fps, locator, locations, task_params, force,
                    explain,
                )  # fmt: skip
            finally:  # interrupted too: the tasks that committed are recorded and skip next time
                state.prune(set(whole.dag.tasks))
                state.save()
        results = engine.results
        result = _result(spec, results, engine, locator, locations, frames, inputs)
        result.seconds = time.perf_counter() - started
        raise_if_failed(result, whole.dag.tasks)
        return result

    def _run_tasks(
        self,
        chosen: Validated,
        spec: PipelineIR,
        state: StateStore,
        frames: dict[str, Frame],
        source_fps: Mapping[str, Fingerprint],
        locator: Locator,
        locations: Mapping[str, str | None],
        task_params: Mapping[str, Mapping[str, Any]],
        force: bool,
        explain: bool = False,
    ) -> Engine:
        """Decide what is stale, run it, and record what succeeded in ``state``."""
        fingerprints = Fingerprinter()
        code = {t.name: fingerprints.task(t.fn) for t in chosen.dag.tasks.values()}
        fps = task_fingerprints(spec, source_fps, task_params, locations, code, fingerprints.value)
        remote = self.storage == "remote"

        def stored(names: Any, produced_only: bool = False) -> dict[str, str | None]:
            return {
                n: locations[n]
                for n in names
                if not produced_only or spec.dataset(n).producer is not None
            }

        every = "forced" if force else "remote storage: every task runs" if remote else None

        def stale(t: Any) -> str | None:
            if every:
                return every
            ins = stored(t.input_datasets, produced_only=True)
            return state.stale_reason(t.name, fps[t.name], stored(t.outputs), ins)

        run_set, reasons = tasks_to_run(spec, stale)
        if every:  # each task runs for that reason, not because the one upstream runs
            reasons = dict.fromkeys(reasons, every)
        if explain:
            print_plan(
                spec.name, [(t.name, t.name in run_set, reasons[t.name]) for t in spec.tasks]
            )
        results = {t.name: TaskResult(t.name, reason=reasons[t.name]) for t in spec.tasks}
        for t in spec.tasks:
            if t.name not in run_set:
                results[t.name].status = "skipped"
        _scan_kept_outputs(spec, run_set, locator, locations, frames)
        engine = self._engine(
            chosen, spec, run_set, frames, locator, locations, task_params, results
        )
        try:
            with _progress(self.progress, [t.name for t in spec.tasks if t.name in run_set]) as bar:
                engine.progress = bar
                engine.run()
        finally:  # an interrupted run records what it committed
            for t in spec.tasks:
                if results[t.name].status == "succeeded":
                    ins = stored(t.input_datasets, produced_only=True)
                    state.record(t.name, fps[t.name], stored(t.outputs), ins)
                elif results[t.name].status == "failed":
                    state.forget(t.name)
        return engine

    def _engine(
        self,
        chosen: Validated,
        spec: PipelineIR,
        run_set: set[str],
        frames: dict[str, Frame],
        locator: Locator,
        locations: Mapping[str, str | None],
        task_params: Mapping[str, Mapping[str, Any]],
        results: dict[str, TaskResult],
    ) -> Engine:
        targets = {}
        for ds in spec.datasets:
            uri = locations[ds.name]
            if uri is not None and ds.producer in run_set:
                targets[ds.name] = (ds, uri, locator.options(uri, ds))
        return Engine(
            [t for n, t in chosen.dag.tasks.items() if n in run_set],
            chosen.dag.stages,
            frames,
            targets,
            task_params,
            results,
            max_workers=self.max_workers,
            retry_delay=self.retry_delay,
            # a missing secret is one error here, before any task runs
            env=task_environments([t for n, t in chosen.dag.tasks.items() if n in run_set], chosen),
            ref=chosen.ir.source,
            sources={d.name: d for d in spec.sources},
        )


def _split_params(
    pipeline: Validated, params: Mapping[str, Any], keep: Container[str]
) -> dict[str, dict[str, Any]]:
    """``{"task.param": v}`` -> ``{task: {param: v}}`` for the tasks in ``keep``, all checked
    against the pipeline's tasks and their parameters."""
    by_task: dict[str, dict[str, Any]] = {}
    tasks = pipeline.dag.tasks
    for key, value in params.items():
        name, dot, param = key.partition(".")
        if not dot or not param:
            msg = f"params key {key!r} must be 'task.param', e.g. 'split.min_total'"
            raise DefinitionError(msg)
        if name not in tasks:
            known = ", ".join(tasks) or "none"
            msg = f"params key {key!r}: pipeline {pipeline.name!r} has no task {name!r} (tasks: {known})"
            raise DefinitionError(msg)
        by_task.setdefault(name, {})[param] = value
    for name, values in by_task.items():
        bind_params(tasks[name], values)  # raises on unknown parameter names
    return {name: values for name, values in by_task.items() if name in keep}


def _check_inputs(
    pipeline: Validated, chosen: Validated, inputs: Mapping[str, InputValue]
) -> dict[str, InputValue]:
    """The inputs the chosen tasks read; InputError for a name that is no source at all."""
    sources = pipeline.dag.sources
    unknown = sorted(set(inputs) - set(sources))
    if unknown:
        known = ", ".join(sources) or "none"
        msg = f"inputs= names {unknown[0]!r}, which is not a source of pipeline {pipeline.name!r} (sources: {known})"
        raise InputError(msg)
    needed = set(chosen.dag.sources)
    return {name: value for name, value in inputs.items() if name in needed}


def _load_sources(
    spec: PipelineIR,
    locator: Locator,
    locations: Mapping[str, str | None],
    inputs: dict[str, InputValue],
) -> tuple[dict[str, Frame], dict[str, Fingerprint]]:
    """A frame and a fingerprint for every source; InputError (no data) or SchemaError (data
    that breaks the source's declared schema) before any task runs."""
    sources = {d.name: d for d in spec.sources}
    frames: dict[str, Frame] = {}
    fps: dict[str, Fingerprint] = {}
    missing: dict[str, str] = {}
    for name, ds in sources.items():
        if not ds.consumers:
            continue
        try:
            frames[name], fps[name] = _source(ds, inputs.get(name), locations[name], locator)
        except _NoData as gap:  # every missing source in one error, not one per run
            missing[name] = str(gap)
    if missing:
        raise _missing_error(spec, missing)
    check_sources(
        (name, sources[name].schema_, frame, _where(inputs.get(name), locations[name]))
        for name, frame in frames.items()
    )
    return frames, fps


def _where(value: InputValue | None, uri: str | None) -> str:
    """Where a source's data comes from, for messages."""
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        return f"the {type(value).__name__} given in inputs="
    return f"at {os.fspath(value) if value is not None else uri}"


class _NoData(Exception):
    """A source has no data; the message says what was looked at."""


def _missing_error(spec: PipelineIR, missing: Mapping[str, str]) -> MissingSourcesError:
    extensions = {d.name: d.extension for d in spec.sources}
    if len(missing) == 1:
        ((name, why),) = missing.items()
        listed = f"source dataset {name!r} has no data: {why}"
    else:
        each = ", ".join(f"{name!r} ({why})" for name, why in missing.items())
        listed = f"{len(missing)} source datasets have no data: {each}"
    example = ", ".join(f"{n!r}: 'path/to/{n}.{extensions[n]}'" for n in missing)
    msg = (
        f"pipeline {spec.name!r}: {listed}; pass inputs={{{example}}} (a path, DataFrame or "
        "LazyFrame each), or set them under [inputs] in the project's glacier.toml"
    )
    return MissingSourcesError(msg, dict(missing))


def _source(
    ds: DatasetIR, value: InputValue | None, uri: str | None, locator: Locator
) -> tuple[Frame, Fingerprint]:
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        return value, source_fingerprint(value)
    if value is not None:
        uri = os.fspath(value)
    if uri is None:
        raise _NoData("it has no storage and no input names it")
    opts = locator.options(uri, ds)
    glob = any(c in uri for c in "*?[")
    if not glob and not exists(uri, opts, ds.format):
        raise _NoData(f"no data at {uri}")
    if glob or is_remote(uri):
        what = "a pattern" if glob else "a URL"
        return scan_dataset(ds, uri, opts), Unknown(f"{uri} is {what}, which has no fingerprint")
    return scan_dataset(ds, uri, opts), source_fingerprint(uri)


def _scan_kept_outputs(
    spec: PipelineIR,
    run_set: set[str],
    locator: Locator,
    locations: Mapping[str, str | None],
    frames: dict[str, Frame],
) -> None:
    """Running tasks read the outputs of skipped tasks from where those were stored."""
    for t in spec.tasks:
        if t.name in run_set:
            continue
        for o in t.outputs:
            uri = locations[o]
            ds = spec.dataset(o)
            if uri is not None and any(c in run_set for c in ds.consumers):
                frames[o] = scan_dataset(ds, uri, locator.options(uri, ds))


def _result(
    spec: PipelineIR,
    results: dict[str, TaskResult],
    engine: Engine,
    locator: Locator,
    locations: Mapping[str, str | None],
    frames: Mapping[str, Frame],
    inputs: Mapping[str, InputValue],
) -> RunResult:
    """The run's result; sources given in ``inputs=`` are found where they were given."""
    stored = {n: u for n, u in locations.items() if u is not None}
    in_memory = set()
    for name, value in inputs.items():
        if isinstance(value, pl.DataFrame | pl.LazyFrame):
            stored.pop(name, None)
            in_memory.add(name)
        else:
            stored[name] = os.fspath(value)
    specs = {d.name: d for d in spec.datasets}

    def scan(name: str) -> pl.LazyFrame:
        uri = stored[name]
        return scan_dataset(specs[name], uri, locator.options(uri, specs[name]))

    ephemeral = {n: f.lazy() for n, f in frames.items() if n not in stored}
    return RunResult(
        spec.name,
        results,
        queries=engine.queries,
        locations=stored,
        frames=ephemeral,
        scanner=scan,
        in_memory=frozenset(in_memory),
        ephemeral=frozenset(n for n, u in locations.items() if u is None),
    )


def _progress(enabled: bool | None, names: list[str]) -> Any:
    """Live per-task progress with rich, only on a terminal (or when asked for)."""
    if enabled is None:
        enabled = sys.stdout.isatty()
    if not enabled or not names:
        from contextlib import nullcontext

        return nullcontext(Progress())
    from glacier.executor.progress import RichProgress

    return RichProgress(names)


__all__ = ["LocalExecutor"]
