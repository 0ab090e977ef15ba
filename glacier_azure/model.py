"""The Azure deployment model: what the stack will create, as plain data, before any code.

``build_model`` turns the placed IR into storage accounts and containers, per-task
deployments (packaging, size, environment, managed identity) and per-task role assignments.
The program generator prints this model and the plan reports it, so what ``glacier plan``
shows is what ``pulumi up`` deploys. Every cloud name is checked here (see
:mod:`glacier_azure.naming`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from glacier.compilation.infrastructure import CompilationWarning
from glacier.compilation.layout import cloud_key
from glacier.compilation.links import RemoteAccess, accesses_from
from glacier.compilation.naming import AUTONAME_SUFFIX, Namer, NameRule, check
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import PipelineIR, TaskIR
from glacier_azure.accounts import AccountPlan, plan_accounts
from glacier_azure.iam import Assignment, task_assignments
from glacier_azure.naming import (
    CONTAINER_APP_JOB,
    FUNCTION_APP,
    KEY_VAULT_SECRET,
    LOGIC_APP,
    RESERVED,
    secret_name,
    short_name,
)
from glacier_azure.provider import AzureProvider
from glacier_azure.sizing import Packaging, Size, size_of, split_env

#: Variables the program derives from a task's variable.
TASK_VAR_SUFFIXES = ("_id", "_fn", "_job", "_run", "_access", "_remote")


@dataclass(frozen=True)
class TaskDeploy:
    """How one task runs on Azure and what it may touch."""

    task: TaskIR
    var: str
    logical: str  # the Function App's or job's name (Pulumi adds a suffix to a function's)
    size: Size
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env var -> secret name
    locations: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # ds -> (container var, key)
    assignments: tuple[Assignment, ...] = ()
    remote: tuple[RemoteAccess, ...] = ()  # datasets stored on another cloud (see remote.py)

    @property
    def packaging(self) -> Packaging:
        return self.size.packaging


@dataclass(frozen=True)
class ModelOptions:
    location: str
    resource_group: str | None
    intermediate_expiry_days: int
    noncurrent_days: int
    time_zone: str


@dataclass(frozen=True)
class AzureModel:
    """Everything the Azure stack contains."""

    spec: PipelineIR
    options: ModelOptions
    accounts: tuple[AccountPlan, ...]
    tasks: tuple[TaskDeploy, ...]
    secrets: dict[str, tuple[str, str]]  # secret name -> (generated variable, Key Vault name)
    schedule: str | None
    warnings: tuple[CompilationWarning, ...]

    @property
    def functions(self) -> tuple[TaskDeploy, ...]:
        return tuple(t for t in self.tasks if t.packaging == "function")

    @property
    def jobs(self) -> tuple[TaskDeploy, ...]:
        return tuple(t for t in self.tasks if t.packaging == "job")

    @property
    def work(self) -> AccountPlan:
        return next(a for a in self.accounts if a.role == "work")

    def account_of(self, container_var: str) -> AccountPlan:
        return next(a for a in self.accounts for c in a.containers if c.var == container_var)

    def container(self, var: str) -> str:
        return next(c.name for a in self.accounts for c in a.containers if c.var == var)


def _short(rule: NameRule) -> NameRule:
    """``rule`` with room for Pulumi's auto-name suffix."""
    return replace(rule, max_len=rule.max_len - AUTONAME_SUFFIX)


def _check_foreign_data(spec: PipelineIR, placement: Placement, on_azure: set[str]) -> None:
    """An Azure task can only read and write datasets stored on Azure."""
    problems = []
    for t in spec.tasks:
        if placement.tasks[t.name] != "azure":
            continue
        for verb, names in (("reads", t.input_datasets), ("writes", t.outputs)):
            for ds in sorted(set(names) - on_azure):
                problems.append(
                    f"task {t.name!r} (azure) {verb} dataset {ds!r}, placed on "
                    f"{placement.datasets[ds]!r}"
                )
    if problems:
        msg = (
            f"pipeline {spec.name!r}: {'; '.join(problems)}; an Azure task can only read and "
            "write data stored on Azure: give the dataset BlobStorage(...) storage, or run the "
            "task on the dataset's provider"
        )
        raise CompilationError(msg)


