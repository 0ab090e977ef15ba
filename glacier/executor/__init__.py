"""Executors: run a pipeline's IR as Polars work. ``LocalExecutor`` runs it in this process.

Modules: ``local`` (the run: sources, incremental decisions, results), ``engine`` (tasks into
as few Polars queries as possible), ``fingerprints`` (task and dataset fingerprints), ``state``
(the state file and which tasks run), ``explain`` (why, in words), ``locations`` (where each
dataset lives), ``result`` (``RunResult``/``TaskResult``), ``progress`` (live terminal progress
with rich).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from glacier.executor.local import LocalExecutor
from glacier.executor.result import RunResult, TaskResult

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline


class Executor(Protocol):
    """Anything that can run a pipeline: ``executor.run(pipeline, **options) -> RunResult``."""

    def run(self, pipeline: Pipeline, **options: Any) -> RunResult: ...


__all__ = ["Executor", "LocalExecutor", "RunResult", "TaskResult"]
