"""Least-privilege bucket access: the data flow's grants as conditional GCS role bindings.

The grants come from :mod:`glacier.compilation.grants` (a task reads exactly its inputs'
objects, writes and reads back exactly its outputs', lists only their keys). On GCS each
task's service account gets, per bucket it touches, bindings of two roles:

- ``roles/storage.objectViewer`` (get, list) for what it reads,
- ``roles/storage.objectUser`` (get, list, create, delete: an overwrite deletes the old
  object) for what it writes,

each with an IAM condition allowing exactly its keys. GCS evaluates object permissions on the
object, ``projects/_/buckets/B/objects/<key>``: an object is matched whole (``==``), a folder
(a Delta table) by its ``<key>/`` prefix, a per-run key ``runs/*/x`` by its ``runs/`` head
and ``/x`` tail. Listing is evaluated on the bucket, not on objects, so a condition on
``resource.name`` alone would refuse every listing; the list half of the condition reads the
prefix the request lists instead (the ``storage.googleapis.com/objectListPrefix`` request
attribute): a listing is allowed when it asks for a prefix inside the task's own keys, and
never for the whole bucket (see ``docs/decisions/131-gcs-listing-and-conditions.md``).

IAM takes at most 12 logical operators in one condition (a per-run clause spends one
``&&``, joining clauses one ``||`` each), so a task with many keys in one bucket gets several
bindings of the same role, each within that budget; IAM takes at most 20 such bindings for
one role and principal, which :mod:`glacier_gcp.shards` keeps to by spreading run data over
work buckets.

Clauses are plain data here; the deploy-time helper renders them into the CEL expression
once the bucket's name is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from glacier.compilation.grants import Grant, task_grants
from glacier.errors import CompilationError

READ_ROLE = "roles/storage.objectViewer"
WRITE_ROLE = "roles/storage.objectUser"
#: Logical operators (``&&``, ``||``) IAM allows in one condition expression.
MAX_CONDITION_OPERATORS = 12
#: Bindings of one role and principal on one resource that differ only in their condition.
MAX_CONDITIONAL_BINDINGS = 20
#: Principals (each occurrence counts) one bucket's IAM policy may name.
MAX_POLICY_PRINCIPALS = 1_500

ClauseKind = Literal["object", "folder", "per_run", "list", "list_per_run"]


@dataclass(frozen=True)
class Clause:
    """One alternative of a condition: ``head`` (and ``tail`` for a per-run key).

    ``object``: the object ``head``; ``folder``: every object under ``head/``; ``per_run``:
    objects starting ``head`` and ending ``tail``; ``list``: listing a prefix starting
    ``head``; ``list_per_run``: listing a prefix starting ``head`` and ending ``tail``.
    """

    kind: ClauseKind
    head: str
    tail: str = ""

    @property
    def operators(self) -> int:
        """Logical operators the clause spends in the rendered expression."""
        return 1 if self.kind in ("per_run", "list_per_run") else 0

    def glob(self) -> str:
        """The keys (or listed prefixes) the clause allows, as a glob."""
        if self.kind == "object":
            return self.head
        if self.kind == "folder":
            return f"{self.head}/*"
        if self.kind == "list":
            return f"{self.head}*"
        return f"{self.head}*{self.tail}"

    def as_data(self) -> list[object]:
        """The clause as the deploy-time helper takes it: ``[kind, head, tail]``."""
        return [self.kind, self.head, self.tail]


@dataclass(frozen=True)
class Binding:
    """One conditional role binding of a task's service account on one bucket."""

    bucket: str  # the bucket's generated variable
    role: str
    title: str
    clauses: tuple[Clause, ...]
    #: 1, or the number of this binding among its role's on the bucket (see ``split``).
    part: int = 1

    def describe(self) -> str:
        keys = ", ".join(c.glob() for c in self.clauses if not c.kind.startswith("list"))
        listed = ", ".join(c.glob() for c in self.clauses if c.kind.startswith("list"))
        text = f"{self.role} on gs://<{self.bucket}> objects {keys}"
        return f"{text}; listing {listed}" if listed else text


def _object_clause(grant: Grant) -> Clause:
    pattern = grant.pattern
    if grant.folder:
        if "*" in pattern.removesuffix("/*"):
            msg = (
                f"dataset {grant.dataset!r} is an ephemeral Delta table (a folder under each run's "
                "runs/<run id>/): a GCS IAM condition can scope a per-run object, not a per-run "
                "folder; give the dataset storage (ObjectStorage() or GCS(...)), or another format"
            )
            raise CompilationError(msg)
        return Clause("folder", pattern.removesuffix("/*"))
    if "*" in pattern:
        head, _, tail = pattern.partition("*")
        return Clause("per_run", head, tail)
    return Clause("object", pattern)


def _list_clause(grant: Grant) -> Clause:
    if "*" in grant.pattern:
        head, _, tail = grant.pattern.partition("*")
        return Clause("list_per_run", head, tail)
    return Clause("list", grant.pattern)


def _bindings(grants: Sequence[Grant], mode: str, role: str, task: str) -> list[Binding]:
    objects = [g for g in grants if g.mode == mode]
    datasets = {g.dataset for g in objects}
    by_bucket: dict[str, list[Clause]] = {}
    for g in objects:
        by_bucket.setdefault(g.container, []).append(_object_clause(g))
    for g in grants:
        if g.mode == "list" and g.dataset in datasets:
            by_bucket.setdefault(g.container, []).append(_list_clause(g))
    verb = "reads its inputs" if mode == "read" else "writes its outputs"
    found = []
    for bucket, clauses in sorted(by_bucket.items()):
        groups = split(tuple(dict.fromkeys(clauses)))
        for n, group in enumerate(groups, start=1):
            title = f"glacier {task} {verb}" + (
                f" ({n} of {len(groups)})" if len(groups) > 1 else ""
            )
            found.append(Binding(bucket, role, title, group, n))
    return found


def count_bindings(grants: Sequence[Grant], mode: Literal["read", "write"]) -> int:
    """How many bindings of ``mode``'s role one task's ``grants`` in one bucket take."""
    role = READ_ROLE if mode == "read" else WRITE_ROLE
    return len(_bindings(grants, mode, role, ""))


def split(clauses: tuple[Clause, ...]) -> list[tuple[Clause, ...]]:
    """``clauses`` in consecutive groups whose expressions stay within
    ``MAX_CONDITION_OPERATORS`` (an object's clause and its listing's stay together when
    they fit)."""
    groups: list[list[Clause]] = [[]]
    spent = -1
    for clause in clauses:
        cost = clause.operators + 1  # its own, and the ``||`` joining it
        if groups[-1] and spent + cost > MAX_CONDITION_OPERATORS:
            groups.append([])
            spent = -1
        groups[-1].append(clause)
        spent += cost
    return [tuple(g) for g in groups]


def task_bindings(
    task: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    locations: Mapping[str, tuple[str, str]],
    formats: Mapping[str, str],
) -> tuple[Binding, ...]:
    """Every binding one task's service account needs: reads, then writes, per bucket."""
    grants = task_grants(inputs, outputs, locations, formats)
    reads = _bindings(grants, "read", READ_ROLE, task)
    writes = _bindings(grants, "write", WRITE_ROLE, task)
    return (*reads, *writes)


__all__ = [
    "MAX_CONDITIONAL_BINDINGS",
    "MAX_CONDITION_OPERATORS",
    "MAX_POLICY_PRINCIPALS",
    "READ_ROLE",
    "WRITE_ROLE",
    "Binding",
    "Clause",
    "count_bindings",
    "split",
    "task_bindings",
]
