"""Naming rules, checked before any code is generated: the shared machinery.

A name that a cloud would reject at deploy time (minutes into ``pulumi up``) is rejected
before any code is generated instead, with the object that produced it, the rule and a fix.
Each provider package declares its own rules as :class:`NameRule` values (and lists them on
its provider object); this module holds the rule type, the check, and the one rule every
object store shares (the key prefix). Pulumi auto-names most resources by appending a dash
and seven random characters to the logical name; ``suffix`` accounts for those eight
characters so the final name still fits.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

from glacier.errors import CompilationError

#: Characters Pulumi appends when it auto-names a resource ("-" + 7 random characters).
AUTONAME_SUFFIX = 8


@dataclass(frozen=True)
class NameRule:
    """A cloud's rule for one kind of name."""

    what: str
    max_len: int
    pattern: re.Pattern[str]
    description: str
    min_len: int = 1

    def problem(self, name: str, suffix: int = 0) -> str | None:
        """Why ``name`` breaks the rule (None when it is fine)."""
        limit = self.max_len - suffix
        if not self.min_len <= len(name) <= limit:
            room = f" ({suffix} characters are kept for Pulumi's unique suffix)" if suffix else ""
            return f"is {len(name)} characters; {self.what} names must be {self.min_len}-{limit} characters{room}"
        if not self.pattern.fullmatch(name):
            return f"does not match the {self.what} naming rule: {self.description}"
        return None


OBJECT_KEY_PREFIX = NameRule(
    "object key prefix",
    512,
    re.compile(r"[A-Za-z0-9!_.'()/-]*"),
    "letters, digits and !-_.'()/ only (the characters safe in every object store's keys)",
    min_len=0,
)


def check(rule: NameRule, name: str, owner: str, *, suffix: int = 0, fix: str = "") -> str:
    """``name`` when it satisfies ``rule``, else a CompilationError naming ``owner``."""
    problem = rule.problem(name, suffix)
    if problem is not None:
        msg = f"{owner}: {rule.what} name {name!r} {problem}"
        if fix:
            msg += f"; {fix}"
        raise CompilationError(msg)
    return name


def kebab(*parts: str) -> str:
    """Join name parts with '-' and turn '_' into '-' (many clouds refuse '_' in names)."""
    return "-".join(p.replace("_", "-") for p in parts if p)


class Namer:
    """Hands out the generated program's Python identifiers, each derived from a preferred
    name (a task's, a dataset's) and never twice; ``reserved`` are the names the program
    itself uses (its modules and shared objects)."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(reserved)

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


__all__ = ["AUTONAME_SUFFIX", "OBJECT_KEY_PREFIX", "NameRule", "Namer", "check", "kebab"]
