"""Least-privilege blob access: the data flow's grants as conditioned role assignments.

The grants come from :mod:`glacier.compilation.grants` (a task reads exactly its inputs'
blobs, writes and reads back exactly its outputs', lists only their keys). On Azure each
task's managed identity gets, per container it touches, at most two role assignments scoped
to that container:

- **Storage Blob Data Reader** for what it reads,
- **Storage Blob Data Contributor** (read, write, delete) for what it writes,

each narrowed by an attribute-based (ABAC, condition version 2.0) condition: every data
action the role allows on a blob is allowed only for the task's own keys (the blob's
``path``: ``StringEquals`` for one object, ``StringStartsWith '<key>/'`` for a folder,
``StringLike`` for a per-run key ``runs/*/x``), and listing only for prefixes inside them
(the request's ``prefix``; a listing of the whole container asks for none and is refused).
Conditions are complete text at compile time: container names and keys are known here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from glacier.compilation.grants import Grant, task_grants
from glacier.compilation.layout import RUN_ID_PLACEHOLDER
from glacier.errors import CompilationError
from glacier_azure.runtime import outcome_key

READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"  # Storage Blob Data Reader
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"  # Storage Blob Data Contributor
CONDITION_VERSION = "2.0"
_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
PATH = f"@Resource[{_BLOBS}:path]"
PREFIX = f"@Request[{_BLOBS}:prefix]"
_READ = f"ActionMatches{{'{_BLOBS}/read'}}"
_LIST = f"({_READ} AND SubOperationMatches{{'Blob.List'}})"
#: The blob data actions each role allows besides listing (all limited to the task's keys).
ROLE_ACTIONS = {
    READER: (f"({_READ} AND NOT SubOperationMatches{{'Blob.List'}})",),
    CONTRIBUTOR: (
        f"({_READ} AND NOT SubOperationMatches{{'Blob.List'}})",
        f"ActionMatches{{'{_BLOBS}/write'}}",
        f"ActionMatches{{'{_BLOBS}/delete'}}",
        f"ActionMatches{{'{_BLOBS}/add/action'}}",
        f"ActionMatches{{'{_BLOBS}/move/action'}}",
    ),
}


@dataclass(frozen=True)
class Assignment:
    """One role assignment of a task's identity on one container, with its condition."""

    container: str  # the container's generated variable
    role: str  # role definition id
    description: str
    condition: str
    keys: tuple[str, ...]  # what it allows, for the plan
    listed: tuple[str, ...]

    def describe(self) -> str:
        role = (
            "Storage Blob Data Reader" if self.role == READER else "Storage Blob Data Contributor"
        )
        text = f"{role} on <{self.container}> blobs {', '.join(self.keys)}"
        return f"{text}; listing {', '.join(self.listed)}" if self.listed else text


def _literal(text: str, grant: Grant) -> str:
    if "'" in text:
        msg = (
            f"dataset {grant.dataset!r}: its key {text!r} holds a quote, which an Azure role "
            "assignment condition cannot express; remove it from the storage prefix"
        )
        raise CompilationError(msg)
    return f"'{text}'"


def path_clause(grant: Grant) -> str:
    """The condition clause matching the blobs of one read or write grant."""
    pattern = grant.pattern
    if grant.folder and "*" not in pattern.removesuffix("/*"):
        return f"{PATH} StringStartsWith {_literal(pattern.removesuffix('*'), grant)}"
    if "*" in pattern:
        return f"{PATH} StringLike {_literal(pattern, grant)}"
    return f"{PATH} StringEquals {_literal(pattern, grant)}"


def prefix_clause(grant: Grant) -> str:
    """The condition clause matching the listings one list grant allows."""
    if "*" in grant.pattern:
        return f"{PREFIX} StringLike {_literal(grant.pattern + '*', grant)}"
    return f"{PREFIX} StringStartsWith {_literal(grant.pattern, grant)}"


def condition(role: str, paths: Sequence[str], prefixes: Sequence[str]) -> str:
    """The ABAC condition: the role's blob actions only on ``paths``, listing only under
    ``prefixes`` (none: no listing)."""
    actions = " AND ".join(f"!{a}" if a.startswith("(") else f"!({a})" for a in ROLE_ACTIONS[role])
    blobs = f"(({actions}) OR ({' OR '.join(paths)}))"
    listing = f"(!{_LIST})" if not prefixes else f"((!{_LIST}) OR ({' OR '.join(prefixes)}))"
    return f"{blobs} AND {listing}"


def _assignments(grants: Sequence[Grant], mode: str, role: str, task: str) -> list[Assignment]:
    objects = [g for g in grants if g.mode == mode]
    datasets = {g.dataset for g in objects}
    by_container: dict[str, tuple[list[Grant], list[Grant]]] = {}
    for g in objects:
        by_container.setdefault(g.container, ([], []))[0].append(g)
    for g in grants:
        if g.mode == "list" and g.dataset in datasets:
            by_container.setdefault(g.container, ([], []))[1].append(g)
    verb = "reads its inputs" if mode == "read" else "writes its outputs"
    found = []
    for container, (paths, lists) in sorted(by_container.items()):
        clauses = list(dict.fromkeys(path_clause(g) for g in paths))
        prefixes = list(dict.fromkeys(prefix_clause(g) for g in lists))
        found.append(Assignment(
            container, role, f"glacier {task} {verb}", condition(role, clauses, prefixes),
            tuple(dict.fromkeys(g.pattern for g in paths)),
            tuple(dict.fromkeys(f"{g.pattern}*" for g in lists)),
        ))  # fmt: skip
    return found


def outcome_condition(task: str | None) -> str:
    """The condition of a job's outcome access (decision 145): ``task``'s identity writes only
    ``runs/*/_outcomes/<task>.json``; the Logic App's (``None``) reads only what is under
    ``runs/*/_outcomes/``. Neither may list."""
    pattern = outcome_key(task or "*").replace(RUN_ID_PLACEHOLDER, "*")
    key = pattern if task else pattern.removesuffix(".json")
    return condition(CONTRIBUTOR if task else READER, [f"{PATH} StringLike '{key}'"], [])


def task_assignments(
    task: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    locations: Mapping[str, tuple[str, str]],
    formats: Mapping[str, str],
) -> tuple[Assignment, ...]:
    """Every role assignment one task's identity needs: reads, then writes, per container."""
    grants = task_grants(inputs, outputs, locations, formats)
    return (*_assignments(grants, "read", READER, task),
            *_assignments(grants, "write", CONTRIBUTOR, task))  # fmt: skip


__all__ = [
    "CONDITION_VERSION",
    "CONTRIBUTOR",
    "READER",
    "Assignment",
    "condition",
    "outcome_condition",
    "path_clause",
    "prefix_clause",
    "task_assignments",
]
