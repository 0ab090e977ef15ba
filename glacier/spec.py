"""The provider-neutral IR: what a pipeline *is*, as plain JSON-round-trippable data.

Compilers (IR -> Pulumi program text), executors (IR -> Polars work) and the cloud runtime
(the manifest inside every function bundle) all consume these models and nothing else, so
they hold only primitives: names, numbers, strings and dicts of those. ``PipelineSpec`` is
what ``pipeline.spec()`` returns; ``model_dump_json()`` / ``model_validate_json()`` round-trip
it exactly.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

#: Bump when the IR changes shape incompatibly; readers reject versions they do not know.
SPEC_VERSION = 1

FORMAT_EXTENSIONS: dict[str, str] = {
    "parquet": "parquet",
    "csv": "csv",
    "ndjson": "ndjson",
    "ipc": "arrow",
    "delta": "delta",
}


_S = TypeVar("_S", bound="_Spec")


class _Spec(BaseModel):
    # defer_build: validators are built on first use, not at import. ``import glacier`` (and so
    # every local run) does not pay for IR classes that a run may never instantiate.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def from_checked(model: type[_S], /, **values: Any) -> _S:  # ResourceSpec has a `cls` field
        """A spec from values that were validated when their objects were made (no re-check).

        ``pipeline.spec()`` copies fields of Tasks, Datasets and resources, each validated on
        creation, so validating them again only cost time: building the IR classes'
        validators was ~10 ms of every local run. Callers pass exactly the types the fields
        hold (tuples, floats, specs); tests check the result equals a validated copy. JSON
        (``from_json``) and other outside input still go through full validation.
        """
        return model.model_construct(**values)


class ResourceSpec(_Spec):
    """A storage or compute resource: its kind, provider, class and configuration."""

    type: str
    role: Literal["storage", "compute", "resource"]
    provider: str | None = None
    cls: str = Field(description="module:qualname of the class that declared it")
    config: dict[str, JsonValue] = Field(default_factory=dict)

    def option(self, key: str, default: Any = None) -> Any:
        """A configuration value, or ``default`` when it is unset or None."""
        value = self.config.get(key)
        return default if value is None else value


class ColumnSpec(_Spec):
    """One column of a declared schema. ``dtype`` is a JSON encoding of a Polars dtype."""

    name: str
    dtype: JsonValue
    nullable: bool = True


class SchemaSpec(_Spec):
    columns: tuple[ColumnSpec, ...]


class DatasetSpec(_Spec):
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


class TaskSpec(_Spec):
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

    @property
    def input_datasets(self) -> tuple[str, ...]:
        return tuple(i.dataset for i in self.inputs)


class PipelineSpec(_Spec):
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

    def dataset(self, name: str) -> DatasetSpec:
        for ds in self.datasets:
            if ds.name == name:
                return ds
        raise KeyError(f"pipeline {self.name!r} has no dataset {name!r}")

    def task(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"pipeline {self.name!r} has no task {name!r}")

    @property
    def sources(self) -> tuple[DatasetSpec, ...]:
        return tuple(d for d in self.datasets if d.producer is None)

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