def _touched(task: TaskIR) -> list[str]:
    """The datasets a task reads or writes, by name."""
    return sorted({*task.input_datasets, *task.outputs})


def _deploy(spec: PipelineIR, task: TaskIR, locations: dict[str, tuple[str, str]],
            namer: Namer, taken: dict[str, str]) -> TaskDeploy:  # fmt: skip
    size = size_of(task)
    rule = _short(FUNCTION_APP) if size.packaging == "function" else CONTAINER_APP_JOB
    logical = short_name(rule, spec.name, task.name)
    first = taken.setdefault(logical, task.name)
    if first != task.name:
        msg = (
            f"pipeline {spec.name!r}: tasks {first!r} and {task.name!r} both shorten to the "
            f"{rule.what} name {logical!r}; rename one (@task(name=...))"
        )
        raise CompilationError(msg)
    env, secrets = split_env(task)
    return TaskDeploy(
        task=task,
        var=namer.take(task.name, TASK_VAR_SUFFIXES),
        logical=logical,
        size=size,
        env=env,
        secrets=secrets,
        locations={d: locations[d] for d in _touched(task) if d in locations},
    )


def _secrets(
    spec: PipelineIR, deploys: list[TaskDeploy], namer: Namer
) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    owners: dict[str, str] = {}
    for name in sorted({s for d in deploys for s in d.secrets.values()}):
        vault_name = check(KEY_VAULT_SECRET, secret_name(name), f"secret {name!r}")
        first = owners.setdefault(vault_name.lower(), name)
        if first != name:
            msg = (
                f"pipeline {spec.name!r}: secrets {first!r} and {name!r} are both Key Vault "
                f"secret {vault_name!r} (characters Key Vault refuses become '-', case is "
                "ignored); rename one"
            )
            raise CompilationError(msg)
        found[name] = (namer.take(f"secret_{vault_name}"), vault_name)
    return found


def build_model(spec: PipelineIR, placement: Placement, options: ModelOptions) -> AzureModel:
    """The Azure stack for the parts of ``spec`` that ``placement`` puts on Azure."""
    on_azure = set(placement.datasets_on("azure"))
    remote = accesses_from(spec, placement, "azure", AzureProvider.reaches)
    _check_foreign_data(spec, placement, on_azure | {a.dataset for r in remote.values() for a in r})
    check(LOGIC_APP, spec.name, f"pipeline {spec.name!r}", suffix=AUTONAME_SUFFIX)
    # the program's child Logic Apps are logic_part_<n> (fewer than two per task)
    namer = Namer(RESERVED | {f"logic_part_{n}" for n in range(1, 2 * len(spec.tasks) + 2)})
    placed = [t for t in spec.tasks if placement.tasks[t.name] == "azure"]
    accounts = plan_accounts(spec, sorted(on_azure), namer,
                             noncurrent_days=options.noncurrent_days,
                             expiry_days=options.intermediate_expiry_days)  # fmt: skip
    by_dataset = {d: c.var for a in accounts for c in a.containers for d in c.datasets}
    locations = {ds.name: (by_dataset[ds.name], cloud_key(ds))
                 for ds in spec.datasets if ds.name in on_azure}  # fmt: skip
    taken: dict[str, str] = {}
    deploys = [_deploy(spec, t, locations, namer, taken) for t in placed]
    secrets = _secrets(spec, deploys, namer)
    formats = {ds.name: ds.format for ds in spec.datasets}
    deploys = [
        replace(d, assignments=task_assignments(
                    d.task.name, [i for i in d.task.input_datasets if i in d.locations],
                    [o for o in d.task.outputs if o in d.locations], d.locations, formats),
                remote=remote.get(d.task.name, ()))
        for d in deploys
    ]  # fmt: skip
    warnings = tuple(
        CompilationWarning(f"task {d.task.name!r}", d.size.reason)
        for d in deploys
        if d.packaging == "job" and d.task.compute.type != "container"
    )
    return AzureModel(
        spec=spec,
        options=options,
        accounts=tuple(accounts),
        tasks=tuple(deploys),
        secrets=secrets,
        schedule=spec.schedule if deploys else None,
        warnings=warnings,
    )


__all__ = ["AzureModel", "ModelOptions", "TaskDeploy", "build_model"]
