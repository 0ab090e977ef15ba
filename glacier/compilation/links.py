"""Cross-cloud links: what a task needs to reach data stored on another provider.

A task placed on one provider that reads or writes a dataset stored on another gets, in its
own provider's stack: the dataset's object address (the bucket the data stack exports,
read through a Pulumi ``StackReference``, never copied by hand) and a short-lived credential
for the data's cloud through workload identity federation, limited to exactly the neutral
grants of :mod:`glacier.compilation.grants` for that dataset (read its objects and list its
key, or write them). The task's stack owns that remote access (the role or binding in the
data's cloud is created by the stack of the task that uses it), so a reference always points
from a task stack to a data stack, and the data stacks deploy first (:func:`deploy_order`).

A provider supports a link when it knows how its tasks authenticate to the data's cloud
(:data:`FEDERATION`); any other link is a CompilationError naming the task, the dataset and
what is missing, not a stack that fails in the cloud.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from glacier.compilation.grants import Grant, dataset_grants
from glacier.compilation.layout import cloud_key
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import PipelineIR

#: The pipeline's stack on another provider is read through this Pulumi stack output:
#: ``{dataset: bucket or container name}``, exported by every provider's stack.
BUCKETS_OUTPUT = "buckets"


@dataclass(frozen=True)
class RemoteAccess:
    """Task ``task`` on ``task_provider`` reads or writes ``dataset`` stored on ``provider``.

    ``grants`` are the neutral grants for that access, with the dataset's name as their
    container (the task's stack resolves it to the bucket the data stack exports).
    """

    task: str
    task_provider: str
    dataset: str
    provider: str
    key: str
    grants: tuple[Grant, ...]

    @property
    def mode(self) -> str:
        return "write" if any(g.mode == "write" for g in self.grants) else "read"


def remote_accesses(spec: PipelineIR, placement: Placement) -> tuple[RemoteAccess, ...]:
    """Every (task, dataset) pair whose dataset is stored on another provider than the task
    runs on, reads before writes, in task order."""
    by_name = {d.name: d for d in spec.datasets}
    found = []
    for t in spec.tasks:
        here = placement.tasks[t.name]
        for mode, names in (("read", t.input_datasets), ("write", t.outputs)):
            for name in names:
                there = placement.datasets[name]
                if there == here:
                    continue
                ds = by_name[name]
                key = cloud_key(ds)
                grants = dataset_grants(name, name, key, ds.format, mode)  # type: ignore[arg-type]
                found.append(RemoteAccess(t.name, here, name, there, key, grants))
    return tuple(found)


def accesses_from(
    spec: PipelineIR, placement: Placement, provider: str, reachable: Collection[str]
) -> dict[str, tuple[RemoteAccess, ...]]:
    """Task -> its remote accesses, for the tasks on ``provider``; a link to a provider not in
    ``reachable`` (the clouds ``provider``'s tasks can authenticate to) is a CompilationError."""
    found: dict[str, list[RemoteAccess]] = {}
    for a in remote_accesses(spec, placement):
        if a.task_provider != provider:
            continue
        if a.provider not in reachable:
            verb = "writes" if a.mode == "write" else "reads"
            can = (
                f"can reach data on {', '.join(sorted(reachable))} only"
                if reachable
                else "cannot reach another provider's data"
            )
            msg = (
                f"pipeline {spec.name!r}: task {a.task!r} ({provider}) {verb} dataset "
                f"{a.dataset!r}, stored on {a.provider!r}; a {provider} task {can} (no workload "
                f"identity federation from {provider} to {a.provider} is built yet): store the "
                f"dataset on {provider!r}, or run the task on {a.provider!r}"
            )
            raise CompilationError(msg)
        found.setdefault(a.task, []).append(a)
    return {task: tuple(items) for task, items in found.items()}


def check_kept(spec: PipelineIR, accesses: Iterable[RemoteAccess]) -> None:
    """An ephemeral dataset lives under its run's id, and each provider's orchestrator names
    its own runs: a task on another provider would look for it under another id. Refused."""
    ephemeral = {d.name for d in spec.datasets if d.storage is None}
    for a in accesses:
        if a.dataset in ephemeral:
            msg = (
                f"pipeline {spec.name!r}: dataset {a.dataset!r} is ephemeral (kept per run in "
                f"the {a.provider} stack's intermediate bucket) but task {a.task!r} runs on "
                f"{a.task_provider}, whose runs have their own ids; give {a.dataset!r} storage "
                "(e.g. storage=ObjectStorage()) or run the task on the same provider"
            )
            raise CompilationError(msg)


def peers(accesses: Iterable[RemoteAccess]) -> dict[str, set[str]]:
    """Task stack -> the data stacks it reads through a StackReference."""
    found: dict[str, set[str]] = {}
    for a in accesses:
        found.setdefault(a.task_provider, set()).add(a.provider)
    return found


def deploy_order(
    stacks: Collection[str],
    accesses: Iterable[RemoteAccess],
    reads: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """The order of ``pulumi up``: a data stack before every stack whose tasks reach into it
    (they read its exported bucket names); ties by name. Two stacks reaching into each other
    is a CompilationError naming them and the way out."""
    needs: dict[str, set[str]] = {s: set() for s in stacks}
    needs |= {s: set(p) for s, p in peers(accesses).items()}
    for reader, read in reads:  # (stack, a stack whose outputs it reads)
        needs.setdefault(reader, set()).add(read)
    order: list[str] = []
    while len(order) < len(needs):
        ready = sorted(s for s in needs if s not in order and needs[s] <= set(order))
        if not ready:
            left = sorted(s for s in needs if s not in order)
            msg = (
                f"stacks {', '.join(left)} each have tasks that read or write data stored in "
                "the other, so neither can be deployed first (each reads the other's bucket "
                "names); store those datasets on the provider of the tasks that read and write "
                "them, or move the tasks so the data flows one way between providers"
            )
            raise CompilationError(msg)
        order.append(ready[0])
    return order


def by_task(accesses: Iterable[RemoteAccess]) -> Mapping[str, tuple[RemoteAccess, ...]]:
    found: dict[str, list[RemoteAccess]] = {}
    for a in accesses:
        found.setdefault(a.task, []).append(a)
    return {t: tuple(v) for t, v in found.items()}


__all__ = [
    "BUCKETS_OUTPUT",
    "RemoteAccess",
    "accesses_from",
    "by_task",
    "check_kept",
    "deploy_order",
    "peers",
    "remote_accesses",
]
