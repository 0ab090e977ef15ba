"""Executors: run a pipeline's IR as Polars work. ``LocalExecutor`` runs it in this process.

Modules: ``local`` (the run: sources, incremental decisions, results), ``engine`` (tasks into
as few Polars queries as possible), ``fingerprints`` (task and dataset fingerprints), ``state``
(the state file and which tasks run), ``explain`` (why, in words), ``locations`` (where each
dataset lives), ``result`` (``RunResult``/``TaskResult``), ``progress`` (live terminal progress
with rich), ``timeouts`` and ``worker`` (attempts of tasks with a timeout, ended when it passes).
"""

from __future__ import annotations

from typing import Any, Protocol

from glacier.executor.local import LocalExecutor
from glacier.executor.result import RunResult, TaskResult
from glacier.validated import Validates


class Executor(Protocol):
    """Anything that can run a pipeline: ``executor.run(pipeline, **options) -> RunResult``.

    An executor takes the pipeline's validated snapshot (``pipeline.validated()``: its DAG
    and IR) and never calls back into the pipeline."""

    def run(self, pipeline: Validates, **options: Any) -> RunResult: ...


__all__ = ["Executor", "LocalExecutor", "RunResult", "TaskResult"]
