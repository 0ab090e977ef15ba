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
from glacier.errors import CompilationError


class MultiCloudCompiler(Compiler):
    """Compile across providers: one placement, one stack per provider, cross-cloud warnings."""

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
        if self.enable_cross_cloud_warnings:
            warnings = [*self.transfers(job), *warnings]
        return Infrastructure(pipeline=job.spec.name, stacks=stacks, warnings=warnings)

    def transfers(self, job: CompileInput) -> list[CrossCloudTransfer]:
        """Every (dataset, reader) pair whose data lives on another provider than the reader."""
        found = []
        where = job.placement
        for ds in job.spec.datasets:
            home = where.datasets[ds.name]
            producer = ds.producer or "(source)"
            if ds.producer is not None and where.tasks[ds.producer] != home:
                found.append(
                    self._transfer(
                        ds.name, producer, f"{ds.name} storage", where.tasks[ds.producer], home
                    )
                )
            for consumer in ds.consumers:
                if where.tasks[consumer] != home:
                    found.append(
                        self._transfer(ds.name, producer, consumer, home, where.tasks[consumer])
                    )
        return found

    def _transfer(
        self, ds: str, producer: str, consumer: str, src: str, dst: str
    ) -> CrossCloudTransfer:
        return CrossCloudTransfer(
            dataset=ds,
            producer=producer,
            consumer=consumer,
            from_provider=src,
            to_provider=dst,
            est_cost_per_gb_usd=self.providers[src].egress_cost_per_gb_usd,
        )


__all__ = ["MultiCloudCompiler"]
