"""The provider-neutral IR: plain, frozen dataclasses, and their exact JSON form.

``pipeline.spec()`` builds a :class:`PipelineIR` from the pipeline's Tasks, Datasets and
resources; the local executor, the compilers, ``glacier graph`` and the cloud runtime all read
it. It holds only primitives (names, numbers, strings, and dicts and lists of those), so
:func:`to_json` and :func:`from_json` round-trip it exactly: what the cloud runtime reads back
from a bundle's manifest equals what the compiler was given. Pydantic does the JSON, at this
boundary only (a ``TypeAdapter`` over these dataclasses, built on first use); the classes'
``__pydantic_config__`` tells it that unknown keys are errors and that ``schema_`` is written
``schema``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import TypeAdapter

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


def _json_key(name: str) -> str:
    """A field's JSON key: ``DatasetIR.schema_`` is written ``"schema"`` (the manifest's key)."""
    return name.removesuffix("_")


#: How pydantic reads and writes every IR class (see the module docstring).
_JSON_CONFIG: dict[str, Any] = {"extra": "forbid", "alias_generator": _json_key}


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceIR:
    """A storage or compute resource: its kind, provider, class and every field's value."""

    __pydantic_config__ = _JSON_CONFIG

    type: str
    role: Literal["storage", "compute", "resource"]
    provider: str | None = None
    cls: str  # module:qualname of the class that declared it
    #: Every field of the resource as JSON data, defaults included: read ``config["memory"]``.
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnIR:
    """One column of a declared schema. ``dtype`` is a JSON encoding of a Polars dtype."""

    __pydantic_config__ = _JSON_CONFIG

    name: str
    dtype: Any
    nullable: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaIR:
    __pydantic_config__ = _JSON_CONFIG

    columns: tuple[ColumnIR, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetIR:
    """A dataset node: where it lives, its format and schema, who makes and reads it."""

    __pydantic_config__ = _JSON_CONFIG

    name: str
    format: Format = "parquet"
    storage: ResourceIR | None = None
    schema_: SchemaIR | None = None
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    producer: str | None = None
    consumers: tuple[str, ...] = ()

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


@dataclass(frozen=True, slots=True, kw_only=True)
class InputIR:
    """A task parameter bound to a dataset. ``frame`` says what the task receives."""

    __pydantic_config__ = _JSON_CONFIG

    param: str
    dataset: str
    frame: Literal["lazy", "eager"] = "lazy"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamIR:
    """A plain task parameter with its default (overridable at run time)."""

    __pydantic_config__ = _JSON_CONFIG

    name: str
    default: Any = None
    annotation: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskIR:
    """A task node: the code to run, its data edges, its compute and retry policy."""

    __pydantic_config__ = _JSON_CONFIG

    name: str
    module: str
    qualname: str
    code_hash: str  # sha256 of the function's source: the runtime warns when its code differs
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

    @property
    def input_datasets(self) -> tuple[str, ...]:
        return tuple(i.dataset for i in self.inputs)


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineIR:
    """A whole pipeline: datasets sorted by name, tasks in topological order."""

    __pydantic_config__ = _JSON_CONFIG

    version: int = SPEC_VERSION
    name: str
    schedule: str | None = None
    description: str = ""
    source: str | None = None  # the REF the pipeline was loaded from (file.py:attr, module:attr)
    datasets: tuple[DatasetIR, ...] = ()
    tasks: tuple[TaskIR, ...] = ()
    stages: tuple[tuple[str, ...], ...] = ()
    #: Distributions the cloud must install besides what the code imports (``"pkg>=1"``).
    requirements: tuple[str, ...] = ()

    def dataset(self, name: str) -> DatasetIR:
        for ds in self.datasets:
            if ds.name == name:
                return ds
        raise KeyError(f"pipeline {self.name!r} has no dataset {name!r}")

    def task(self, name: str) -> TaskIR:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"pipeline {self.name!r} has no task {name!r}")

    @property
    def sources(self) -> tuple[DatasetIR, ...]:
        return tuple(d for d in self.datasets if d.producer is None)


# -- JSON ----------------------------------------------------------------------------------------


@functools.cache
def _adapter() -> TypeAdapter[PipelineIR]:
    # Imported here, at the JSON boundary: reading a pipeline or running it locally needs
    # no JSON, and pydantic with its schema build is most of the cost of a first call.
    from pydantic import TypeAdapter

    return TypeAdapter(PipelineIR)


def to_json(ir: PipelineIR) -> str:
    """Deterministic JSON (sorted datasets, topological tasks, two-space indent)."""
    return _adapter().dump_json(ir, by_alias=True, indent=2).decode()


def from_json(text: str | bytes) -> PipelineIR:
    """The IR :func:`to_json` wrote; a ValueError (pydantic's ValidationError is one) names any
    key or value that does not fit, and an IR version this Glacier cannot read is refused."""
    ir = _adapter().validate_json(text)
    if ir.version != SPEC_VERSION:
        msg = (
            f"pipeline manifest has IR version {ir.version}, this Glacier reads version "
            f"{SPEC_VERSION}; recompile the pipeline with this Glacier version"
        )
        raise ValueError(msg)
    return ir


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
    "from_json",
    "to_json",
]
