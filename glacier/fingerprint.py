"""A task's code fingerprint: everything its code reaches, by name, and exact digests of values.

The walk starts at the task's function and follows what its code can reach: ``__wrapped__``
(decorators), the globals its code objects load (through attribute chains on the project's own
modules, ``helpers.transform``), closure cells, default values, and imports made inside
functions, transitively. Each function, class and module of the user's own project that it
reaches (``glacier.codeinfo`` says which are) contributes the digest of its source text, read
fresh so that an edit plus ``importlib.reload`` counts, and of its bytecode, so that a file edited
but not reloaded (whose old code still runs) counts too. A module reached as a value, not through
an attribute chain, counts by its whole source. Each value read contributes an exact digest;
library code contributes its distribution's version.

What has no exact, stable digest (a lock, a connection, a LazyFrame, a C function of the project,
a value nested too deep or containing itself) is a problem: the task runs and says why.
"""

from __future__ import annotations

import builtins
import hashlib
import inspect
import linecache
import sys
import types
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import polars as pl

from glacier.codeinfo import (
    CannotFingerprint,
    glacier_version,
    origin,
    origin_of,
    project_module,
    python_version,
    resolve,
    scan,
    source_text,
    unimported,
)
from glacier.values import Digester


class Unknown(NamedTuple):
    """No fingerprint, and why: whatever depends on it runs."""

    why: str


class CodeParts(NamedTuple):
    """What a task's code fingerprint covers, by name (stored so a rerun can say what changed)."""

    code: dict[str, str]  # "m.f", "m.Class", "module m" -> digest of its source and bytecode
    values: dict[str, str]  # "global m.NAME", "closure m.f.var", "defaults of m.f" -> digest
    libraries: dict[str, str]  # distribution (or "python") -> version, of library code reached
    problems: dict[str, str]  # what could not be fingerprinted -> why


def sha(*parts: str | bytes) -> str:
    """A 128-bit digest of ``parts``, each length-prefixed so that no two lists collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:32]


def versions() -> dict[str, str]:
    """The versions every task's result depends on: Python, Polars and Glacier."""
    return {"python": python_version(), "polars": pl.__version__, "glacier": glacier_version()}


