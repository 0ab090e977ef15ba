"""``MultiCloudCompiler``: one pipeline, several providers, one stack per provider.

Placement is shared: provider-specific resources go to their provider, generic ones to
``default_provider``. Each provider compiler then builds the stack for what was placed on
it. Every dataset that crosses providers (written on one, read on another) is reported as
a :class:`CrossCloudTransfer`, because egress is billed per GB and is easy to miss.
"""

from __future__ import annotations

from collections.abc import Mapping

from glacier.compilation.base import CompileInput, Compiler, StackBuild
from glacier.compilation.infrastructure import (
    CompilationWarning,
    CrossCloudTransfer,
    Infrastructure,
)
from glacier.compilation.transfers import find_transfers, monthly_transfer_cost
from glacier.errors import CompilationError


def compiler_region(compiler: Compiler) -> str | None:
    """The region (or location) a provider compiler compiles for, when it has one."""
    for attribute in ("region", "location"):
        value = getattr(compiler, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


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
        used = set(job.placement.tasks.values()) | set(job.placement.datasets.values())
        stacks = {}
        warnings: list[CrossCloudTransfer | CompilationWarning] = []
        for name in sorted(used):
            built = self.providers[name].build_stack(job)
            stacks[name] = built.stack
            warnings.extend(built.warnings)
        transfers = self.transfers(job)
        cost = monthly_transfer_cost(job.spec, transfers)
        if self.enable_cross_cloud_warnings:
            warnings = [*transfers, *warnings]
        return Infrastructure(
            pipeline=job.spec.name,
            stacks=stacks,
            warnings=warnings,
            transfer_cost_usd=cost.usd,
            transfer_cost_assumptions=cost.assumptions,
        )

    def regions(self) -> dict[str, str | None]:
        """Provider -> the region its compiler compiles for (None: it has none)."""
        return {name: compiler_region(c) for name, c in self.providers.items()}

    def transfers(self, job: CompileInput) -> list[CrossCloudTransfer]:
        """Every edge where data leaves a provider or a region: a read of storage on another
        provider (or region), or a write into it, priced by the side the data leaves (see
        :mod:`glacier.compilation.transfers`)."""
        return find_transfers(job.spec, job.placement, self.regions())


__all__ = ["MultiCloudCompiler", "compiler_region"]
