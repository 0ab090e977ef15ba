"""Declared dataset schemas: normalising user input, encoding dtypes, checking frames.

A schema may be declared as ``{"col": pl.Int64}``, a ``pl.Schema``, or a pydantic model
class. All three become a :class:`~glacier.ir.SchemaIR` whose dtypes are encoded as JSON
(so the IR stays plain data) and decoded back to Polars dtypes for enforcement: when a
dataset is written (:func:`conform`, :func:`check_nulls`, called by ``glacier.writes``) and
when a source is read (:func:`check_sources`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from glacier.errors import InputError, SchemaError
from glacier.ir import ColumnIR, DatasetIR, SchemaIR

_PY_TO_POLARS: dict[Any, pl.DataType] = {
    int: pl.Int64(),
    float: pl.Float64(),
    str: pl.String(),
    bool: pl.Boolean(),
    bytes: pl.Binary(),
    dt.datetime: pl.Datetime("us"),
    dt.date: pl.Date(),
    dt.time: pl.Time(),
    dt.timedelta: pl.Duration("us"),
    decimal.Decimal: pl.Decimal(38, 9),
}


_PARAMETRISED_EXAMPLES = {
    "List": "pl.List(pl.Int64)",
    "Array": "pl.Array(pl.Int64, 3)",
    "Struct": 'pl.Struct({"x": pl.Int64})',
    "Enum": 'pl.Enum(["a", "b"])',
}


def encode_dtype(dtype: Any) -> Any:
    """A Polars dtype as JSON: a class name, or an object for parametrised dtypes."""
    if isinstance(dtype, type):
        dtype = dtype()
    if isinstance(dtype, pl.Datetime):
        return {"type": "Datetime", "time_unit": dtype.time_unit, "time_zone": dtype.time_zone}
    if isinstance(dtype, pl.Duration):
        return {"type": "Duration", "time_unit": dtype.time_unit}
    if isinstance(dtype, pl.Decimal):
        return {"type": "Decimal", "precision": dtype.precision, "scale": dtype.scale}
    if isinstance(dtype, pl.Array):
        return {"type": "Array", "inner": encode_dtype(dtype.inner), "shape": list(dtype.shape)}
    if isinstance(dtype, pl.List):
        return {"type": "List", "inner": encode_dtype(dtype.inner)}
    if isinstance(dtype, pl.Struct):
        fields = [{"name": f.name, "dtype": encode_dtype(f.dtype)} for f in dtype.fields]
        return {"type": "Struct", "fields": fields}
    if isinstance(dtype, pl.Enum):
        return {"type": "Enum", "categories": dtype.categories.to_list()}
    return type(dtype).__name__


def decode_dtype(data: Any) -> pl.DataType:
    """The inverse of :func:`encode_dtype`."""
    if isinstance(data, str):
        cls = getattr(pl, data, None)
        if not (isinstance(cls, type) and issubclass(cls, pl.DataType)):
            raise ValueError(f"unknown Polars dtype {data!r}")
        return cls()
    kind = data["type"]
    if kind == "Datetime":
        return pl.Datetime(data["time_unit"], data["time_zone"])
    if kind == "Duration":
        return pl.Duration(data["time_unit"])
    if kind == "Decimal":
        return pl.Decimal(data["precision"], data["scale"])
    if kind == "Array":
        return pl.Array(decode_dtype(data["inner"]), tuple(data["shape"]))
    if kind == "List":
        return pl.List(decode_dtype(data["inner"]))
    if kind == "Struct":
        return pl.Struct({f["name"]: decode_dtype(f["dtype"]) for f in data["fields"]})
    if kind == "Enum":
        return pl.Enum(data["categories"])
    raise ValueError(f"unknown Polars dtype {data!r}")


def _as_dtype(value: Any, where: str) -> pl.DataType:
    if isinstance(value, pl.DataType):
        return value
    if isinstance(value, type) and issubclass(value, pl.DataType):
        try:
            return value()
        except TypeError:  # pl.List, pl.Array, pl.Struct, pl.Enum need their parameters
            example = _PARAMETRISED_EXAMPLES.get(value.__name__, f"pl.{value.__name__}(...)")
            msg = f"{where}: pl.{value.__name__} needs its parameters, e.g. {example}; found the bare class"
            raise TypeError(msg) from None
    if value in _PY_TO_POLARS:
        return _PY_TO_POLARS[value]
    msg = f"{where}: expected a Polars dtype (e.g. pl.Int64) or a Python type, found {value!r}"
    raise TypeError(msg)


def _from_annotation(tp: Any, where: str) -> tuple[pl.DataType, bool]:
    """A pydantic field annotation as (dtype, nullable)."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _from_annotation(args[0], where)[0], True
        raise TypeError(
            f"{where}: unions other than Optional[X] have no Polars dtype, found {tp!r}"
        )
    if origin is typing.Annotated:
        return _from_annotation(typing.get_args(tp)[0], where)
    if origin in (list, tuple, set, frozenset):
        (inner,) = typing.get_args(tp)[:1] or (str,)
        return pl.List(_from_annotation(inner, where)[0]), False
    if _is_pydantic_model(tp):
        fields = {n: _from_annotation(f.annotation, where)[0] for n, f in tp.model_fields.items()}
        return pl.Struct(fields), False
    return _as_dtype(tp, where), False


