"""What a function's code says, for fingerprints: its source text, its bytecode, what it loads
and imports, and whose code it is (the user's own project, or a library at some version).

The user's own project is every module whose file lies outside the standard library and the
site-packages folders (so a project installed in editable mode is still the project's);
Glacier's own packages count as Glacier, at its version, wherever they are.
"""

from __future__ import annotations

import dis
import functools
import importlib.metadata
import importlib.util
import linecache
import os
import site
import sys
import sysconfig
import textwrap
import types
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple


class CannotFingerprint(Exception):
    """No exact, stable digest exists for a value or piece of code: what reads it runs."""


def python_version() -> str:
    return sys.version.split()[0]


def glacier_version() -> str:
    return str(getattr(sys.modules.get("glacier"), "__version__", "unknown"))


# -- source text and bytecode ------------------------------------------------------------------


def source_text(code: types.CodeType, module_globals: Mapping[str, Any]) -> str | None:
    """The dedented source lines from the first decorator to the code's last line, or None.

    Cut from the file by the line range the code object covers instead of ``inspect.getsource``,
    whose tokenizer pass costs ~1-2 ms per function. Callers refresh ``linecache`` first.
    """
    namespace = module_globals if isinstance(module_globals, dict) else dict(module_globals)
    lines = linecache.getlines(code.co_filename, namespace)
    first, last = code.co_firstlineno, _last_line(code)
    if not lines or first < 1 or last > len(lines):
        return None
    return textwrap.dedent("".join(lines[first - 1 : last]))


def _last_line(code: types.CodeType) -> int:
    """The last source line any instruction of ``code`` or its nested code objects spans."""
    positions = getattr(code, "co_positions", None)  # Python 3.11+: end lines included
    if positions is not None:
        ends = [end for _, end, _, _ in positions() if end is not None]
    else:
        ends = [line for _, _, line in code.co_lines() if line is not None]
    nested = [_last_line(c) for c in code.co_consts if isinstance(c, types.CodeType)]
    return max([code.co_firstlineno, *ends, *nested])


def code_bytes(code: types.CodeType) -> bytes:
    """Bytecode, signature, names and constants (nested code recursively): no memory addresses,
    no line numbers, and frozenset constants sorted (their order varies from process to process)."""
    shape = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)
    names = (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)
    consts = [_const_bytes(c) for c in code.co_consts]
    return b"\0".join([code.co_code, repr((shape, names)).encode(), *consts])


def _const_bytes(const: object) -> bytes:
    if isinstance(const, types.CodeType):
        return code_bytes(const)
    if isinstance(const, tuple | frozenset):
        items = [_const_bytes(c) for c in const]
        if isinstance(const, frozenset):
            items.sort()
        return f"{type(const).__name__}(".encode() + b",".join(items) + b")"
    return f"{type(const).__name__}:{const!r}".encode()


class Scan(NamedTuple):
    """What one code object (with its nested code) loads and imports."""

    bytecode: bytes
    #: each global loaded, with the attributes loaded from it right after (``helpers.transform``)
    chains: tuple[tuple[str, ...], ...]
    #: each import: (module, relative level, names taken from it)
    imports: tuple[tuple[str, int, tuple[str, ...]], ...]
    #: every name the code uses: globals, attributes (``.mine`` of ``pl.col("x").mine``)
    names: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=8192)
def scan(code: types.CodeType) -> Scan:
    """What ``code`` loads and imports; cached, as it depends on the code object alone."""
    chains: dict[tuple[str, ...], None] = {}
    imports: dict[tuple[str, int, tuple[str, ...]], None] = {}
    used: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        used.update(current.co_names)
        ins = [i for i in dis.get_instructions(current) if i.opname != "EXTENDED_ARG"]
        for n, inst in enumerate(ins):
            if inst.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                chain = (inst.argval, *_run_of(ins, n + 1, ("LOAD_ATTR", "LOAD_METHOD")))
                chains[chain] = None
            elif inst.opname == "IMPORT_NAME":
                # compiled as LOAD_CONST level, LOAD_CONST fromlist, IMPORT_NAME module
                level, froms = (
                    i.argval if i.opname == "LOAD_CONST" else None for i in ins[n - 2 : n]
                )
                names = tuple(froms) if isinstance(froms, tuple) and "*" not in froms else ()
                imports[(str(inst.argval), int(level or 0), names)] = None
        todo.extend(i.argval for i in ins if isinstance(i.argval, types.CodeType))
    return Scan(code_bytes(code), tuple(chains), tuple(imports), frozenset(used))


