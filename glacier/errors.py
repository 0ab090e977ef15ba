"""Every error Glacier raises on purpose.

Hierarchy::

    GlacierError
    ├── DefinitionError          a Dataset, task, resource or pipeline is declared wrongly
    │   ├── CycleError           the inferred DAG has a cycle
    │   ├── DuplicateProducerError  two tasks produce the same dataset
    │   └── ResourceError        a resource (storage, compute, secret) got bad arguments
    │                            (also a ValueError)
    ├── SchemaError              data written to a dataset, or a source's data, does not match
    │                            its declared schema
    ├── InputError               a source dataset has no data for a run
    ├── MissingSecretError       a task's Secret has no local value (environment or .env)
    ├── WriteConflictError       another writer holds a dataset's write lock, or another run
    │                            of the pipeline holds its run lock (the only retryable one)
    ├── TaskFailedError          a task raised during a run (the cause is chained)
    │   └── TaskSchemaError      ... because its output broke a schema (also a SchemaError)
    ├── CompilationError         a pipeline cannot be compiled for the chosen target
    │   └── ProviderNotInstalledError  the provider package for a target is missing
    └── PipelineReferenceError  a REF on the command line does not name a pipeline

Messages name the object, say what was expected and what was found, and give the fix.
A task's ``retries`` are spent only on failures :func:`is_retryable` accepts.
"""

from __future__ import annotations

import sys
from typing import ClassVar


class GlacierError(Exception):
    """Base class of every error Glacier raises on purpose."""

    #: Whether trying the same call again can succeed (see :func:`is_retryable`).
    retryable: ClassVar[bool] = False


class GlacierWarning(UserWarning):
    """Something that runs but is most likely not what was meant (the command line prints
    it as one ``warning: ...`` line)."""


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
    """A resource was created with bad arguments (a ``ValueError`` too, as Python code expects).

    ``resource`` is the class name and ``field`` the argument at fault (None when the call
    itself is wrong: an unknown or missing argument).
    """

    def __init__(self, message: str, resource: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.resource = resource
        self.field = field


class SchemaError(GlacierError):
    """Data written to a dataset, or read from a source, does not match its declared schema."""


class InputError(GlacierError):
    """A source dataset has no data available for a run."""


class MissingSourcesError(InputError):
    """Several sources (or one) have no data; ``missing`` maps each to what was looked at
    (``"no storage"`` or ``"no data at <path>"``), so all are reported at once."""

    def __init__(self, message: str, missing: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.missing = dict(missing or {})


class MissingSecretError(GlacierError):
    """A local run finds no value for a task's ``Secret`` (environment, then ``.env``)."""


class WriteConflictError(GlacierError):
    """Another process is writing the same dataset (its lock file is held)."""

    retryable: ClassVar[bool] = True  # the other writer may finish meanwhile


class TaskFailedError(GlacierError):
    """A task raised during a run; the original exception is the ``__cause__``."""

    def __init__(self, message: str, task: str = "", result: object = None) -> None:
        super().__init__(message)
        self.task = task
        self.result = result


class TaskSchemaError(TaskFailedError, SchemaError):
    """A task's output broke its dataset's schema; ``except SchemaError`` catches it too."""


class CompilationError(GlacierError):
    """A pipeline cannot be compiled for the chosen target."""


class ProviderNotInstalledError(CompilationError):
    """The package implementing a provider is not installed."""


class PipelineReferenceError(GlacierError):
    """A ``file.py[:attr]`` or ``module[:attr]`` reference does not name a pipeline."""


#: Polars errors that a query raises the same way every time: a missing column, a wrong type,
#: an invalid plan, data that cannot be parsed as its declared type.
_POLARS_DETERMINISTIC = (
    "ColumnNotFoundError",
    "ComputeError",
    "DuplicateError",
    "InvalidOperationError",
    "NoDataError",
    "OutOfBoundsError",
    "RowsError",
    "SQLInterfaceError",
    "SQLSyntaxError",
    "SchemaError",
    "SchemaFieldNotFoundError",
    "ShapeError",
    "StringCacheMismatchError",
    "StructFieldNotFoundError",
)
#: Words of a Polars ComputeError that reports a failed read or write rather than a bad
#: query (older Polars reported some object-store failures so; Polars 2 raises OSError).
_TRANSIENT_WORDS = (
    "object-store",
    "object store",
    "connection",
    "timed out",
    "timeout",
    "os error",
    "i/o error",
    "io error",
    "temporarily",
    "throttl",
    "too many requests",
    "service unavailable",
)


def is_retryable(exc: BaseException) -> bool:
    """Whether a task attempt that raised ``exc`` can succeed when tried again.

    An exception with a bool ``retryable`` attribute says so itself (Glacier's errors, and a
    user's own classes may). Polars errors that fail the same way on every run are not, except
    a ``ComputeError`` reporting a failed read. Anything else is (``OSError``, and what Glacier
    cannot classify), since the task asked for retries.
    """
    flag = getattr(exc, "retryable", None)
    if isinstance(flag, bool):
        return flag
    polars_errors = sys.modules.get("polars.exceptions")  # not imported: not a Polars error
    if polars_errors is None:
        return True
    deterministic = tuple(
        cls for name in _POLARS_DETERMINISTIC if (cls := getattr(polars_errors, name, None))
    )
    if not isinstance(exc, deterministic):
        return True
    if isinstance(exc, polars_errors.ComputeError):
        text = str(exc).lower()
        return any(word in text for word in _TRANSIENT_WORDS)
    return False


__all__ = [
    "CompilationError",
    "CycleError",
    "DefinitionError",
    "DuplicateProducerError",
    "GlacierError",
    "GlacierWarning",
    "InputError",
    "MissingSecretError",
    "MissingSourcesError",
    "PipelineReferenceError",
    "ProviderNotInstalledError",
    "ResourceError",
    "SchemaError",
    "TaskFailedError",
    "TaskSchemaError",
    "WriteConflictError",
]
