"""A small, deterministic YAML printer for generated documents (the Workflows definition).

Generated YAML must be byte-for-byte reproducible and keep user text inert, so it is printed
here rather than by a general library: every string value is a double-quoted JSON string
(valid YAML, every character escaped the way JSON does), keys are plain only when they are
simple identifiers no YAML reader turns into another type (``on``, ``yes``, ``null``...), and
mappings keep the order they were built in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from glacier.errors import CompilationError

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Words YAML 1.1 readers take as booleans or null: never printed as plain keys.
_SPECIAL = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise CompilationError(f"YAML keys are strings here, found {key!r}; this is a Glacier bug")
    if _PLAIN_KEY.fullmatch(key) and key.lower() not in _SPECIAL:
        return key
    return json.dumps(key)


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    raise CompilationError(f"cannot print {type(value).__name__} {value!r} as YAML; a Glacier bug")


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [f"{pad}{{}}"]
        out = []
        for k, v in value.items():
            if _is_block(v):
                out.append(f"{pad}{_key(k)}:")
                out.extend(_lines(v, indent + 2))
            else:
                out.append(f"{pad}{_key(k)}: {_flow(v)}")
        return out
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return [f"{pad}[]"]
        out = []
        for item in value:
            if _is_block(item):
                inner = _lines(item, indent + 2)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_flow(item)}")
        return out
    return [f"{pad}{_scalar(value)}"]


def _is_block(value: object) -> bool:
    return isinstance(value, Mapping | list | tuple) and bool(value)


def _flow(value: object) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return _scalar(value)


def dump(document: Mapping[str, Any], header: str = "") -> str:
    """``document`` as block YAML, after ``header`` (compiler text) as comment lines."""
    comments = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comments + "\n".join(_lines(document, 0)) + "\n"


__all__ = ["dump"]
