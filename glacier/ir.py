"""The provider-neutral IR as plain, frozen dataclasses: what local runs read.

The IR has two representations with the same fields, defaults and methods:

- these dataclasses, built from a pipeline's Tasks, Datasets and resources by
  ``pipeline.ir()``: the local executor, the state store and ``glacier graph`` read them, and
  they import nothing beyond the standard library;
- the pydantic models of :mod:`glacier.spec` (``pipeline.spec()``): validated, JSON
  round-trippable, what compilers and the cloud runtime (the bundle's manifest) read.

Why two: importing pydantic and building its validators costs a local run ~50 ms of its
whole-process time (``benchmarks/local_run.py``), more than the rest of Glacier's overhead
together; a local run never needs JSON. ``PipelineSpec.from_ir`` and ``PipelineSpec.to_ir``
convert, and ``tests/core/test_core_model.py`` keeps both representations field for field
alike.
The methods live in the ``*Methods`` mixins below, shared by both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

#: Bump when the IR changes shape incompatibly; readers reject versions they do not know.
SPEC_VERSION = 1

Format = Literal["parquet", "csv", "ndjson", "ipc", "delta"]

FORMAT_EXTENSIONS: dict[str, str] = {
    "parquet": "parquet",
    "csv": "csv",
    "ndjson": "ndjson",
    "ipc": "arrow",
    "delta": "delta",
}


# -- behaviour, shared with glacier.spec ------------------------------------------------------


class ResourceMethods:
    __slots__ = ()
    if TYPE_CHECKING:  # fields of the classes that mix this in
        config: dict[str, Any]

    def option(self, key: str, default: Any = None) -> Any:
        """A configuration value, or ``default`` when it is unset or None."""
        value = self.config.get(key)
        return default if value is None else value


class DatasetMethods:
    __slots__ = ()
    if TYPE_CHECKING:
        name: str
        storage: Any
        producer: str | None
        format: Format

    @property
    def ephemeral(self) -> bool:
        """No storage declared: the data flows between tasks and is not kept."""
        return self.storage is None

    @property
    def is_source(self) -> bool:
        return self.producer is None

    @property
    def extension(self) -> str:
        return FORMAT_EXTENSIONS[self.format]


class TaskMethods:
    __slots__ = ()
    if TYPE_CHECKING:
        name: str
        inputs: tuple[Any, ...]

    @property
    def input_datasets(self) -> tuple[str, ...]:
        return tuple(i.dataset for i in self.inputs)


_D = TypeVar("_D", bound=DatasetMethods)
_T = TypeVar("_T", bound=TaskMethods)


class PipelineMethods(Generic[_D, _T]):
    __slots__ = ()
    if TYPE_CHECKING:
        name: str
        datasets: tuple[_D, ...]
        tasks: tuple[_T, ...]

    def dataset(self, name: str) -> _D:
        for ds in self.datasets:
            if ds.name == name:
                return ds
        raise KeyError(f"pipeline {self.name!r} has no dataset {name!r}")

    def task(self, name: str) -> _T:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"pipeline {self.name!r} has no task {name!r}")

    @property
    def sources(self) -> tuple[_D, ...]:
        return tuple(d for d in self.datasets if d.producer is None)


# -- the dataclasses ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceIR(ResourceMethods):
    """A storage or compute resource: its kind, provider, class and configuration."""

    type: str
    role: Literal["storage", "compute", "resource"]
    provider: str | None = None
    cls: str  # module:qualname of the class that declared it
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnIR:
    """One column of a declared schema. ``dtype`` is a JSON encoding of a Polars dtype."""

    name: str
    dtype: Any
    nullable: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaIR:
    columns: tuple[ColumnIR, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetIR(DatasetMethods):
    """A dataset node: where it lives, its format and schema, who makes and reads it."""

    name: str
    format: Format = "parquet"
    storage: ResourceIR | None = None
    schema_: SchemaIR | None = None
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    producer: str | None = None
    consumers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InputIR:
    """A task parameter bound to a dataset. ``frame`` says what the task receives."""

    param: str
    dataset: str
    frame: Literal["lazy", "eager"] = "lazy"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamIR:
    """A plain task parameter with its default (overridable at run time)."""

    name: str
    default: Any = None
    annotation: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskIR(TaskMethods):
    """A task node: the code to run, its data edges, its compute and retry policy."""

    name: str
    module: str
    qualname: str
    code_hash: str  # sha256 of the function's source, for incremental runs
    inputs: tuple[InputIR, ...] = ()
    outputs: tuple[str, ...] = ()
    output_frames: tuple[Literal["lazy", "eager", "any"], ...] = ()
    params: tuple[ParamIR, ...] = ()
    depends_on: tuple[str, ...] = ()  # explicit ordering edges
    upstream: tuple[str, ...] = ()  # direct upstream tasks, sorted
    compute: ResourceIR
    retries: int = 0
    timeout: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineIR(PipelineMethods["DatasetIR", "TaskIR"]):
    """A whole pipeline: datasets sorted by name, tasks in topological order."""

    version: int = SPEC_VERSION
    name: str
    schedule: str | None = None
    description: str = ""
    source: str | None = None  # the REF the pipeline was loaded from (file.py:attr, module:attr)
    datasets: tuple[DatasetIR, ...] = ()
    tasks: tuple[TaskIR, ...] = ()
    stages: tuple[tuple[str, ...], ...] = ()


__all__ = [
    "FORMAT_EXTENSIONS",
    "SPEC_VERSION",
    "ColumnIR",
    "DatasetIR",
    "InputIR",
    "ParamIR",
    "PipelineIR",
    "ResourceIR",
    "SchemaIR",
    "TaskIR",
]
