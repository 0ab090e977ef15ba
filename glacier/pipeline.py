"""``Pipeline``: a named set of tasks, validated into a DAG on demand.

A pipeline is mutable while it is being declared (``pipeline.task(...)``, ``pipeline.add``);
everything derived from it (the DAG, the IR) is rebuilt when the task list changes and cached
otherwise, so introspection is cheap.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from glacier.compilation.cron import check_schedule
from glacier.compilation.distributions import check_requirements
from glacier.compute import ComputeResource
from glacier.dataset import Dataset
from glacier.errors import DefinitionError, GlacierError, GlacierWarning
from glacier.executor import Executor, LocalExecutor, RunResult
from glacier.graph import DAG, build_dag
from glacier.ir import PipelineIR
from glacier.task import Task, _caller_scope, task
from glacier.validated import Validated, build_ir

if TYPE_CHECKING:
    from glacier.compilation import Compiler, Infrastructure

_PIPELINE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def _task_list(tasks: object, pipeline: str) -> Iterable[Task]:
    """``tasks`` as an iterable, or a DefinitionError for the common slips (a name, one Task)."""
    if isinstance(tasks, str):
        msg = (
            f"Pipeline({tasks!r}): the first argument is the list of tasks, found a str; "
            f"pass the name by keyword: Pipeline(name={tasks!r})"
        )
        raise DefinitionError(msg)
    if isinstance(tasks, Task) or not isinstance(tasks, Iterable):
        hint = (
            f"Pipeline([{tasks.name}])"
            if isinstance(tasks, Task)
            else "Pipeline([extract, process])"
        )
        msg = f"pipeline {pipeline!r}: tasks must be a list of Tasks, found {tasks!r}; e.g. {hint}"
        raise DefinitionError(msg)
    return tasks


class Pipeline:
    """A set of tasks whose DAG is inferred from their Dataset annotations."""

    def __init__(
        self,
        tasks: Iterable[Task] = (),
        *,
        name: str = "pipeline",
        schedule: str | None = None,
        description: str = "",
        requirements: Iterable[str] = (),
    ) -> None:
        if not isinstance(name, str) or not _PIPELINE_NAME.fullmatch(name):
            msg = (
                f"Pipeline name {name!r} is invalid: expected 1-40 characters, a lowercase letter first, "
                "then lowercase letters, digits, '_' or '-'"
            )
            raise DefinitionError(msg)
        self.name = name
        self.schedule = check_schedule(schedule, f"pipeline {name!r}")
        if not isinstance(description, str):
            raise DefinitionError(
                f"pipeline {name!r}: description must be a str, found {description!r}"
            )
        self.description = description
        #: Distributions the cloud installs besides those the code imports (``"pkg>=1"``).
        self.requirements = check_requirements(requirements, name)
        self.module: str = sys._getframe(1).f_globals.get("__name__", "__main__")
        self._strays_checked = False
        self._source: str | None = None
        self._tasks: dict[int, Task] = {}  # by id(): registration order, O(1) membership
        self._dag: DAG | None = None
        self._validated: Validated | None = None
        for t in _task_list(tasks, name):
            self.add(t)

    @property
    def source(self) -> str | None:
        """The REF this pipeline was loaded from (set by glacier.loader), or None."""
        return self._source

    @source.setter
    def source(self, value: str | None) -> None:
        # The IR carries the source: a spec() made before the loader set it (a module that
        # validates or draws its pipeline at import) must not be served stale.
        if value != self._source:
            self._source = value
            self._validated = None

    # -- declaring -------------------------------------------------------------------------

    def add(self, t: Task) -> Task:
        """Register a task (the same Task object twice is a no-op)."""
        if not isinstance(t, Task):
            msg = f"pipeline {self.name!r}: expected a Task (a function decorated with @task), found {t!r}"
            raise DefinitionError(msg)
        if id(t) not in self._tasks:
            self._tasks[id(t)] = t
            self._dag = None
            self._validated = None
        return t

    def task(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        compute: ComputeResource | None = None,
        retries: int = 0,
        timeout: float | None = None,
        name: str | None = None,
        depends_on: Iterable[Task] = (),
        description: str | None = None,
    ) -> Any:
        """``@task(...)`` that also registers the task with this pipeline."""

        def register(f: Callable[..., Any], scope: Mapping[str, Any]) -> Task:
            created = task(
                compute=compute,
                retries=retries,
                timeout=timeout,
                name=name,
                depends_on=depends_on,
                description=description,
                _scope=scope,
            )(f)
            return self.add(created)

        if fn is not None:
            return register(fn, _caller_scope(1))

        def decorate(f: Callable[..., Any]) -> Task:
            # The scope that applies the decorator (see glacier.task.task).
            return register(f, _caller_scope(1))

        return decorate

    # -- validation and introspection ------------------------------------------------------

    @property
    def dag(self) -> DAG:
        """The validated DAG (raises a GlacierError subclass when the pipeline is invalid)."""
        if self._dag is None:
            self._dag = build_dag(list(self._tasks.values()), self.name)
        return self._dag

    def validate(self) -> Pipeline:
        """Check the whole pipeline; returns it so calls chain."""
        _ = self.dag
        return self

    @property
    def tasks(self) -> tuple[Task, ...]:
        """Tasks in topological order, ties broken by name."""
        return tuple(self.dag.tasks.values())

    @property
    def datasets(self) -> tuple[Dataset, ...]:
        """Every dataset the tasks read or write, sorted by name."""
        return tuple(self.dag.datasets.values())

    @property
    def sources(self) -> tuple[Dataset, ...]:
        """Datasets no task produces: the pipeline's external inputs."""
        return tuple(self.dag.datasets[n] for n in self.dag.sources)

    @property
    def sinks(self) -> tuple[Dataset, ...]:
        """Datasets no task reads: the pipeline's final outputs."""
        return tuple(self.dag.datasets[n] for n in self.dag.sinks)

    def stages(self) -> list[list[Task]]:
        """Tasks grouped into stages; the tasks of one stage can run in parallel."""
        return [[self.dag.tasks[n] for n in stage] for stage in self.dag.stages]

    def _names(self, x: Task | Dataset | str) -> tuple[set[str], set[str]]:
        """(tasks, datasets) named by ``x``, checked to belong to this pipeline."""
        dag = self.dag
        if not isinstance(x, Task | Dataset | str):
            msg = f"pipeline {self.name!r}: expected a Task, a Dataset or a name, found {x!r}"
            raise DefinitionError(msg)
        name = x if isinstance(x, str) else x.name
        if isinstance(x, Task) or (isinstance(x, str) and name in dag.tasks):
            if dag.tasks.get(name) is None or (isinstance(x, Task) and dag.tasks[name] is not x):
                raise DefinitionError(f"task {name!r} is not part of pipeline {self.name!r}")
            return {name}, set()
        if name not in dag.datasets:
            raise DefinitionError(f"pipeline {self.name!r} has no task or dataset named {name!r}")
        return set(), {name}

    def upstream(self, x: Task | Dataset | str, *, direct: bool = False) -> tuple[Task, ...]:
        """Tasks that must run before ``x`` (a Task, Dataset or name), in topological order."""
        dag = self.dag
        tasks, datasets = self._names(x)
        if datasets:
            producers = {dag.producer[d] for d in datasets if d in dag.producer}
            found = producers if direct else producers | dag.ancestors(producers)
        else:
            found = {u for t in tasks for u in dag.upstream[t]} if direct else dag.ancestors(tasks)
        return tuple(t for n, t in dag.tasks.items() if n in found)

    def downstream(self, x: Task | Dataset | str, *, direct: bool = False) -> tuple[Task, ...]:
        """Tasks that run after ``x`` because they depend on it, in topological order."""
        dag = self.dag
        tasks, datasets = self._names(x)
        if datasets:
            readers = {c for d in datasets for c in dag.consumers[d]}
            found = readers if direct else readers | dag.descendants(readers)
        else:
            found = (
                {d for t in tasks for d in dag.downstream[t]} if direct else dag.descendants(tasks)
            )
        return tuple(t for n, t in dag.tasks.items() if n in found)

    def select(self, *datasets: Dataset | str) -> Pipeline:
        """A new pipeline with only the tasks needed to produce ``datasets``."""
        names = [d if isinstance(d, str) else d.name for d in datasets]
        chosen = self.validated().select(names)
        sub = Pipeline(
            list(chosen.dag.tasks.values()),
            name=self.name,
            schedule=self.schedule,
            description=self.description,
            requirements=self.requirements,
        )
        sub.module, sub.source = self.module, self.source
        return sub

    def spec(self) -> PipelineIR:
        """The provider-neutral IR of this pipeline (see glacier.ir): immutable, built once
        until the task list changes, JSON round-trippable with ``glacier.ir.to_json``; what
        executors, compilers and ``glacier graph`` read."""
        return self.validated().ir

    def validated(self) -> Validated:
        """The validated DAG and IR, frozen: what executors and compilers take."""
        if self._validated is None:
            dag = self.dag
            ir = build_ir(
                dag,
                name=self.name,
                schedule=self.schedule,
                description=self.description,
                source=self.source,
                requirements=self.requirements,
            )
            self._validated = Validated(dag=dag, ir=ir, module=self.module, declared=self)
        return self._validated

    # -- doing -----------------------------------------------------------------------------

    def visualize(self, format: str | None = None, *, path: str | Path | None = None) -> str:
        """The DAG as mermaid (default), dot or text; with ``path``, written there instead (an
        image for ``.svg``/``.png``, else the text) and the path returned."""
        from glacier.visualize import render, write_graph

        if path is not None:
            return str(write_graph(self.spec(), path, format))
        return render(self.spec(), format or "mermaid")

    def run(self, executor: Executor | None = None, **options: Any) -> RunResult:
        """Run the pipeline (``LocalExecutor`` on Polars by default); ``options`` go to
        ``executor.run`` (``inputs``, ``params``, ``select``, ``force``, ``root``, ``env``)."""
        module = sys.modules.get(self.module)
        if module is not None:
            warn_stray_tasks(module)
        return (executor or LocalExecutor()).run(self, **options)

    def compile(self, compiler: Compiler) -> Infrastructure:
        """Compile to infrastructure code with a provider's compiler or a
        ``MultiCloudCompiler``."""
        return compiler.compile(self)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}: {len(self._tasks)} tasks>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebooks: the DAG as inline SVG (Graphviz), else the text graph."""
        from glacier.notebook import graph_bundle, text_bundle

        try:
            spec = self.spec()
        except GlacierError as exc:  # a view never raises: it shows what is wrong
            return text_bundle("pipeline", f"pipeline {self.name!r} does not validate: {exc}")
        return graph_bundle(spec)

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, item: object) -> bool:
        return id(item) in self._tasks


def _pipelines_of(module: ModuleType) -> list[Pipeline]:
    found: list[Pipeline] = []
    for value in vars(module).values():
        if isinstance(value, Pipeline) and not any(p is value for p in found):
            found.append(value)
    return found


def stray_tasks(module: ModuleType) -> list[str]:
    """Tasks a module defines with ``@task`` that none of its module-level Pipelines holds.

    ``@task`` (unlike ``@pipeline.task``) registers with no pipeline; in a module that
    declares one, such a task is most likely meant to be in it and would silently not run.
    """
    pipelines = _pipelines_of(module)
    held = {id(t) for p in pipelines for t in p._tasks.values()}
    return [
        name
        for name, value in vars(module).items()
        if pipelines
        and isinstance(value, Task)
        and getattr(value.fn, "__module__", None) == module.__name__
        and id(value) not in held
    ]


def warn_stray_tasks(module: ModuleType) -> None:
    """Warn about each task :func:`stray_tasks` finds in ``module``, once for its pipelines
    (the CLI checks when it loads the module, ``run()`` checks again)."""
    pipelines = _pipelines_of(module)
    if all(p._strays_checked for p in pipelines):
        return
    for p in pipelines:
        p._strays_checked = True
    first = next((n for n, v in vars(module).items() if isinstance(v, Pipeline)), "pipeline")
    for name in stray_tasks(module):
        msg = (
            f"task {name!r} in module {module.__name__!r} is in no pipeline: it is decorated "
            f"with @task, not @{first}.task, so no run includes it; use @{first}.task, or "
            f"list it in Pipeline([...])"
        )
        warnings.warn(msg, GlacierWarning, stacklevel=3)
