"""The ``Compiler`` base every provider compiler (and ``MultiCloudCompiler``) builds on.

``compile(pipeline)`` takes the pipeline's validated snapshot (its DAG and IR, see
:mod:`glacier.validated`) once and does the provider-neutral work: work out which code and
distributions the function bundle needs (and check, in a clean interpreter, that the bundle
imports), and place every resource. A
provider compiler only implements :meth:`Compiler.build_stack`, which turns the tasks and
datasets placed on it into a :class:`~glacier.compilation.infrastructure.Stack`. A
multi-cloud compiler calls ``build_stack`` on each provider with a shared placement.
"""

from __future__ import annotations

import gc
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from glacier.compilation.bundlecheck import import_check
from glacier.compilation.infrastructure import CompilationWarning, Infrastructure, Stack
from glacier.compilation.resolve import Placement, resolve
from glacier.compilation.sources import PipelineSource, locate_source
from glacier.compilation.transfers import compiler_region, find_transfers, monthly_transfer_cost
from glacier.ir import PipelineIR
from glacier.validated import Validated, Validates


@dataclass(frozen=True)
class CompileInput:
    """Everything a provider needs to build its stack."""

    spec: PipelineIR
    placement: Placement
    source: PipelineSource


@dataclass(frozen=True)
class StackBuild:
    """A provider's stack plus the warnings it raised while building it."""

    stack: Stack
    warnings: tuple[CompilationWarning, ...] = ()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of a compile.

    Compiling a wide pipeline allocates hundreds of thousands of acyclic objects (syntax tree
    nodes, statements, plans) that all stay alive until the text is printed; the collector
    traverses them again at every generation threshold and finds nothing (about a third of
    a 1,000-task compile, measured). Reference counting still frees everything; any cycle
    made meanwhile is collected once the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Compiler(ABC):
    """Compiles a pipeline into Pulumi projects. Subclass per provider."""

    #: The name of the provider this compiler targets (its registry key).
    provider: ClassVar[str]

    def targets(self) -> tuple[str, ...]:
        """Providers this compiler can place resources on."""
        return (self.provider,)

    def default_target(self) -> str:
        """Where generic resources go."""
        return self.provider

    def compile(self, pipeline: Validates) -> Infrastructure:
        """Compile ``pipeline``; raises CompilationError naming anything it cannot place."""
        return self.compile_validated(pipeline.validated())

    def compile_validated(self, validated: Validated) -> Infrastructure:
        """Compile a validated pipeline (its DAG and IR)."""
        with paused_gc():
            source = locate_source(validated)
            spec = source.rewrite(validated.ir)
            with import_check(validated.name, source, spec.requirements):
                placement = resolve(spec, self.default_target(), self.targets())
                job = CompileInput(spec=spec, placement=placement, source=source)
                return self.compile_placed(job)

    def compile_placed(self, job: CompileInput) -> Infrastructure:
        """Build this provider's stack for an already placed pipeline; data read or written
        in another region than the stack's is a transfer, priced and counted."""
        built = self.build_stack(job)
        regions = {self.provider: compiler_region(self)}
        transfers = find_transfers(job.spec, job.placement, regions)
        cost = monthly_transfer_cost(job.spec, transfers)
        return Infrastructure(
            pipeline=job.spec.name,
            stacks={self.provider: built.stack},
            warnings=[*transfers, *built.warnings],
            transfer_cost_usd=cost.usd,
            transfer_cost_assumptions=cost.assumptions,
        )

    @abstractmethod
    def build_stack(self, job: CompileInput) -> StackBuild:
        """The stack for the tasks and datasets ``job.placement`` puts on this provider."""


__all__ = ["CompileInput", "Compiler", "StackBuild", "paused_gc"]