class Fingerprinter:
    """Fingerprints for one run: each file's source is refreshed once, and each object (a
    function's source, a DataFrame several tasks read) digested once."""

    def __init__(self) -> None:
        self._refreshed: set[str] = set()
        self._memo: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._namespaces: dict[str, list[type]] | None = None

    def task(self, fn: Callable[..., Any]) -> CodeParts:
        """The code and values the task function ``fn`` reaches, by name."""
        walk = _Walk(self)
        walk.value("task function", fn)  # a function is queued; a bound method, its parts
        return walk.drain()

    def value(self, obj: Any) -> str:
        """An exact digest of ``obj`` and of the code it holds, or CannotFingerprint."""
        walk = _Walk(self)
        try:
            digest = walk.digest(obj)
        except CannotFingerprint:
            raise
        except Exception as exc:  # user objects run code when inspected: never crash a run
            raise CannotFingerprint(f"reading it raised {type(exc).__name__}: {exc}") from exc
        parts = walk.drain()
        if parts.problems:
            raise CannotFingerprint("; ".join(parts.problems.values()))
        return sha(digest, repr(sorted(parts.code.items())), repr(sorted(parts.values.items())))

    def refresh(self, filename: str) -> None:
        """Drop ``linecache``'s copy of a file that changed on disk (once per run)."""
        if filename not in self._refreshed:
            linecache.checkcache(filename)
            self._refreshed.add(filename)

    def lines(self, filename: str, module_globals: dict[str, Any] | None = None) -> list[str]:
        """The file's lines as they are on disk now."""
        self.refresh(filename)
        return linecache.getlines(filename, module_globals)

    def source(self, code: types.CodeType, module_globals: Mapping[str, Any]) -> str | None:
        def read() -> str | None:
            self.refresh(code.co_filename)
            return source_text(code, module_globals)

        return self.memo("source", code, read)  # type: ignore[no-any-return]

    def class_source(self, cls: type) -> str | None:
        def read() -> str | None:
            module = sys.modules.get(cls.__module__)
            file = getattr(module, "__file__", None)
            if module is None or file is None:
                return None
            self.refresh(file)
            try:
                return inspect.getsource(cls)
            except Exception:  # OSError, TypeError, and worse for odd classes: no source
                return None

        return self.memo("class", cls, read)  # type: ignore[no-any-return]

    def namespaces(self) -> dict[str, list[type]]:
        """The project's Polars namespaces by attribute name (``register_expr_namespace``):
        code reaches them through an attribute of a Polars object, never through a name."""
        if self._namespaces is None:
            self._namespaces = {}
            for owner in (pl.Expr, pl.DataFrame, pl.LazyFrame, pl.Series):
                for name, attr in vars(owner).items():
                    made = getattr(attr, "_ns", None)
                    if type(attr).__name__ == "NameSpace" and isinstance(made, type):
                        self._namespaces.setdefault(name, []).append(made)
        return self._namespaces

    def memo(self, kind: str, obj: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per object per run (the object is kept alive with its result)."""
        key = (kind, id(obj))
        if key not in self._memo:
            self._memo[key] = (obj, compute())
        return self._memo[key][1]


_CODE = types.FunctionType | type | types.ModuleType


class _Walk(Digester):
    """One walk from a task's function (or a param's value) through what it reaches."""

    def __init__(self, run: Fingerprinter) -> None:
        super().__init__(run)
        self.run: Fingerprinter = run
        self.code: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.libraries: dict[str, str] = {}
        self.problems: dict[str, str] = {}
        self._keys: dict[int, str] = {}
        self._used: set[str] = set()
        self._todo: deque[tuple[Any, str]] = deque()
        self._alive: list[Any] = []  # ids in _keys stay valid while the walk lasts
        self._libraries_open: set[int] = set()

    def drain(self) -> CodeParts:
        while self._todo:
            obj, key = self._todo.popleft()
            try:
                if isinstance(obj, types.FunctionType):
                    self._function(obj, key)
                elif isinstance(obj, type):
                    self._class(obj, key)
                else:
                    self._module(obj, key)
            except CannotFingerprint as exc:
                self.problems[f"code of {key}"] = str(exc)
            except Exception as exc:  # user objects run code when inspected: never crash a run
                self.problems[f"code of {key}"] = f"reading it raised {type(exc).__name__}: {exc}"
        return CodeParts(self.code, self.values, self.libraries, self.problems)

    def ref(self, obj: Any) -> str | None:
        """A function, class or module as a reference, its code queued if it is the project's;
        None for anything else (a value)."""
        if type(obj).__name__ == "Task" and type(obj).__module__ == "glacier.task":
            obj = obj.fn
        if isinstance(obj, types.BuiltinFunctionType):
            owner = obj.__self__
            if owner is not None and not isinstance(owner, types.ModuleType):
                return None  # a bound method of a value, such as some_list.append
            module = obj.__module__ or getattr(owner, "__name__", "")
            found = origin_of(sys.modules.get(module, obj))
            name = f"{module}.{obj.__qualname__}"
            if found is None:
                raise CannotFingerprint(f"{name} is compiled code Glacier cannot see into")
            return self._library("builtin", name, found)
        if not isinstance(obj, _CODE):
            return None
        module = isinstance(obj, types.ModuleType)
        kind = "module" if module else "class" if isinstance(obj, type) else "function"
        if isinstance(obj, types.FunctionType):  # where its code is (functools.wraps copies
            home = str(obj.__globals__.get("__name__") or obj.__module__ or "")  # another's)
            qualname = getattr(obj.__code__, "co_qualname", obj.__qualname__)
            if qualname.startswith(_DATACLASS_MADE):
                return f"function {obj.__qualname__} made by dataclasses from its class"
            name = f"{home}.{qualname}"
            found = origin(home, obj.__code__.co_filename)
        else:
            name = obj.__name__ if module else f"{obj.__module__}.{obj.__qualname__}"
            found = origin_of(obj)
        if found is not None:
            return self._library(kind, name, found) + self._wrapped_by_library(obj)
        key = self._keys.get(id(obj))
        if key is None:  # two objects of one name (made by one factory) get #2, #3...
            base = f"module {name}" if module else name
            key, n = base, 2
            while key in self._used:
                key, n = f"{base}#{n}", n + 1
            self._keys[id(obj)] = key
            self._used.add(key)
            self._alive.append(obj)
            self._todo.append((obj, key))
        return f"{kind} {key}"

    def _library(self, kind: str, name: str, found: tuple[str, str]) -> str:
        self.libraries[found[0]] = found[1]
        return f"{kind} {name} ({found[0]} {found[1]})"

    def _wrapped_by_library(self, fn: Any) -> str:
        """The functions a library's wrapper function holds (a third-party decorator around a
        project function): its ``__wrapped__`` and the functions in its closure."""
        if not isinstance(fn, types.FunctionType) or id(fn) in self._libraries_open:
            return ""
        self._libraries_open.add(id(fn))
        inner = [fn.__dict__.get("__wrapped__")]
        registry = fn.__dict__.get("registry")  # functools.singledispatch: what it dispatches to
        if isinstance(registry, Mapping):
            inner += list(registry.values())
        for cell in fn.__closure__ or ():
            try:
                inner.append(cell.cell_contents)
            except ValueError:  # not assigned yet
                continue
        refs = [self.ref(f) for f in inner if isinstance(f, types.FunctionType)]
        return "".join(f" wrapping {r}" for r in refs if r)

    def value(self, label: str, obj: Any) -> None:
        """Record the digest of a value read under ``label`` (a problem if it has none)."""
        try:
            self.values[label] = self.digest(obj)
        except CannotFingerprint as exc:
            self.problems[label] = str(exc)
        except RecursionError:
            self.problems[label] = "it nests too deep to fingerprint"
        except Exception as exc:  # user objects run code when inspected: never crash a run
            self.problems[label] = f"reading it raised {type(exc).__name__}: {exc}"

    # -- code ----------------------------------------------------------------------------------

    def _function(self, fn: types.FunctionType, key: str) -> None:
        code = fn.__code__
        found = scan(code)
        self.code[key] = sha(self.run.source(code, fn.__globals__) or "", found.bytecode)
        if fn.__defaults__ or fn.__kwdefaults__:
            self.value(f"defaults of {key}", (fn.__defaults__, fn.__kwdefaults__))
        for chain in found.chains:
            self._global(fn, chain)
        for module, level, names in found.imports:
            self._import(fn, module, level, names)
        namespaces = self.run.namespaces()
        for attr in sorted(found.names & namespaces.keys()):  # pl.col("x").mine.double()
            self.value(f"polars namespace {attr}", namespaces[attr])
        for var, cell in zip(code.co_freevars, fn.__closure__ or (), strict=False):
            try:
                contents = cell.cell_contents
            except ValueError:  # not assigned yet
                contents = "<empty cell>"
            self.value(f"closure {key}.{var}", contents)
        wrapped = fn.__dict__.get("__wrapped__")
        if wrapped is not None:
            self.value(f"wrapped by {key}", wrapped)

    def _global(self, fn: types.FunctionType, chain: tuple[str, ...]) -> None:
        """A global the code loads, followed through the project's modules (``helpers.f``)."""
        namespace = fn.__globals__
        where = f"{namespace.get('__name__', fn.__module__)}.{chain[0]}"
        if chain[0] not in namespace:
            if not hasattr(builtins, chain[0]):  # a builtin counts by the Python version
                self.values[f"global {where}"] = "undefined"
            return
        obj = namespace[chain[0]]
        for attr in chain[1:]:
            if not project_module(obj):
                break
            where += f".{attr}"
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                self.values[f"global {where}"] = "undefined"
                return
        self.value(f"global {where}", obj)

    def _import(
        self, fn: types.FunctionType, name: str, level: int, names: tuple[str, ...]
    ) -> None:
        """A module imported inside a function: what it takes from it, else the whole module."""
        try:
            package = fn.__globals__.get("__package__")
            full = resolve(name, level, package)
        except (ImportError, ValueError) as exc:
            self.problems[f"import {name} in {fn.__qualname__}"] = str(exc)
            return
        module = sys.modules.get(full)
        if module is None:
            file, found = unimported(full)
            if found is not None:
                self.values[f"import {full}"] = self._library("module", full, found)
            else:
                text = "".join(self.run.lines(file)) if file else "missing"
                self.code[f"module {full}"] = sha(text)
            return
        for attr in names:
            obj = getattr(module, attr, None) or sys.modules.get(f"{full}.{attr}")
            self.value(f"import {full}.{attr}", obj)
        if not names:
            self.value(f"import {full}", module)

    def _class(self, cls: type, key: str) -> None:
        source = self.run.class_source(cls)
        parts = [source or "", *(self.digest(b) for b in cls.__bases__)]
        if type(cls) is not type:
            parts.append(self.digest(type(cls)))
        # attributes a library's base class or metaclass made (pydantic's model_config)
        # derive from the class statement, which the source and the library's version cover
        lenient = any(origin_of(c) is not None for c in cls.__mro__[1:-1]) or type(cls) is not type
        for name, attr in vars(cls).items():
            functions = _functions_in(attr)
            if functions is None:
                # dunder data is the class machinery; a private value may be computed from
                # another module (``_K = consts.FACTOR``), which the source text does not show
                if not _dunder(name) and not isinstance(attr, _SLOT):
                    self._attribute(f"class attribute {key}.{name}", attr, lenient)
                continue
            for f in functions:
                if not _generated(f, source is not None):
                    parts.append(f"{name}={self.ref(f)}")
        for name, default in _field_defaults(cls).items():  # the generated __init__ uses them
            self._attribute(f"default of field {key}.{name}", default, lenient)
        self.code[key] = sha(*parts)

    def _attribute(self, label: str, attr: Any, lenient: bool) -> None:
        try:
            self.values[label] = self.digest(attr)
        except CannotFingerprint as exc:
            if not lenient:
                self.problems[label] = str(exc)

    def _module(self, module: types.ModuleType, key: str) -> None:
        file = getattr(module, "__file__", None)
        lines = self.run.lines(file, vars(module)) if file else []
        if not lines:
            msg = f"module {module.__name__} has no source file Glacier can read"
            raise CannotFingerprint(msg)
        self.code[key] = sha("".join(lines))


