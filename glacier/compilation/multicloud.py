"""``MultiCloudCompiler``: one pipeline, several providers, one stack per provider.

Placement is shared: provider-specific resources go to their provider, generic ones to
``default_provider``. Each provider compiler then builds the stack for what was placed on
it. Every dataset that crosses providers (written on one, read on another) is reported as
a :class:`CrossCloudTransfer`, because egress is billed per GB and is easy to miss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from glacier.compilation.base import CompileInput, Compiler, StackBuild
from glacier.compilation.guide import MultiLayout, multi_readme
from glacier.compilation.handoff import automatic_hops, run_order
from glacier.compilation.infrastructure import (
    CompilationWarning,
    CrossCloudTransfer,
    Infrastructure,
    ResolvedResource,
    Stack,
)
from glacier.compilation.links import (
    RemoteAccess,
    accesses_from,
    check_kept,
    deploy_order,
    remote_accesses,
)
from glacier.compilation.naming import kebab
from glacier.compilation.registry import available_providers, get_provider
from glacier.compilation.transfers import compiler_region, find_transfers, monthly_transfer_cost
from glacier.errors import CompilationError


class MultiCloudCompiler(Compiler):
    """Compile across providers: one stack per provider, one shared placement."""

    provider = "multi"

    def __init__(
        self,
        providers: Mapping[str, Compiler],
        default_provider: str,
        *,
        enable_cross_cloud_warnings: bool = True,
    ) -> None:
        if not providers:
            raise CompilationError("MultiCloudCompiler needs at least one provider compiler")
        for name, compiler in providers.items():
            if not isinstance(compiler, Compiler) or isinstance(compiler, MultiCloudCompiler):
                msg = f"MultiCloudCompiler: providers[{name!r}] must be a provider compiler, found {compiler!r}"
                raise CompilationError(msg)
            if compiler.provider != name:
                msg = (
                    f"MultiCloudCompiler: providers[{name!r}] is a {compiler.provider!r} compiler; "
                    f"key it as {compiler.provider!r}"
                )
                raise CompilationError(msg)
        if default_provider not in providers:
            msg = (
                f"MultiCloudCompiler: default_provider {default_provider!r} is not one of the "
                f"providers {sorted(providers)}"
            )
            raise CompilationError(msg)
        self.providers = dict(providers)
        self.default_provider = default_provider
        self.enable_cross_cloud_warnings = enable_cross_cloud_warnings

    def targets(self) -> tuple[str, ...]:
        return tuple(sorted(self.providers))

    def default_target(self) -> str:
        return self.default_provider

    def build_stack(self, job: CompileInput) -> StackBuild:  # pragma: no cover - not used
        raise NotImplementedError("MultiCloudCompiler builds one stack per provider")

    def compile_placed(self, job: CompileInput) -> Infrastructure:
        """One stack per provider in use; only the stack whose orchestrator runs first keeps
        the schedule (see :mod:`glacier.compilation.handoff`)."""
        spec, placement = job.spec, job.placement
        used = sorted(set(placement.tasks.values()) | set(placement.datasets.values()))
        runs = run_order(spec, placement)
        accesses = remote_accesses(spec, placement)
        check_kept(spec, accesses)
        for name in used:  # a provider declaring the clouds it reaches is checked here, at once
            reaches = _reaches(name)
            if reaches is not None:
                accesses_from(spec, placement, name, reaches)
        hops = automatic_hops(runs)
        deploy = deploy_order(used, accesses, hops)
        unscheduled = replace(job, spec=replace(spec, schedule=None))
        stacks: dict[str, Stack] = {}
        warnings: list[CrossCloudTransfer | CompilationWarning] = []
        for name in used:
            first = not runs or name == runs[0]
            built = self.providers[name].build_stack(job if first else unscheduled)
            stacks[name] = _linked(built.stack, spec.name, name, accesses)
            warnings.extend(built.warnings)
        transfers = self.transfers(job)
        cost = monthly_transfer_cost(spec, transfers)
        if self.enable_cross_cloud_warnings:
            warnings = [*transfers, *warnings]
        infra = Infrastructure(
            pipeline=spec.name,
            stacks=stacks,
            warnings=warnings,
            transfer_cost_usd=cost.usd,
            transfer_cost_assumptions=cost.assumptions,
        )
        scheduled = runs[0] if runs and spec.schedule else None
        layout = MultiLayout(
            spec.name, stacks, deploy, runs, accesses, scheduled, infra.summary(), hops
        )
        infra.guide = multi_readme(layout)
        return infra

    def regions(self) -> dict[str, str | None]:
        """Provider -> the region its compiler compiles for (None: it has none)."""
        return {name: compiler_region(c) for name, c in self.providers.items()}

    def transfers(self, job: CompileInput) -> list[CrossCloudTransfer]:
        """Every edge where data leaves a provider or a region: a read of storage on another
        provider (or region), or a write into it, priced by the side the data leaves (see
        :mod:`glacier.compilation.transfers`)."""
        return find_transfers(job.spec, job.placement, self.regions())


def _reaches(provider: str) -> tuple[str, ...] | None:
    """The clouds whose data ``provider``'s tasks can reach, when its provider declares them
    (``reaches``); None leaves the check to its compiler."""
    if provider not in available_providers():
        return None
    reaches = getattr(get_provider(provider), "reaches", None)
    return None if reaches is None else tuple(reaches)


def _linked(stack: Stack, pipeline: str, provider: str, accesses: Sequence[RemoteAccess]) -> Stack:
    """``stack`` as one of several: its Pulumi project named ``<pipeline>-<provider>`` (two
    projects of one name would share their stacks, and the others find it by this name), and
    each task's permissions listing what it may do on another provider."""
    files = dict(stack.files)
    head, _, rest = files.get("Pulumi.yaml", "").partition("\n")
    if head == f"name: {pipeline}":
        files["Pulumi.yaml"] = f"name: {pipeline}-{provider}\n{rest}"
    tasks = tuple(
        replace(t, permissions=(*t.permissions, *_remote_permissions(t.task, accesses)))
        for t in stack.tasks
    )
    roles = _federated_roles(pipeline, [a for a in accesses if a.task_provider == provider])
    return replace(stack, files=files, tasks=tasks, resources=(*stack.resources, *roles))


def _federated_roles(pipeline: str, accesses: Sequence[RemoteAccess]) -> list[ResolvedResource]:
    """One identity per (task, remote provider), created in the other cloud by the task's
    stack: the resources a plan lists for it."""
    found: dict[tuple[str, str], list[str]] = {}
    for a in accesses:
        found.setdefault((a.task, a.provider), []).append(a.dataset)
    return [
        ResolvedResource(provider, "federated_role", f"{kebab(pipeline, task)}-{provider}", {
            "task": task, "created_by": accesses[0].task_provider, "datasets": sorted(datasets),
        })
        for (task, provider), datasets in sorted(found.items())
    ]  # fmt: skip


def _remote_permissions(task: str, accesses: Sequence[RemoteAccess]) -> list[str]:
    return [
        f"federated role on {a.provider} (trusts only this task's identity): {g.mode} "
        f"{a.dataset} objects {g.pattern}"
        for a in accesses
        if a.task == task
        for g in a.grants
    ]


__all__ = ["MultiCloudCompiler"]
