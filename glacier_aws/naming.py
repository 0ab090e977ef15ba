"""Generated variable names for the AWS program: valid, readable and collision-free."""

from __future__ import annotations

import keyword
import re

#: Names the generated program itself uses (modules, shared objects).
RESERVED = frozenset(
    {"pulumi", "aws", "gi", "ctx", "provider", "network", "cluster", "machine", "machine_role",
     "machine_logs", "schedule", "definition", "json", "os"}
)  # fmt: skip


class Namer:
    """Hands out Python identifiers, deriving each from a preferred name, never twice."""

    def __init__(self) -> None:
        self._taken: set[str] = set(RESERVED)

    def take(self, preferred: str, suffixes: tuple[str, ...] = ()) -> str:
        """A fresh identifier from ``preferred``; with ``suffixes``, ``name + suffix`` for each
        suffix is free too and reserved (the program derives those variables from it)."""
        base = re.sub(r"\W+", "_", preferred.lower()).strip("_") or "item"
        if base[0].isdigit():
            base = f"n_{base}"
        if keyword.iskeyword(base) or keyword.issoftkeyword(base):
            base = f"{base}_"
        name, n = base, 2
        while any(name + s in self._taken for s in ("", *suffixes)):
            name, n = f"{base}_{n}", n + 1
        self._taken.update(name + s for s in ("", *suffixes))
        return name


__all__ = ["RESERVED", "Namer"]