def _is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (then pydantic is imported already: Glacier
    does not import it to answer)."""
    main = sys.modules.get("pydantic.main")
    return main is not None and isinstance(tp, type) and issubclass(tp, main.BaseModel)


def normalize_schema(schema: Any, owner: str) -> SchemaIR | None:
    """User schema input (dict, ``pl.Schema`` or pydantic model class) as a ``SchemaIR``."""
    if schema is None:
        return None
    columns: list[ColumnIR] = []
    if _is_pydantic_model(schema):
        for name, field in schema.model_fields.items():
            column = field.alias or name
            dtype, nullable = _from_annotation(field.annotation, f"{owner} column {column!r}")
            columns.append(ColumnIR(name=column, dtype=encode_dtype(dtype), nullable=nullable))
    elif isinstance(schema, pl.Schema | Mapping):
        for name, value in schema.items():
            if not isinstance(name, str) or not name:
                raise TypeError(
                    f"{owner}: schema column names must be non-empty strings, found {name!r}"
                )
            dtype = _as_dtype(value, f"{owner} column {name!r}")
            columns.append(ColumnIR(name=name, dtype=encode_dtype(dtype), nullable=True))
    else:
        msg = (
            f"{owner}: schema must be a dict of column -> dtype, a pl.Schema or a pydantic "
            f"BaseModel subclass, found {type(schema).__name__}"
        )
        raise TypeError(msg)
    return SchemaIR(columns=tuple(columns))


def polars_schema(spec: SchemaIR) -> pl.Schema:
    """The declared columns as a ``pl.Schema`` in declaration order."""
    return pl.Schema({c.name: decode_dtype(c.dtype) for c in spec.columns})


def schema_mismatches(spec: SchemaIR, found: pl.Schema) -> list[str]:
    """Column name and dtype differences between a declared schema and a frame's schema."""
    expected = polars_schema(spec)
    problems = []
    for name, dtype in expected.items():
        if name not in found:
            problems.append(f"column {name!r}: expected {dtype}, found no such column")
        elif found[name] != dtype:
            problems.append(f"column {name!r}: expected {dtype}, found {found[name]}")
    extra = [n for n in found if n not in expected]
    if extra:
        problems.append(f"unexpected columns {extra} (expected only {list(expected)})")
    return problems


def non_nullable_columns(spec: SchemaIR) -> list[str]:
    return [c.name for c in spec.columns if not c.nullable]


def null_problems(spec: SchemaIR, frame: pl.DataFrame) -> list[str]:
    """Nulls in the non-Optional columns of an in-memory frame (counting them costs nothing:
    Polars keeps each column's null count)."""
    problems = []
    for column in non_nullable_columns(spec):
        count = frame[column].null_count() if column in frame.columns else 0
        if count:
            problems.append(_null_problem(column, count))
    return problems


def conform(ds: DatasetIR, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Check the frame's columns against the declared schema (SchemaError before anything is
    written); order them as declared."""
    if ds.schema_ is None:
        return frame
    problems = schema_mismatches(ds.schema_, frame.collect_schema())
    if problems:
        msg = (
            f"dataset {ds.name!r} does not match its declared schema: {'; '.join(problems)}. "
            "Fix the task that produces it (select/cast the declared columns) or change the "
            "Dataset's schema"
        )
        raise SchemaError(msg)
    return frame.select(list(polars_schema(ds.schema_)))


def check_nulls(ds: DatasetIR, frame: pl.LazyFrame | pl.DataFrame) -> None:
    """Non-Optional columns of a pydantic schema must hold no nulls (SchemaError otherwise)."""
    columns = non_nullable_columns(ds.schema_) if ds.schema_ is not None else []
    if not columns:
        return
    counts = frame.lazy().select(pl.col(c).null_count() for c in columns).collect().row(0)
    check_null_counts(ds, columns, counts)


def check_null_counts(ds: DatasetIR, columns: list[str], counts: Iterable[Any]) -> None:
    """A SchemaError for the first of ``columns`` (non-Optional) whose null count is not 0."""
    for column, count in zip(columns, counts, strict=True):
        if count:
            msg = (
                f"dataset {ds.name!r} {_null_problem(column, count)}. Fill or filter them in "
                "the task, or declare the field Optional[...]"
            )
            raise SchemaError(msg)


def _null_problem(column: str, count: int) -> str:
    return (
        f"column {column!r}: expected no nulls (the schema field is not Optional), "
        f"found {count} null value(s)"
    )


def check_sources(
    sources: Iterable[tuple[str, SchemaIR | None, pl.LazyFrame | pl.DataFrame, str]],
) -> None:
    """One SchemaError listing every way the sources' data breaks their declared schemas.

    ``sources``: ``(dataset name, declared schema, frame, where the data is)``. Column names
    and dtypes come from the frame's schema (a scan reads only file metadata); nulls are
    counted where the data is in memory already. Reading a file's data to count nulls would
    cost a pass over it, so a non-Optional column of a file source is checked when a task
    reads it as a DataFrame, and in the end by the schema of what is written from it.
    """
    found = []
    for name, spec, frame, where in sources:
        if spec is None:
            continue
        try:
            schema = frame.collect_schema()
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            msg = f"source dataset {name!r} ({where}) cannot be read: {reason}"
            raise InputError(msg) from exc
        problems = schema_mismatches(spec, schema)
        if isinstance(frame, pl.DataFrame):
            problems += null_problems(spec, frame)
        if problems:
            found.append(
                f"source dataset {name!r} ({where}) does not match its declared schema: "
                + "; ".join(problems)
            )
    if found:
        msg = f"{'; '.join(found)}. Fix the source data, or change the Dataset's schema"
        raise SchemaError(msg)
