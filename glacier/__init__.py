"""Glacier: a type-annotation-driven dataflow compiler.

Declare ``Dataset`` objects, use them as type hints on task functions, and Glacier infers the
DAG: run it locally on Polars, or compile it to Pulumi programs for AWS, GCP and Azure.
"""

from __future__ import annotations

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
from glacier.executor import LocalExecutor, RunResult
from glacier.ir import PipelineIR
from glacier.pipeline import Pipeline
from glacier.task import Task, task
from glacier.tasklog import get_logger

__version__ = "0.1.0"


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
    "get_logger",
    "storage",
    "task",
]