def _run_of(ins: list[dis.Instruction], start: int, ops: tuple[str, ...]) -> list[str]:
    """The arguments of the instructions from ``start`` on while their op is one of ``ops``."""
    found = []
    for inst in ins[start:]:
        if inst.opname not in ops:
            break
        found.append(str(inst.argval))
    return found


# -- whose code: the project's, or a library's ------------------------------------------------


@functools.cache
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(getattr(site, "getsitepackages", list)())
    roots.add(getattr(site, "getusersitepackages", lambda: None)())
    roots.update(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages"))
    return tuple(sorted({os.path.join(os.path.realpath(r), "") for r in roots if r}))


def whose_file(name: str, file: str | None) -> Literal["python", "library", "project"]:
    """Whose code module ``name`` (from ``file``) is, by where it lies: the standard library
    (``"python"``), an installed distribution (``"library"``), or the user's own project."""
    top = name.partition(".")[0]
    stdlib = top in sys.stdlib_module_names or top in sys.builtin_module_names
    if file is None:  # built in, or code with no file (a notebook's __main__, exec): by code
        return "python" if stdlib else "project"
    if not os.path.realpath(file).startswith(_library_roots()):
        return "project"
    return "python" if stdlib else "library"


@functools.cache
def origin(name: str, file: str | None) -> tuple[str, str] | None:
    """(distribution, version) of library module ``name`` (from ``file``); None for a module
    of the user's own project, whose code is fingerprinted itself. Glacier's own packages are
    Glacier's wherever they are (the fingerprint counts them by Glacier's version)."""
    top = name.partition(".")[0]
    if top == "glacier" or top.startswith("glacier_"):
        return "glacier", glacier_version()
    whose = whose_file(name, file)
    if whose == "python":
        return "python", python_version()
    return (top, _version(top)) if whose == "library" else None


def origin_of(obj: Any) -> tuple[str, str] | None:
    """The origin of a module, or of the module a function or class was defined in."""
    if isinstance(obj, types.ModuleType):
        return origin(obj.__name__, getattr(obj, "__file__", None))
    name = getattr(obj, "__module__", None)
    if not isinstance(name, str):
        return None
    module = sys.modules.get(name)
    return origin(name, getattr(module, "__file__", None) if module is not None else None)


def project_module(obj: object) -> bool:
    """Whether ``obj`` is a module of the user's own project (its attributes are followed)."""
    return isinstance(obj, types.ModuleType) and origin_of(obj) is None


def resolve(name: str, level: int, package: str | None) -> str:
    """The absolute name of a module imported as ``from <level dots><name> import ...``."""
    return importlib.util.resolve_name("." * level + name, package) if level else name


def unimported(name: str) -> tuple[str | None, tuple[str, str] | None]:
    """A module not imported yet (a function imports it when it runs): (its file, origin)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None, None
    file = spec.origin if spec is not None and spec.has_location else None
    return (file, origin(name, file)) if file else (None, None)


@functools.cache
def _version(top: str) -> str:
    """The loaded module's ``__version__`` (what runs), else its distribution's version (the
    import name, then whichever distributions provide that name)."""
    found = getattr(sys.modules.get(top), "__version__", None)
    if isinstance(found, str):
        return found
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        pass
    dists = sorted(set(packages().get(top, ())))
    if not dists:
        msg = f"installed module {top} belongs to no distribution Glacier can find a version of"
        raise CannotFingerprint(msg)
    return ", ".join(f"{d} {importlib.metadata.version(d)}" for d in dists)


@functools.cache
def packages() -> Mapping[str, list[str]]:
    """Top-level module name -> the installed distributions providing it (~0.1-0.2 s, once:
    only for a name that is not a distribution's own)."""
    return importlib.metadata.packages_distributions()
