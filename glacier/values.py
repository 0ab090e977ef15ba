"""Exact digests of the values a task reads: primitives, containers, instances of the
project's classes, Polars frames, NumPy arrays, the standard library's plain values.

Each is digested from everything that makes it what it is, never from a display string
(``str()`` of a Series shows ten values): floats by their bits (``-0.0`` is not ``0.0``), sets
in a sorted order, containers with their length. Functions, classes and modules met inside a
value are left to ``Digester.ref`` (the fingerprint's code walk). Anything else has no digest,
and nor has a value nested deeper than ``MAX_DEPTH`` or containing itself: ``CannotFingerprint``,
so the task that reads it runs rather than being skipped on a guess.
"""

from __future__ import annotations

import enum
import hashlib
import types
import typing
import warnings
from collections.abc import Callable
from typing import Any

import polars as pl

from glacier.codeinfo import CannotFingerprint, origin_of

Feed = Callable[[Any], None]
#: Values nested deeper than this are not followed (the task runs instead).
MAX_DEPTH = 64
_SCALARS: dict[type, Callable[[Any], str | bytes]] = {
    type(None): lambda _: b"",
    bool: repr,
    int: repr,
    str: lambda s: s,
    bytes: lambda b: b,
    float: float.hex,  # exact: -0.0 is not 0.0, and every NaN is "nan"
    complex: lambda c: f"{c.real.hex()},{c.imag.hex()}",
}

#: Standard library types whose repr() is exact and complete.
_BY_REPR = {
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"),
    ("datetime", "timedelta"), ("datetime", "timezone"), ("decimal", "Decimal"),
    ("fractions", "Fraction"), ("uuid", "UUID"), ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"), ("pathlib", "PurePosixPath"), ("pathlib", "PureWindowsPath"),
    ("zoneinfo", "ZoneInfo"), ("builtins", "range"), ("builtins", "slice"),
    ("builtins", "ellipsis"), ("builtins", "NotImplementedType"), ("typing", "_SpecialForm"),
}  # fmt: skip


class Digester:
    """Digests values; ``ref`` turns code met inside a value into a reference (none here),
    ``run.memo(kind, obj, compute)`` digests a large value once per run."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def ref(self, obj: Any) -> str | None:
        return None

    def digest(self, obj: Any) -> str:
        """An exact digest of a value (code it holds is referenced and queued)."""
        h = hashlib.sha256()
        self._feed(h, obj, 0, set())
        return h.hexdigest()[:32]

    def _feed(self, h: Any, obj: Any, depth: int, path: set[int]) -> None:
        scalar = _SCALARS.get(type(obj))
        if scalar is not None:
            _put(h, type(obj).__name__, scalar(obj))
            return
        ref = self.ref(obj)
        if ref is not None:
            _put(h, "ref", ref)
            return
        if depth >= MAX_DEPTH:
            raise CannotFingerprint(f"it nests deeper than {MAX_DEPTH} levels")
        if id(obj) in path:
            raise CannotFingerprint(f"a {type(obj).__qualname__} in it contains itself")
        path.add(id(obj))
        try:
            self._compound(h, obj, depth + 1, path)
        finally:
            path.discard(id(obj))

    def _compound(self, h: Any, obj: Any, depth: int, path: set[int]) -> None:
        def feed(item: Any) -> None:
            self._feed(h, item, depth, path)

        cls = type(obj)
        if cls not in (tuple, list, dict, set, frozenset):
            _put(h, "type", self.ref(cls) or "")
        if isinstance(obj, enum.Enum):
            _put(h, "enum", obj.name)
            feed(obj.value)
        elif isinstance(obj, tuple | list):
            _put(h, "seq", str(len(obj)))
            for item in obj:
                feed(item)
        elif isinstance(obj, dict | types.MappingProxyType):
            _put(h, "map", str(len(obj)))
            for k, v in obj.items():
                feed(k)
                feed(v)
        elif isinstance(obj, set | frozenset):
            subs = []
            for item in obj:
                sub = hashlib.sha256()
                self._feed(sub, item, depth, path)
                subs.append(sub.hexdigest())
            _put(h, "set", ",".join(sorted(subs)))
        elif isinstance(obj, types.MethodType):
            feed(obj.__func__)
            feed(obj.__self__)
        elif isinstance(obj, types.BuiltinMethodType):  # bound to a value: some_list.append
            _put(h, "method", obj.__name__)
            feed(obj.__self__)
        elif origin_of(cls) is None:  # an instance of a class of the project: its state
            feed(vars(obj) if hasattr(obj, "__dict__") else None)
            feed([getattr(obj, s, None) for c in cls.__mro__ for s in _slots(c)])
            return
        elif not feed_library_value(h, obj, feed, self.run):
            what = f"a {cls.__module__}.{cls.__qualname__} object"
            raise CannotFingerprint(f"{what} has no value Glacier can digest exactly")
        if hasattr(obj, "__dict__") and not isinstance(obj, enum.Enum) and origin_of(cls) is None:
            feed(vars(obj))  # a project's subclass of a container keeps state of its own


def _put(h: Any, tag: str, data: str | bytes = b"") -> None:
    raw = data.encode() if isinstance(data, str) else data
    h.update(f"{tag}{len(raw)}:".encode() + raw)


def _slots(cls: type) -> tuple[str, ...]:
    slots = cls.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(s for s in slots if s != "__dict__")


def frame_digest(frame: pl.DataFrame) -> str:
    """An exact digest of a DataFrame: its Arrow IPC bytes (names, dtypes and every value's
    bits, so -0.0 is not 0.0). An Object column holds Python objects with no exact digest."""
    for name, dtype in frame.schema.items():
        if "Object" in str(dtype):
            msg = f"column {name!r} has dtype {dtype}, whose Python objects have no exact digest"
            raise CannotFingerprint(msg)
    writer = _HashWriter()
    try:
        frame.write_ipc(writer, compression="uncompressed")  # type: ignore[call-overload]
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
    elif module == "logging" and name in ("Logger", "RootLogger", "LoggerAdapter"):
        feed(obj.name)  # where messages go (and what an adapter adds) does not change a result
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
    elif module in ("typing", "types") and typing.get_origin(obj) is not None:
        feed((typing.get_origin(obj), typing.get_args(obj)))  # list[int], Optional[Row]
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
    """A Polars expression by its serialized plan in the binary format (the JSON one writes
    every infinity and NaN as ``null``); one that calls Python code is refused (the code would
    be pickled by name, so an edit to it would go unseen)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = expr.meta.serialize(format="json")
            exact = expr.meta.serialize()
    except Exception as exc:
        raise CannotFingerprint(f"the expression cannot be serialized ({exc})") from exc
    if "python" in text.lower() or "anonymousfunction" in text.lower():
        raise CannotFingerprint("the expression calls Python code, which Glacier cannot digest")
    return hashlib.sha256(exact).hexdigest()


def _numpy(obj: Any, memo: Any) -> str:
    dtype = getattr(obj, "dtype", None)
    if type(obj).__name__ == "ufunc":
        return f"ufunc {obj.__name__}"  # np.add: library code, counted by numpy's version
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
