"""Which work bucket holds each run's intermediate dataset, so every bucket policy deploys.

Each task reaches a dataset through conditional bindings of its own service account on the
bucket holding it (:mod:`glacier_gcp.iam`). IAM bounds one bucket's policy:

- at most 1,500 principals, each occurrence counted (about two per task on one shared
  bucket), and fewer when the bindings carry conditions: Google advises at most 100
  conditional bindings in one policy, beyond which it may exceed the policy's size limit;
- at most 20 bindings of one role and principal that differ only in their condition: a task
  reading many per-run datasets (three per binding, within 12 logical operators) fills them
  at about 60 inputs.

The intermediate datasets are therefore packed, in the pipeline's order, into as few work
buckets as keep each within 100 conditional bindings and every task within 20 per role; a
dataset whose own readers need more than 100 gets a bucket of its own (up to the hard 1,500).
The first is the pipeline's ``work`` bucket (it
also holds the function sources), the others ``work-2``, ``work-3``... Grants do not change:
each task still reaches exactly its keys, now spread over the buckets that hold them.
Buckets the user names (``GCS(bucket=...)``) cannot be split: a policy over the limits there
is refused at compile time, naming the bucket and the fix (see
``docs/decisions/136-gcs-policies-within-limits-at-any-size.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from glacier.compilation.grants import Grant, dataset_grants
from glacier.compilation.layout import ephemeral_key
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, TaskIR
from glacier_gcp.iam import (
    MAX_CONDITIONAL_BINDINGS,
    MAX_POLICY_PRINCIPALS,
    READ_ROLE,
    Binding,
    count_bindings,
)

#: Conditional bindings one work bucket's policy is packed to: the most Google advises (more
#: may exceed the policy's size limit before its 1,500 principals).
WORK_BUCKET_BINDINGS = 100

Use = tuple[str, Literal["read", "write"]]  # (task, mode)


@dataclass
class _Shard:
    """One work bucket being filled: its datasets and each task's grants on it."""

    datasets: list[str] = field(default_factory=list)
    grants: dict[Use, list[Grant]] = field(default_factory=dict)
    counts: dict[Use, int] = field(default_factory=dict)
    principals: int = 0

    def counts_with(self, uses: Mapping[Use, list[Grant]]) -> dict[Use, int]:
        """Each affected task's binding count if ``uses`` joined this bucket."""
        return {u: count_bindings([*self.grants.get(u, ()), *g], u[1]) for u, g in uses.items()}

    def fits(self, counts: Mapping[Use, int], budget: int = WORK_BUCKET_BINDINGS) -> bool:
        """Whether the bucket stays within ``budget`` bindings, each task within 20 a role."""
        added = sum(n - self.counts.get(u, 0) for u, n in counts.items())
        within = all(n <= MAX_CONDITIONAL_BINDINGS for n in counts.values())
        return within and self.principals + added <= budget

    def add(self, dataset: str, uses: Mapping[Use, list[Grant]], counts: Mapping[Use, int]) -> None:
        self.datasets.append(dataset)
        self.principals += sum(n - self.counts.get(u, 0) for u, n in counts.items())
        for use, grants in uses.items():
            self.grants.setdefault(use, []).extend(grants)
        self.counts.update(counts)


def _uses(ds: DatasetIR, tasks: Sequence[TaskIR]) -> dict[Use, list[Grant]]:
    """Each task's grants on ``ds`` (its producer's write, its readers' read and list)."""
    found: dict[Use, list[Grant]] = {}
    modes: tuple[Literal["read", "write"], ...] = ("read", "write")
    for t in tasks:
        for mode, names in zip(modes, (t.input_datasets, t.outputs), strict=True):
            if ds.name in names:
                key = ephemeral_key(ds)
                found[(t.name, mode)] = list(dataset_grants(ds.name, "work", key, ds.format, mode))
    return found


def shard_ephemeral(
    ephemeral: Sequence[DatasetIR], tasks: Sequence[TaskIR]
) -> list[tuple[str, ...]]:
    """``ephemeral`` dataset names in consecutive groups, one per work bucket (at least one)."""
    shards = [_Shard()]
    for ds in ephemeral:
        uses = _uses(ds, tasks)
        counts = shards[-1].counts_with(uses)
        if not shards[-1].fits(counts) and shards[-1].datasets:
            shards.append(_Shard())
            counts = shards[-1].counts_with(uses)
        if not shards[-1].fits(counts, MAX_POLICY_PRINCIPALS):
            msg = (
                f"dataset {ds.name!r} is used by {len(uses)} tasks, whose bindings alone would "
                f"name {sum(counts.values())} principals in one bucket policy, over the "
                f"{MAX_POLICY_PRINCIPALS} GCS allows; split its readers"
            )
            raise CompilationError(msg)
        shards[-1].add(ds.name, uses, counts)
    return [tuple(s.datasets) for s in shards]


def check_policies(bindings: Iterable[tuple[str, Binding]], names: Mapping[str, str]) -> None:
    """Every bucket policy the stack writes stays within IAM's limits; ``bindings`` are
    (task, binding) pairs, ``names`` each bucket variable's name as the user knows it."""
    principals: dict[str, int] = {}
    same: dict[tuple[str, str, str], int] = {}
    for task, b in bindings:
        principals[b.bucket] = principals.get(b.bucket, 0) + 1
        same[(b.bucket, b.role, task)] = same.get((b.bucket, b.role, task), 0) + 1
    for (bucket, role, task), count in sorted(same.items()):
        if count > MAX_CONDITIONAL_BINDINGS:
            verb = "reads" if role == READ_ROLE else "writes"
            msg = (
                f"task {task!r} {verb} so many datasets in GCS bucket {names[bucket]!r} that it "
                f"needs {count} conditional bindings of {role}, over the "
                f"{MAX_CONDITIONAL_BINDINGS} IAM allows for one role and principal; store "
                "those datasets in several buckets (GCS(bucket=...)) or split the task"
            )
            raise CompilationError(msg)
    for bucket, count in sorted(principals.items()):
        if count > MAX_POLICY_PRINCIPALS:
            msg = (
                f"GCS bucket {names[bucket]!r}: its IAM policy would name {count} principals "
                f"(one per task binding), over the {MAX_POLICY_PRINCIPALS} GCS allows; store "
                "its datasets in several buckets (GCS(bucket=...))"
            )
            raise CompilationError(msg)


__all__ = ["WORK_BUCKET_BINDINGS", "check_policies", "shard_ephemeral"]
