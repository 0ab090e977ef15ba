"""The pipelines the suite compiles, their DAGs as plain data, and the parametrizations.

A case is a provider-neutral pipeline: the samples under ``tests/pipelines/`` and generated
pipelines of 10, 100 and 1,000 tasks (the compile benchmark's binary tree of serverless
tasks, plus one container task reading every leaf: a wide fan-in). The DAG each test compares
against is read through the public ``Pipeline`` API only.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glacier import Pipeline

from .providers import PROVIDERS, load

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "compile.py"


@dataclass(frozen=True)
class Case:
    """A pipeline to compile: a sample module (``ref``) or a generated one (``size`` tasks)."""

    name: str
    ref: str = ""
    size: int = 0
    series_parallel: bool = True

    def __str__(self) -> str:
        return self.name


SHOP = Case("shop", str(PIPELINES / "runtime_shop.py"))
FEATURES = Case("features", str(PIPELINES / "conformance_features.py"))
CROSSED = Case("crossed", str(PIPELINES / "conformance_crossed.py"), series_parallel=False)
HOSTILE = Case("hostile", str(PIPELINES / "conformance_hostile.py") + ":pipeline")
BENIGN = Case("benign", str(PIPELINES / "conformance_hostile.py") + ":benign")
SAMPLES = (SHOP, FEATURES, CROSSED, HOSTILE)
#: A project of several modules, one importing a third-party package: for the bundle check.
PROJECT = Case("project", str(PIPELINES / "conformance_project.py"))
#: The longest names Glacier accepts everywhere: they fit, or the compiler refuses clearly.
LONG_NAMES = Case("long-names", str(PIPELINES / "conformance_long_names.py"))
SCALES = tuple(Case(f"scale-{n}", size=n) for n in (10, 100, 1000))
#: The shapes issue 11 saw exceed a provider limit: 80 tasks, a serverless task reading 30
#: stored datasets, a container task with 40 stored inputs.
WIDE = (
    Case("scale-80", size=80),
    Case("wide-reads", str(PIPELINES / "conformance_wide_reads.py")),
    Case("wide-container", str(PIPELINES / "conformance_wide_container.py")),
)


def params(check: str, cases: Iterable[Case], *extra: Iterable[Any]) -> list[Any]:
    """``(provider, case, *extra)`` parametrizations; a provider's known gap is a strict xfail.

    ``check`` names the check for ``ProviderAdapter.known_gap`` (with the last extra value
    appended when given, e.g. ``iam-role-inline-policies``).
    """
    found = []
    for provider, case, *more in itertools.product(PROVIDERS, cases, *extra):
        reason = load(provider).known_gap(more[-1] if more else check, case.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        ident = "-".join([provider, case.name, *map(str, more)])
        found.append(pytest.param(provider, case, *more, marks=marks, id=ident))
    return found


def provider_params(check: str) -> list[Any]:
    """One parametrization per provider, for a check over all samples at once."""
    found = []
    for provider in PROVIDERS:
        reason = load(provider).known_gap(check, "samples")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        found.append(pytest.param(provider, marks=marks, id=provider))
    return found


# -- generated pipelines -----------------------------------------------------------------------


def write_scale_module(n: int, folder: Path) -> Path:
    """An ``n``-task pipeline module: the benchmark's tree of ``n - 1`` tasks, then ``gather``,
    a container task reading every leaf's dataset (wide fan-in: half the tasks at any size).

    Task ``t<i>`` reads ``d<(i-1)//2>``, so its children are ``t<2i+1>`` and ``t<2i+2>``.
    """
    spec = importlib.util.spec_from_file_location("glacier_compile_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    tree = n - 1
    path = folder / f"{benchmark.write_module(tree, folder)}.py"
    leaves = [i for i in range(1, tree + 1) if 2 * i + 1 > tree]
    inputs = ", ".join(f"x{i}: d{i}" for i in leaves)
    path.write_text(
        path.read_text()
        + '\n\ngathered = Dataset("gathered", storage=ObjectStorage())\n\n\n'
        + f"@pipeline.task(compute=compute.container())\ndef gather({inputs}) -> gathered:\n"
        + f"    return x{leaves[0]}\n"
    )
    return path


# -- the DAG as plain data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Dag:
    """Tasks, what each reads and writes, and what each must run after (data and depends_on)."""

    tasks: tuple[str, ...]
    reads: dict[str, frozenset[str]]
    writes: dict[str, frozenset[str]]
    ancestors: dict[str, frozenset[str]]

    def related(self, a: str, b: str) -> bool:
        return a in self.ancestors[b] or b in self.ancestors[a]


def dag_of(pipeline: Pipeline) -> Dag:
    reads: dict[str, set[str]] = {t.name: set() for t in pipeline.tasks}
    writes: dict[str, set[str]] = {t.name: set() for t in pipeline.tasks}
    for dataset in pipeline.datasets:
        for task in pipeline.upstream(dataset, direct=True):
            writes[task.name].add(dataset.name)
        for task in pipeline.downstream(dataset, direct=True):
            reads[task.name].add(dataset.name)
    ancestors: dict[str, frozenset[str]] = {}
    for task in pipeline.tasks:  # topological order: parents first
        parents = [p.name for p in pipeline.upstream(task, direct=True)]
        ancestors[task.name] = frozenset(parents).union(*(ancestors[p] for p in parents))
    return Dag(
        tasks=tuple(ancestors),
        reads={t: frozenset(d) for t, d in reads.items()},
        writes={t: frozenset(d) for t, d in writes.items()},
        ancestors=ancestors,
    )


def n_free(dag: Dag) -> bool:
    """Whether the DAG is series-parallel: no four tasks ordered like an "N" (a<c, b<c, b<d,
    nothing else between them; Valdes, Tarjan and Lawler 1982). Brute force: small DAGs only."""
    for a, b, c, d in itertools.permutations(dag.tasks, 4):
        if (
            a in dag.ancestors[c]
            and b in dag.ancestors[c]
            and b in dag.ancestors[d]
            and not (dag.related(a, b) or dag.related(a, d) or dag.related(c, d))
        ):
            return False
    return True