_MISSING = object()


def _generated(fn: types.FunctionType, have_source: bool) -> bool:
    """Whether a class's method was generated from the class statement by a decorator
    (dataclasses, attrs): no file of its own, and the class's source (or, for dataclasses,
    their fields, which are class attributes) says what it does."""
    code = fn.__code__
    if not code.co_filename.startswith("<"):
        return False
    return have_source or getattr(code, "co_qualname", "").startswith(_DATACLASS_MADE)


#: How the code of a method dataclasses generates is named (Python 3.11+).
_DATACLASS_MADE = "__create_fn__."


#: A slot of a slotted class (``dataclass(slots=True)``, attrs): a descriptor, no value.
_SLOT = (types.MemberDescriptorType, types.GetSetDescriptorType)


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _field_defaults(cls: type) -> dict[str, Any]:
    """The default (or default factory) of each field a dataclass, attrs class or pydantic
    model declares. They live in the class's field records, not as class attributes (a
    factory, any default of a slotted class or of a pydantic model), and a default computed
    from another module (``field(default_factory=consts.make)``) is no part of the source."""
    own = vars(cls)
    found: dict[str, Any] = {}
    for f in own.get("__dataclass_fields__", {}).values():
        found[f.name] = [_given(f.default), _given(f.default_factory)]
    for a in own.get("__attrs_attrs__", ()):
        default = a.default
        if type(default).__name__ == "Factory":  # attrs.Factory(list, takes_self=False)
            default = [default.factory, default.takes_self]
        found[a.name] = _given(default)
    for name, info in (own.get("__pydantic_fields__") or {}).items():
        found[name] = [_given(info.default), info.default_factory]
    return found


def _given(value: Any) -> Any:
    """None for a library's "no default" marker (dataclasses.MISSING, attrs.NOTHING, pydantic's
    undefined), which has no digest of its own; the value otherwise."""
    kind = type(value).__name__
    return None if kind in ("_MISSING_TYPE", "_Nothing", "PydanticUndefinedType") else value


def _functions_in(attr: Any) -> list[types.FunctionType] | None:
    """The functions a class attribute holds (methods, properties...), or None for data."""
    if isinstance(attr, staticmethod | classmethod):
        attr = attr.__func__
    if isinstance(attr, types.FunctionType):
        return [attr]
    if isinstance(attr, property):
        return [f for f in (attr.fget, attr.fset, attr.fdel) if isinstance(f, types.FunctionType)]
    func = getattr(attr, "func", None)  # functools.cached_property
    if type(attr).__name__ == "cached_property" and isinstance(func, types.FunctionType):
        return [func]
    return None


__all__ = ["CannotFingerprint", "CodeParts", "Fingerprinter", "Unknown", "sha", "versions"]
