"""``Pipeline``: a named set of tasks, validated into a DAG on demand.

A pipeline is mutable while it is being declared (``pipeline.task(...)``, ``pipeline.add``);
everything derived from it (the DAG, the IR) is rebuilt when the task list changes and cached
otherwise, so introspection is cheap.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glacier.compute import ComputeResource
from glacier.dataset import Dataset
from glacier.errors import DefinitionError
from glacier.graph import DAG, build_dag
from glacier.ir import PipelineIR
from glacier.task import Task, _caller_scope, task

if TYPE_CHECKING:
    from glacier.compilation import Compiler, Infrastructure
    from glacier.executor import Executor, RunResult

_PIPELINE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,?#LW-]{1,64}")
_CRON_NAMES = re.compile(r"[A-Za-z]+")
_CRON_WORDS = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
               "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN", "L", "W", "LW"}  # fmt: skip


#: (field name, lowest, highest value) of the five cron fields, in order.
_CRON_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12),
                ("day-of-week", 0, 7))  # fmt: skip
_CRON_NUMBER = re.compile(r"[0-9]+")


def _cron_out_of_range(fields: list[str]) -> str | None:
    """The first number outside its field's range, described, or None.

    Only values are checked: a step (``*/90``) or an nth weekday (``MON#2``) is not a value.
    """
    for text, (what, low, high) in zip(fields, _CRON_RANGES, strict=True):
        for part in text.split(","):
            values = part.split("/")[0].split("#")[0]
            for number in _CRON_NUMBER.findall(values):
                if not low <= int(number) <= high:
                    return f"{what} {number} is out of range ({low}-{high})"
    return None


def check_schedule(schedule: object, pipeline: str) -> str | None:
    """A five-field cron expression (minute hour day-of-month month day-of-week), or None."""
    if schedule is None:
        return None
    fields = schedule.split(" ") if isinstance(schedule, str) else []
    ok = len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields)
    ok = ok and all(w.upper() in _CRON_WORDS for f in fields for w in _CRON_NAMES.findall(f))
    problem = _cron_out_of_range(fields) if ok else None
    if not ok or problem:
        msg = (
            f"pipeline {pipeline!r}: schedule {schedule!r} is not a cron expression"
            + (f" ({problem})" if problem else "")
            + "; expected five space-separated fields (minute hour day-of-month month "
            "day-of-week), e.g. '0 2 * * *'"
        )
        raise DefinitionError(msg)
    assert isinstance(schedule, str)
    return schedule


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
    """A set of tasks whose DAG is inferred from their Dataset annotations. See API.md section 3."""

    def __init__(
        self,
        tasks: Iterable[Task] = (),
        *,
        name: str = "pipeline",
        schedule: str | None = None,
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not _PIPELINE_NAME.fullmatch(name):
            msg = (
                f"Pipeline name {name!r} is invalid: expected 1-40 characters, a lowercase letter first, "
                "then lowercase letters, digits, '_' or '-'"
            )
            raise DefinitionError(msg)
        self.name = name
        self.schedule = check_schedule(schedule, name)
        if not isinstance(description, str):
            raise DefinitionError(
                f"pipeline {name!r}: description must be a str, found {description!r}"
            )
        self.description = description
        self.module: str = sys._getframe(1).f_globals.get("__name__", "__main__")
        self._source: str | None = None
        self._tasks: dict[int, Task] = {}  # by id(): registration order, O(1) membership
        self._dag: DAG | None = None
        self._ir: PipelineIR | None = None
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
            self._ir = None

    # -- declaring -------------------------------------------------------------------------

    def add(self, t: Task) -> Task:
        """Register a task (the same Task object twice is a no-op)."""
        if not isinstance(t, Task):
            msg = f"pipeline {self.name!r}: expected a Task (a function decorated with @task), found {t!r}"
            raise DefinitionError(msg)
        if id(t) not in self._tasks:
            self._tasks[id(t)] = t
            self._dag = None
            self._ir = None
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
        unknown = [n for n in names if n not in self.dag.datasets]
        if unknown:
            known = ", ".join(self.dag.datasets)
            raise DefinitionError(
                f"pipeline {self.name!r} has no dataset {unknown[0]!r}; datasets: {known}"
            )
        needed = self.dag.required_for(names)
        sub = Pipeline(
            [t for n, t in self.dag.tasks.items() if n in needed],
            name=self.name,
            schedule=self.schedule,
            description=self.description,
        )
        sub.module, sub.source = self.module, self.source
        return sub

    def spec(self) -> PipelineIR:
        """The provider-neutral IR of this pipeline (see glacier.ir): immutable, built once
        until the task list changes, JSON round-trippable with ``glacier.ir.to_json``; what
        executors, compilers and ``glacier graph`` read."""
        if self._ir is None:
            dag = self.dag
            self._ir = PipelineIR(
                name=self.name,
                schedule=self.schedule,
                description=self.description,
                source=self.source,
                datasets=tuple(
                    ds.to_ir(producer=dag.producer.get(n), consumers=dag.consumers[n])
                    for n, ds in dag.datasets.items()
                ),
                tasks=tuple(t.to_ir(upstream=dag.upstream[n]) for n, t in dag.tasks.items()),
                stages=dag.stages,
            )
        return self._ir

    def ir(self) -> PipelineIR:
        """The same as :meth:`spec` (an alias kept for existing callers)."""
        return self.spec()

    # -- doing -----------------------------------------------------------------------------

    def visualize(self, format: str | None = None, *, path: str | Path | None = None) -> str:
        """The DAG as mermaid (default), dot or text; with ``path``, written there instead (an
        image for ``.svg``/``.png``, else the text) and the path returned."""
        from glacier.visualize import render, write_graph

        if path is not None:
            return str(write_graph(self.spec(), path, format))
        return render(self.spec(), format or "mermaid")

    def run(self, executor: Executor | None = None, **options: Any) -> RunResult:
        """Run the pipeline (locally on Polars by default). See API.md section 7."""
        from glacier.executor import LocalExecutor

        return (executor or LocalExecutor()).run(self, **options)

    def compile(self, compiler: Compiler) -> Infrastructure:
        """Compile to infrastructure code with a provider compiler. See API.md section 8."""
        self.validate()
        return compiler.compile(self)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}: {len(self._tasks)} tasks>"

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, item: object) -> bool:
        return id(item) in self._tasks
