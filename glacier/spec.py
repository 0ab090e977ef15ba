"""The provider-neutral IR as pydantic models: what ``pipeline.spec()`` returns.

Compilers (IR -> Pulumi program text) and the cloud runtime (the manifest inside every
function bundle) consume these models, so they hold only primitives: names, numbers, strings
and dicts of those. ``model_dump_json()`` / ``model_validate_json()`` round-trip them exactly.
The same IR as plain dataclasses, which local runs read without importing pydantic, is
:mod:`glacier.ir`; the two share their methods and convert with ``from_ir`` / ``to_ir``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from typing_extensions import Self

from glacier import ir
from glacier.ir import (
    FORMAT_EXTENSIONS,
    SPEC_VERSION,
    DatasetMethods,
    PipelineMethods,
    ResourceMethods,
    TaskMethods,
)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def from_ir(cls, node: Any) -> Self:
        """The pydantic form of a :mod:`glacier.ir` node (validated)."""
        return cls.model_validate(_as_data(node))

    def to_ir(self) -> Any:
        """This node as :mod:`glacier.ir` dataclasses (nested nodes too)."""
        return _to_ir(self)


def _to_ir(value: Any) -> Any:
    if isinstance(value, _Spec):
        target = getattr(ir, type(value).__name__.removesuffix("Spec") + "IR")
        return target(**{name: _to_ir(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, tuple):
        return tuple(_to_ir(v) for v in value)
    return value


class ResourceSpec(_Spec, ResourceMethods):
    """A storage or compute resource: its kind, provider, class and configuration."""

    type: str
    role: Literal["storage", "compute", "resource"]
    provider: str | None = None
    cls: str = Field(description="module:qualname of the class that declared it")
    config: dict[str, JsonValue] = Field(default_factory=dict)


class ColumnSpec(_Spec):
    """One column of a declared schema. ``dtype`` is a JSON encoding of a Polars dtype."""

    name: str
    dtype: JsonValue
    nullable: bool = True


class SchemaSpec(_Spec):
    columns: tuple[ColumnSpec, ...]


class DatasetSpec(_Spec, DatasetMethods):
    """A dataset node: where it lives, its format and schema, who makes and reads it."""

    name: str
    format: Literal["parquet", "csv", "ndjson", "ipc", "delta"] = "parquet"
    storage: ResourceSpec | None = None
    schema_: SchemaSpec | None = Field(default=None, alias="schema")
    description: str = ""
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    producer: str | None = None
    consumers: tuple[str, ...] = ()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class InputSpec(_Spec):
    """A task parameter bound to a dataset. ``frame`` says what the task receives."""

    param: str
    dataset: str
    frame: Literal["lazy", "eager"] = "lazy"


class ParamSpec(_Spec):
    """A plain task parameter with its default (overridable at run time)."""

    name: str
    default: JsonValue = None
    annotation: str | None = None


class TaskSpec(_Spec, TaskMethods):
    """A task node: the code to run, its data edges, its compute and retry policy."""

    name: str
    module: str
    qualname: str
    code_hash: str = Field(description="sha256 of the function's source, for incremental runs")
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[str, ...] = ()
    output_frames: tuple[Literal["lazy", "eager", "any"], ...] = ()
    params: tuple[ParamSpec, ...] = ()
    depends_on: tuple[str, ...] = Field(default=(), description="explicit ordering edges")
    upstream: tuple[str, ...] = Field(default=(), description="direct upstream tasks, sorted")
    compute: ResourceSpec
    retries: int = 0
    timeout: float | None = None
    description: str = ""


class PipelineSpec(_Spec, PipelineMethods["DatasetSpec", "TaskSpec"]):
    """A whole pipeline: datasets sorted by name, tasks in topological order."""

    version: int = SPEC_VERSION
    name: str
    schedule: str | None = None
    description: str = ""
    source: str | None = Field(
        default=None,
        description="the REF the pipeline was loaded from (file.py:attr or module:attr)",
    )
    datasets: tuple[DatasetSpec, ...] = ()
    tasks: tuple[TaskSpec, ...] = ()
    stages: tuple[tuple[str, ...], ...] = ()

    def to_ir(self) -> ir.PipelineIR:
        converted: ir.PipelineIR = _to_ir(self)
        return converted

    def to_json(self) -> str:
        """Deterministic JSON (sorted datasets, topological tasks, two-space indent)."""
        return self.model_dump_json(by_alias=True, indent=2)

    @classmethod
    def from_json(cls, text: str) -> PipelineSpec:
        spec = cls.model_validate_json(text)
        if spec.version != SPEC_VERSION:
            msg = (
                f"pipeline manifest has IR version {spec.version}, this Glacier reads version "
                f"{SPEC_VERSION}; recompile the pipeline with this Glacier version"
            )
            raise ValueError(msg)
        return spec


def _as_data(value: Any) -> Any:
    """IR dataclasses as dicts (tuples kept, so validation changes nothing)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return tuple(_as_data(v) for v in value)
    return value


__all__ = [
    "FORMAT_EXTENSIONS",
    "SPEC_VERSION",
    "ColumnSpec",
    "DatasetSpec",
    "InputSpec",
    "ParamSpec",
    "PipelineSpec",
    "ResourceSpec",
    "SchemaSpec",
    "TaskSpec",
]
