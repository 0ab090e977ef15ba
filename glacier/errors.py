"""Every error Glacier raises on purpose.

Hierarchy::

    GlacierError
    ├── DefinitionError          a Dataset, task, resource or pipeline is declared wrongly
    │   ├── CycleError           the inferred DAG has a cycle
    │   ├── DuplicateProducerError  two tasks produce the same dataset
    │   └── ResourceError        a resource (storage, compute, secret) got bad arguments
    │                            (also a ValueError)
    ├── SchemaError              data written to a dataset does not match its schema
    ├── InputError               a source dataset has no data for a run
    ├── WriteConflictError       another writer holds a dataset's write lock, or another run
    │                            of the pipeline holds its run lock
    ├── TaskFailedError          a task raised during a run (the cause is chained)
    │   └── TaskSchemaError      ... because its output broke a schema (also a SchemaError)
    ├── CompilationError         a pipeline cannot be compiled for the chosen target
    │   └── ProviderNotInstalledError  the provider package for a target is missing
    └── PipelineReferenceError  a REF on the command line does not name a pipeline

Messages name the object, say what was expected and what was found, and give the fix.
"""

from __future__ import annotations


class GlacierError(Exception):
    """Base class of every error Glacier raises on purpose."""


class DefinitionError(GlacierError):
    """A Dataset, task, resource or pipeline is declared wrongly."""


class CycleError(DefinitionError):
    """The DAG inferred from task signatures contains a cycle."""

    def __init__(self, message: str, cycle: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.cycle = cycle


class DuplicateProducerError(DefinitionError):
    """Two tasks declare the same dataset as an output."""


class ResourceError(DefinitionError, ValueError):
    """A resource (storage, compute, ``Secret``) was created with bad arguments.

    Also a ``ValueError``, as Python code expects of a bad argument. ``resource`` is the class
    name and ``field`` the argument at fault (None when the call itself is wrong: an unknown
    or missing argument).
    """

    def __init__(self, message: str, resource: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.resource = resource
        self.field = field


class SchemaError(GlacierError):
    """Data written to a dataset does not match the dataset's declared schema."""


class InputError(GlacierError):
    """A source dataset has no data available for a run."""


class WriteConflictError(GlacierError):
    """Another process is writing the same dataset (its lock file is held)."""


class TaskFailedError(GlacierError):
    """A task raised during a run; the original exception is the ``__cause__``."""

    def __init__(self, message: str, task: str = "", result: object = None) -> None:
        super().__init__(message)
        self.task = task
        self.result = result


class TaskSchemaError(TaskFailedError, SchemaError):
    """A run failed because a task's output broke its dataset's schema.

    Both a :class:`TaskFailedError` (``task``, ``result``, the resume advice) and a
    :class:`SchemaError`, so ``except SchemaError`` around ``pipeline.run()`` catches it.
    """


class CompilationError(GlacierError):
    """A pipeline cannot be compiled for the chosen target."""


class ProviderNotInstalledError(CompilationError):
    """The package implementing a provider is not installed."""


class PipelineReferenceError(GlacierError):
    """A ``file.py[:attr]`` or ``module[:attr]`` reference does not name a pipeline."""


__all__ = [
    "CompilationError",
    "CycleError",
    "DefinitionError",
    "DuplicateProducerError",
    "GlacierError",
    "InputError",
    "PipelineReferenceError",
    "ProviderNotInstalledError",
    "ResourceError",
    "SchemaError",
    "TaskFailedError",
    "TaskSchemaError",
    "WriteConflictError",
]
