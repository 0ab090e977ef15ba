"""``glacier run [REF]``: run a pipeline locally, print a summary table and where outputs went.

    glacier run [REF] [--select DS ...] [--force] [--root DIR] [--input NAME=PATH ...]
                      [--param TASK.PARAM=VALUE ...] [--env NAME] [--remote] [--no-progress]
                      [--explain]

Without REF the project's configuration (``glacier.toml`` or ``[tool.glacier]`` in
``pyproject.toml``, found from the working directory) names the pipeline; its ``root``,
``[inputs]`` and ``[params]`` (with ``[env.NAME]`` applied by ``--env NAME``) fill in what
the flags leave out, every relative path anchored to that file's folder. ``--param`` values
are parsed per the parameter's annotation (``5`` for a float, ``true`` for a bool, JSON for a
list or dict, ``null`` for None, the text itself for a str); a value that does not parse is
one error line. Errors speak in flags: ``--input NAME=PATH``, ``--param task.name=value``.
Task log lines (``glacier.get_logger()``) print as ``task | message`` above the progress.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from glacier.errors import DefinitionError, InputError, MissingSourcesError, TaskFailedError
from glacier.executor import LocalExecutor, RunResult
from glacier.executor.failures import hint
from glacier.executor.report import outputs_text, summary_table
from glacier.loader import load_pipeline
from glacier.params import parse_cli_params
from glacier.pipeline import Pipeline
from glacier.project import load_config
from glacier.tasklog import show_task_lines


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a pipeline locally on Polars",
        description="Run a pipeline locally: stale tasks only, unless --force.",
    )
    parser.add_argument(
        "ref",
        metavar="REF",
        nargs="?",
        default=None,
        help="path/to/file.py[:attr] or package.module[:attr] (default: the project config's pipeline)",
    )
    parser.add_argument(
        "--select", nargs="+", metavar="DS", default=None, help="run only what these datasets need"
    )
    parser.add_argument("--force", action="store_true", help="rerun every task, even fresh ones")
    parser.add_argument(
        "--root", default=None, help="where stored datasets live (default: config root, .glacier)"
    )
    parser.add_argument(
        "--input", action="append", default=[], metavar="NAME=PATH", help="data for a source"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="TASK.PARAM=VALUE", help="task parameter"
    )
    parser.add_argument(
        "--env", default=None, metavar="NAME", help="apply [env.NAME] of the project config"
    )
    parser.add_argument(
        "--remote", action="store_true", help="read/write the datasets' real cloud object URLs"
    )
    parser.add_argument("--no-progress", action="store_true", help="no live progress display")
    parser.add_argument(
        "--explain", action="store_true", help="print why each task runs or is skipped, then run"
    )


def _pairs(values: list[str], option: str, example: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        name, eq, value = item.partition("=")
        if not eq or not name or not value:
            raise DefinitionError(f"{option} {item!r}: expected {example}")
        pairs[name.strip()] = value
    return pairs


def resolve_ref(ref: str | None, env: str | None = None) -> str:
    """REF as given, or the ``pipeline`` of the project configuration found from here."""
    if ref is not None:
        return ref
    config = load_config(Path.cwd(), env)
    if config.pipeline is None:
        where = (
            f"{config.file} sets no 'pipeline'"
            if config.file
            else "no glacier.toml or pyproject.toml [tool.glacier] is here or above"
        )
        msg = (
            f"no pipeline given: {where}; pass REF (path/to/file.py[:attr]), add "
            'pipeline = "pipeline.py" to the config, or start a project with glacier init'
        )
        raise DefinitionError(msg)
    return config.pipeline


def _check_select(pipeline: Pipeline, select: list[str] | None) -> None:
    """``--select`` names datasets, at least one of them produced by a task."""
    if not select:
        return
    produced = [d.name for d in pipeline.datasets if d.name not in pipeline.dag.sources]
    for name in select:
        if name not in {d.name for d in pipeline.datasets}:
            msg = f"--select {name}: pipeline {pipeline.name!r} has no dataset {name!r}; datasets a task produces: {', '.join(produced)}"
            raise DefinitionError(msg)
    if not set(select) & set(produced):
        msg = f"--select {' '.join(select)}: names only sources, so nothing would run; select datasets a task produces: {', '.join(produced)}"
        raise DefinitionError(msg)


def _check_flags(pipeline: Pipeline, inputs: dict[str, str], raw: dict[str, str]) -> None:
    """``--input`` and ``--param`` checked against the pipeline, in command-line words."""
    sources = [d.name for d in pipeline.sources]
    for name in inputs:
        if name not in sources:
            known = ", ".join(sources) or "none"
            msg = f"--input {name}=...: pipeline {pipeline.name!r} has no source {name!r}; its sources: {known}"
            raise InputError(msg)
    tasks = {t.name: t for t in pipeline.tasks}
    for key in raw:
        name, dot, param = key.partition(".")
        if not dot or not param:
            msg = f"--param {key}=...: expected TASK.PARAM=VALUE, e.g. --param split.min_total=5"
            raise DefinitionError(msg)
        if name not in tasks:
            known = ", ".join(tasks) or "none"
            msg = f"--param {key}=...: pipeline {pipeline.name!r} has no task {name!r}; its tasks: {known}"
            raise DefinitionError(msg)
        params = [p.name for p in tasks[name].params]
        if param not in params:
            known = ", ".join(params) or "none"
            msg = f"--param {key}=...: task {name!r} has no parameter {param!r}; its parameters: {known}"
            raise DefinitionError(msg)


def _missing(exc: MissingSourcesError) -> InputError:
    flags = " ".join(f"--input {name}=PATH" for name in exc.missing)
    msg = f"{_listed(exc.missing)}; pass {flags}, or set them under [inputs] in glacier.toml"
    return InputError(msg)


def _listed(missing: dict[str, str]) -> str:
    """``source dataset 'a' has no data: why`` or ``2 source datasets have no data: 'a' (why), ...``."""
    if len(missing) == 1:
        ((name, why),) = missing.items()
        return f"source dataset {name!r} has no data: {why}"
    each = ", ".join(f"{name!r} ({why})" for name, why in missing.items())
    return f"{len(missing)} source datasets have no data: {each}"


def run(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(resolve_ref(args.ref, args.env))
    inputs = _pairs(args.input, "--input", "NAME=PATH, e.g. --input orders=data/orders.parquet")
    raw = _pairs(args.param, "--param", "TASK.PARAM=VALUE, e.g. --param split.min_total=5")
    _check_flags(pipeline, inputs, raw)
    _check_select(pipeline, args.select)
    params = parse_cli_params(pipeline.tasks, raw)
    executor = LocalExecutor(
        storage="remote" if args.remote else "local",
        root=args.root,
        progress=False if args.no_progress else None,
    )
    console = Console()
    try:
        with show_task_lines(), hint("rerun with --debug for the full error"):
            result = executor.run(
                pipeline,
                inputs=inputs,
                params=params,
                select=args.select,
                force=args.force,
                explain=args.explain,
                env=args.env,
            )
    except MissingSourcesError as exc:
        raise _missing(exc) from exc
    except TaskFailedError as exc:
        if isinstance(exc.result, RunResult):
            console.print(summary_table(exc.result))
        raise
    console.print(summary_table(result))
    producers = {d.name: d.producer for d in pipeline.spec().datasets if d.producer}
    stored = outputs_text(result, producers)
    if stored is not None:
        print(stored)
    return 0
