"""Glacier: a type-annotation-driven dataflow compiler.

Declare ``Dataset`` objects, use them as type hints on task functions, and Glacier infers the
DAG: run it locally on Polars, or compile it to Pulumi programs for AWS, GCP and Azure.
"""

from __future__ import annotations

import typing

from glacier import compute, errors, storage
from glacier.compute import Secret
from glacier.dataset import Dataset
from glacier.errors import (
    CompilationError,
    CycleError,
    DefinitionError,
    DuplicateProducerError,
    GlacierError,
    SchemaError,
)
from glacier.ir import PipelineIR
from glacier.pipeline import Pipeline
from glacier.task import Task, task

if typing.TYPE_CHECKING:
    from glacier.executor import LocalExecutor, RunResult

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The executor pulls in threads and rich; load it only when asked for.
    if name in ("LocalExecutor", "RunResult"):
        from glacier import executor

        return getattr(executor, name)
    raise AttributeError(f"module 'glacier' has no attribute {name!r}")


__all__ = [
    "CompilationError",
    "CycleError",
    "Dataset",
    "DefinitionError",
    "DuplicateProducerError",
    "GlacierError",
    "LocalExecutor",
    "Pipeline",
    "PipelineIR",
    "RunResult",
    "SchemaError",
    "Secret",
    "Task",
    "__version__",
    "compute",
    "errors",
    "storage",
    "task",
]
