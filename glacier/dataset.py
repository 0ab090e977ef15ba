"""``Dataset``: a named, typed piece of data, used as a type hint on task functions.

``def clean(data: raw) -> cleaned:`` reads as "clean consumes raw and produces cleaned"; the
pipeline's DAG is inferred from exactly these annotations. A Dataset is immutable and
validates itself on creation; two Datasets are equal when every field is equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from glacier.checks import short_repr
from glacier.errors import DefinitionError
from glacier.ir import FORMAT_EXTENSIONS, DatasetIR, Format, SchemaIR
from glacier.schema import normalize_schema
from glacier.storage import StorageResource

NAME_RULE = "1-63 characters, a lowercase letter first, then lowercase letters, digits or '_'"
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")


def check_name(name: object, what: str, how: str = "") -> str:
    """Validate a dataset or task name against :data:`NAME_RULE`.

    ``how`` says where the name comes from (e.g. the function's name), for the suggested fix.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        msg = f"{what} name {name!r}{how} is invalid: expected {NAME_RULE}"
        if isinstance(name, str) and name:
            fixed = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:63]
            if fixed and fixed[0].isalpha():
                msg += f"; try {fixed!r}"
        raise DefinitionError(msg)
    return name


def _check_metadata(name: str, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise DefinitionError(
            f"Dataset {name!r}: metadata must be a dict, found {type(metadata).__name__}"
        )
    for key in metadata:
        if not isinstance(key, str):
            raise DefinitionError(f"Dataset {name!r}: metadata keys must be strings, found {key!r}")
    try:  # allow_nan=False: NaN and infinities are not JSON, and the IR must round-trip
        return json.loads(json.dumps(dict(metadata), sort_keys=True, allow_nan=False))
    except (TypeError, ValueError) as exc:
        msg = f"Dataset {name!r}: metadata values must be JSON values (str, finite number, bool, None, list, dict): {exc}"
        raise DefinitionError(msg) from None


class Dataset:
    """A dataset declaration: a name, optional storage (none: ephemeral), format and schema."""

    __slots__ = ("description", "format", "metadata", "name", "schema", "storage", "user_schema")

    name: str
    storage: StorageResource | None
    schema: SchemaIR | None
    user_schema: Any
    format: Format
    description: str
    metadata: dict[str, Any]

    def __init__(
        self,
        name: str,
        storage: StorageResource | None = None,
        schema: Any = None,
        format: Format = "parquet",
        description: str = "",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        check_name(name, "Dataset")
        if storage is not None and not isinstance(storage, StorageResource):
            msg = (
                f"Dataset {name!r}: storage must be a storage resource such as ObjectStorage() "
                f"or LocalFS(...), found {storage!r}"
            )
            raise DefinitionError(msg)
        if format not in FORMAT_EXTENSIONS:
            msg = f"Dataset {name!r}: format must be one of {', '.join(FORMAT_EXTENSIONS)}, found {format!r}"
            raise DefinitionError(msg)
        if not isinstance(description, str):
            raise DefinitionError(
                f"Dataset {name!r}: description must be a str, found {description!r}"
            )
        try:
            normalized = normalize_schema(schema, f"Dataset {name!r}")
        except TypeError as exc:
            raise DefinitionError(str(exc)) from None
        values = {
            "name": name,
            "storage": storage,
            "schema": normalized,
            "user_schema": schema,
            "format": format,
            "description": description,
            "metadata": _check_metadata(name, metadata),
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Dataset {self.name!r} is immutable; use .copy_with({key}=...)")

    def copy_with(self, **changes: Any) -> Dataset:
        """A new Dataset with some fields changed (Datasets are immutable)."""
        fields = {
            "name": self.name,
            "storage": self.storage,
            "schema": self.user_schema,
            "format": self.format,
            "description": self.description,
            "metadata": self.metadata,
        }
        return Dataset(**(fields | changes))

    @property
    def ephemeral(self) -> bool:
        return self.storage is None

    @property
    def extension(self) -> str:
        return FORMAT_EXTENSIONS[self.format]

    def _key(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.storage,
            self.schema,
            self.format,
            self.description,
            json.dumps(self.metadata, sort_keys=True),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        parts = [repr(self.name)]
        if self.storage is not None:
            parts.append(f"storage={short_repr(self.storage)}")
        if self.format != "parquet":
            parts.append(f"format={self.format!r}")
        return f"Dataset({', '.join(parts)})"

    def to_ir(self, producer: str | None = None, consumers: tuple[str, ...] = ()) -> DatasetIR:
        """This dataset as IR; its fields were validated when the Dataset was made."""
        return DatasetIR(
            name=self.name,
            format=self.format,
            storage=self.storage.to_ir() if self.storage is not None else None,
            schema_=self.schema,
            description=self.description,
            metadata=self.metadata,
            producer=producer,
            consumers=tuple(consumers),
        )


__all__ = ["NAME_RULE", "Dataset", "check_name"]
