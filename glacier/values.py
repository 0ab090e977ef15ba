"""Exact digests of library values a task may read: Polars frames, NumPy arrays, and the
standard library's plain values (dates, decimals, paths, patterns...).

Each is digested from everything that makes it what it is, never from a display string
(``str()`` of a Series shows ten values). Anything not listed here has no digest: the task that
reads it runs rather than being skipped on a guess.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from typing import Any

import polars as pl

from glacier.codeinfo import CannotFingerprint

Feed = Callable[[Any], None]

#: Standard library types whose repr() is exact and complete.
_BY_REPR = {
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
    ("datetime", "timedelta"), ("datetime", "timezone"), ("decimal", "Decimal"),
    ("fractions", "Fraction"), ("uuid", "UUID"), ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"), ("pathlib", "PurePosixPath"), ("pathlib", "PureWindowsPath"),
    ("zoneinfo", "ZoneInfo"), ("builtins", "range"), ("builtins", "slice"),
    ("builtins", "ellipsis"), ("builtins", "NotImplementedType"),
}  # fmt: skip


def frame_digest(frame: pl.DataFrame) -> str:
    """An exact digest of a DataFrame: its Arrow IPC bytes (names, dtypes and every value's
    bits, so -0.0 is not 0.0). An Object column holds Python objects with no exact digest."""
    for name, dtype in frame.schema.items():
        if "Object" in str(dtype):
            msg = f"column {name!r} has dtype {dtype}, whose Python objects have no exact digest"
            raise CannotFingerprint(msg)
    writer = _HashWriter()
    try:
        frame.write_ipc(writer, compression="uncompressed")  # type: ignore[arg-type]
    except Exception as exc:
        raise CannotFingerprint(f"it cannot be serialized ({type(exc).__name__}: {exc})") from exc
    return writer.hash.hexdigest()[:32]


class _HashWriter:
    """A write-only file that hashes what it is given (no second copy of a large frame)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)

    def flush(self) -> None:
        pass


def feed_library_value(h: Any, obj: Any, feed: Feed, memo: Any) -> bool:
    """Feed an exact description of ``obj`` to ``h`` (nested parts through ``feed``); False if
    it is no value this module knows. ``memo.memo(kind, obj, fn)`` computes large digests once."""
    cls = type(obj)
    module, name = cls.__module__, cls.__qualname__
    if module.startswith("polars"):
        h.update(_polars(obj, memo).encode())
    elif module == "numpy":
        h.update(_numpy(obj, memo).encode())
    elif (module, name) in _BY_REPR:
        h.update(repr(obj).encode())
    elif module == "re" and name == "Pattern":
        feed((obj.pattern, obj.flags))
    elif isinstance(obj, bytearray | memoryview):
        feed(bytes(obj))
    elif module == "logging" and name in ("Logger", "RootLogger"):
        feed(obj.name)  # where messages go does not change a result
    elif module == "functools" and name == "partial":
        feed((obj.func, obj.args, obj.keywords))
    elif isinstance(obj, staticmethod | classmethod):
        feed(obj.__func__)
    elif isinstance(obj, property):
        feed((obj.fget, obj.fset, obj.fdel))
    elif module == "types" and name == "SimpleNamespace":
        feed(vars(obj))
    elif module == "glacier.dataset" and name == "Dataset":
        h.update(repr(obj.to_ir()).encode())
    elif callable(obj) and getattr(obj, "__wrapped__", None) is not None:
        feed(obj.__wrapped__)  # functools.lru_cache and similar wrappers: the function counts
    else:
        return False
    return True


def _polars(obj: Any, memo: Any) -> str:
    if isinstance(obj, pl.DataFrame):
        return str(memo.memo("frame", obj, lambda: frame_digest(obj)))
    if isinstance(obj, pl.Series):
        return str(memo.memo("frame", obj, lambda: frame_digest(obj.to_frame())))
    if isinstance(obj, pl.LazyFrame):
        msg = "a LazyFrame is a query over data Glacier cannot digest; collect it to a DataFrame"
        raise CannotFingerprint(msg)
    if isinstance(obj, pl.Expr):
        return _expression(obj)
    if isinstance(obj, pl.DataType):
        return repr(obj)  # Datetime(time_unit='us', time_zone='UTC'): complete
    msg = f"a polars {type(obj).__qualname__} object has no value Glacier can digest exactly"
    raise CannotFingerprint(msg)


def _expression(expr: pl.Expr) -> str:
    """A Polars expression by its serialized plan; one that calls Python code is refused (the
    code would be pickled by name, so an edit to it would go unseen)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = expr.meta.serialize(format="json")
    except Exception as exc:
        raise CannotFingerprint(f"the expression cannot be serialized ({exc})") from exc
    if "python" in text.lower() or "anonymousfunction" in text.lower():
        raise CannotFingerprint("the expression calls Python code, which Glacier cannot digest")
    return text


def _numpy(obj: Any, memo: Any) -> str:
    dtype = getattr(obj, "dtype", None)
    if dtype is None or not hasattr(obj, "tobytes"):
        msg = f"a numpy {type(obj).__qualname__} object has no value Glacier can digest exactly"
        raise CannotFingerprint(msg)
    if dtype.hasobject:
        raise CannotFingerprint("a numpy array of Python objects has no exact digest")

    def digest() -> str:
        data = obj.tobytes(order="C")
        shape = repr((dtype.descr, getattr(obj, "shape", ())))
        return hashlib.sha256(shape.encode() + data).hexdigest()

    return str(memo.memo("array", obj, digest))
