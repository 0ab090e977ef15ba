"""Installed distributions: which one a module comes from, its pin, and declared requirements.

The function bundle pins every third-party distribution the pipeline's code imports to the
version installed where ``glacier compile`` runs (what local runs test), and adds the
requirements the pipeline declares, ``Pipeline(requirements=["pkg>=1"])``. A requirement is
checked with ``packaging`` (pip's own parser) when it is installed, else by a stricter pattern:
either way a requirements-file option (``--index-url ...``), a line break or a comment cannot
reach the bundle's ``requirements.txt``.
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import os
import re
from collections.abc import Iterable
from pathlib import Path

from glacier.codeinfo import packages
from glacier.errors import CompilationError, DefinitionError

#: PEP 508 name, optional extras, optional version clauses, optional marker (no URL forms:
#: those need ``packaging``).
_SIMPLE = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[A-Za-z0-9._,\s-]*\])?"
    r"\s*((~=|===?|!=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+\s*(,\s*(~=|===?|!=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+\s*)*)?"
    r"(;[^#\\\r\n]*)?"
)


def normal(name: str) -> str:
    """A distribution name in its canonical form (``PyYAML`` -> ``pyyaml``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The canonical distribution name of a checked requirement string."""
    match = _SIMPLE.match(requirement)
    return normal(match.group("name")) if match else normal(requirement)


def _problem(requirement: object) -> str | None:
    """Why ``requirement`` is not a requirement pip accepts in a requirements file, or None."""
    if not isinstance(requirement, str) or not requirement.strip():
        return "expected a non-empty str such as 'requests>=2.31'"
    if any(c in requirement for c in "\r\n#\\") or requirement.lstrip().startswith("-"):
        return "a line break, '#', '\\' or a leading '-' (a pip option) is not a requirement"
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        if _SIMPLE.fullmatch(requirement.strip()):
            return None
        return "expected 'name', 'name[extra]>=1.0,<2' or 'name; marker'"
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        return str(exc).splitlines()[0]
    return None


def check_requirements(requirements: object, pipeline: str) -> tuple[str, ...]:
    """``Pipeline(requirements=...)`` as a tuple of stripped, checked requirement strings."""
    if isinstance(requirements, str) or not isinstance(requirements, Iterable):
        msg = (
            f"pipeline {pipeline!r}: requirements must be a list of requirement strings, found "
            f"{requirements!r}; e.g. requirements=['pyyaml>=6']"
        )
        raise DefinitionError(msg)
    found: list[str] = []
    for requirement in requirements:
        problem = _problem(requirement)
        if problem:
            msg = f"pipeline {pipeline!r}: requirement {requirement!r} is invalid: {problem}"
            raise DefinitionError(msg)
        if requirement.strip() not in found:
            found.append(requirement.strip())
    return tuple(found)


# -- installed distributions ------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def installed(name: str) -> metadata.Distribution | None:
    """The installed distribution ``name``, or None."""
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1024)
def pin(name: str) -> str:
    """``name==<installed version>`` (``name`` alone when it is not installed)."""
    dist = installed(name)
    return f"{name}=={dist.version}" if dist is not None else name


@functools.lru_cache(maxsize=1024)
def display_name(name: str) -> str:
    """The name a distribution gives itself (``pyyaml`` -> ``PyYAML``)."""
    dist = installed(name)
    return str(dist.metadata["Name"] or name) if dist is not None else name


@functools.lru_cache(maxsize=1024)
def _files(name: str) -> frozenset[str]:
    dist = installed(name)
    return frozenset(str(p) for p in (dist.files or ())) if dist else frozenset()


def _owns(name: str, file: str) -> bool:
    dist = installed(name)
    if dist is None:
        return False
    root = os.path.realpath(str(dist.locate_file("")))
    try:
        rel = Path(os.path.realpath(file)).relative_to(root).as_posix()
    except ValueError:
        return False
    return rel in _files(name)


def distribution_of(module: str, file: str | None) -> str | None:
    """The installed distribution that holds library module ``module`` (from ``file``)."""
    top = module.partition(".")[0]
    if file is not None and _owns(top, file):
        return normal(top)
    candidates = sorted(set(packages().get(top, ())))
    if len(candidates) > 1 and file is not None:
        candidates = [c for c in candidates if _owns(c, file)] or candidates
    return normal(candidates[0]) if len(candidates) == 1 else None


@functools.lru_cache(maxsize=1024)
def top_level_names(name: str) -> frozenset[str]:
    """The top-level modules distribution ``name`` installs (``PyYAML`` -> ``yaml``, ``_yaml``)."""
    dist = installed(name)
    if dist is None:
        return frozenset()
    text = dist.read_text("top_level.txt")
    if text:
        return frozenset(text.split())
    found = set()
    for path in dist.files or ():
        first = path.parts[0]
        if first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".data")):
            continue
        top = first.partition(".")[0] if len(path.parts) == 1 else first
        if top.isidentifier() and not first.endswith(".pth"):
            found.add(top)
    return frozenset(found)


@functools.lru_cache(maxsize=1024)
def _requires(name: str) -> tuple[str, ...]:
    """The distributions ``name`` needs installed here (extras and false markers left out)."""
    dist = installed(name)
    found = []
    for line in (dist.requires or []) if dist else []:
        try:
            from packaging.requirements import InvalidRequirement, Requirement
        except ImportError:
            if "extra" not in line.partition(";")[2]:
                found.append(requirement_name(line))
            continue
        try:
            requirement = Requirement(line)
            needed = requirement.marker is None or requirement.marker.evaluate({"extra": ""})
        except (InvalidRequirement, ValueError):
            needed, requirement = True, None  # malformed metadata: keep the name, to be safe
        if needed:
            found.append(normal(requirement.name) if requirement else requirement_name(line))
    return tuple(found)


def with_dependencies(names: Iterable[str]) -> set[str]:
    """``names`` (canonical) and every installed distribution they require, transitively."""
    found: set[str] = set()
    todo = [normal(n) for n in names]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += _requires(name)
    return found


def conflict(requirement: str) -> str | None:
    """Why the installed version contradicts ``requirement`` (a bundle pinning the installed
    version would not satisfy it), or None."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return None
    parsed = Requirement(requirement)
    dist = installed(parsed.name)
    if dist is None or parsed.marker is not None or parsed.url:
        return None
    if parsed.specifier.contains(dist.version, prereleases=True):
        return None
    return f"{dist.metadata['Name']} {dist.version} is installed here"


def refuse_conflicts(requirements: Iterable[str], pinned: Iterable[str], pipeline: str) -> None:
    """A declared requirement the pinned, installed version does not satisfy is an error."""
    names = set(pinned)
    for requirement in requirements:
        found = conflict(requirement) if requirement_name(requirement) in names else None
        if found:
            msg = (
                f"pipeline {pipeline!r}: requirement {requirement!r} conflicts with the code the "
                f"bundle pins: {found} (what local runs use); install a version that satisfies "
                "it, or change the requirement"
            )
            raise CompilationError(msg)


__all__ = [
    "check_requirements",
    "display_name",
    "distribution_of",
    "normal",
    "pin",
    "refuse_conflicts",
    "requirement_name",
    "top_level_names",
    "with_dependencies",
]
