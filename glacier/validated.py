"""A validated pipeline as executors and compilers take it: its DAG and its IR, frozen.

``Pipeline`` is the mutable object users declare; everything downstream (the local executor,
the compilers) takes this snapshot instead, made once by ``pipeline.validated()``, and never
calls back into the pipeline. The DAG holds the task functions (what a local run calls and
what the function bundle must contain); the IR holds the same pipeline as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from glacier.errors import DefinitionError
from glacier.graph import DAG, build_dag
from glacier.ir import PipelineIR


@dataclass(frozen=True)
class Validated:
    """One validated pipeline: the DAG of its tasks and its IR, plus where it was declared."""

    dag: DAG
    ir: PipelineIR
    #: The module that declared the pipeline (the function bundle imports it from there).
    module: str
    #: The object the user declared: the bundle finds it again by identity among its
    #: module's globals, to reference it as ``module:attr``.
    declared: object = None

    @property
    def name(self) -> str:
        return self.ir.name

    def select(self, datasets: Iterable[str]) -> Validated:
        """Only the tasks needed to produce ``datasets`` (names), validated again."""
        names = list(datasets)
        unknown = [n for n in names if n not in self.dag.datasets]
        if unknown:
            known = ", ".join(self.dag.datasets)
            msg = f"pipeline {self.name!r} has no dataset {unknown[0]!r}; datasets: {known}"
            raise DefinitionError(msg)
        needed = self.dag.required_for(names)
        dag = build_dag([t for n, t in self.dag.tasks.items() if n in needed], self.name)
        ir = build_ir(
            dag,
            name=self.name,
            schedule=self.ir.schedule,
            description=self.ir.description,
            source=self.ir.source,
            requirements=self.ir.requirements,
        )
        return replace(self, dag=dag, ir=ir)


class Validates(Protocol):
    """Anything that hands over a :class:`Validated` snapshot (a ``Pipeline``)."""

    def validated(self) -> Validated: ...


def build_ir(
    dag: DAG,
    *,
    name: str,
    schedule: str | None,
    description: str,
    source: str | None,
    requirements: tuple[str, ...] = (),
) -> PipelineIR:
    """The IR of a validated DAG: datasets sorted by name, tasks in topological order."""
    return PipelineIR(
        name=name,
        schedule=schedule,
        description=description,
        source=source,
        requirements=requirements,
        datasets=tuple(
            ds.to_ir(producer=dag.producer.get(n), consumers=dag.consumers[n])
            for n, ds in dag.datasets.items()
        ),
        tasks=tuple(t.to_ir(upstream=dag.upstream[n]) for n, t in dag.tasks.items()),
        stages=dag.stages,
    )


__all__ = ["Validated", "Validates", "build_ir"]
