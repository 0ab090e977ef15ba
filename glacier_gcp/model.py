"""The GCP deployment model: what the stack will create, as plain data, before any code.

``build_model`` turns the placed IR into buckets, per-task deployments (packaging, size,
environment, service account) and per-task bucket bindings. The program generator prints this
model and the plan reports it, so what ``glacier plan`` shows is what ``pulumi up`` deploys.
Every cloud name is checked here (see :mod:`glacier_gcp.naming`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from glacier.compilation.infrastructure import CompilationWarning
from glacier.compilation.layout import cloud_key
from glacier.compilation.links import RemoteAccess, accesses_from
from glacier.compilation.naming import AUTONAME_SUFFIX, Namer, check, kebab
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import PipelineIR, TaskIR
from glacier_gcp.buckets import BucketPlan, data_buckets, work_bucket
from glacier_gcp.iam import Binding, task_bindings
from glacier_gcp.naming import (
    FUNCTION,
    RESERVED,
    RUN_JOB,
    SECRET,
    SERVICE_ACCOUNT,
    WORKFLOW,
    account_id,
    secret_id,
)
from glacier_gcp.packaging import Packaging, Size, size_of, split_env
from glacier_gcp.provider import GCPProvider
from glacier_gcp.shards import check_policies, shard_ephemeral

#: Cloud Run and Cloud Functions refuse an environment variable value over 32 KiB.
MAX_ENV_VALUE_BYTES = 32768
#: Variables the program derives from a task's variable.
TASK_VAR_SUFFIXES = ("_sa", "_fn", "_job", "_invoker", "_remote")
#: Service accounts a project may have before a quota increase.
SERVICE_ACCOUNT_QUOTA = 100
#: Clouds whose data a GCP task can reach (a multi-cloud compile): through web identity
#: federation, see glacier_aws/stack/links/federation.py.
REACHABLE = GCPProvider.reaches


@dataclass(frozen=True)
class TaskDeploy:
    """How one task runs on GCP and what it may touch."""

    task: TaskIR
    var: str
    logical: str  # the function's or job's logical name
    account: str  # its service account id
    size: Size
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env var -> secret name
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)  # ds -> (bucket var, key)
    bindings: tuple[Binding, ...] = ()
    remote: tuple[RemoteAccess, ...] = ()  # datasets stored on another provider

    @property
    def packaging(self) -> Packaging:
        return self.size.packaging


@dataclass(frozen=True)
class ModelOptions:
    project: str | None
    region: str
    intermediate_expiry_days: int
    noncurrent_days: int
    time_zone: str


@dataclass(frozen=True)
class GCPModel:
    """Everything the GCP stack contains."""

    spec: PipelineIR
    options: ModelOptions
    buckets: tuple[BucketPlan, ...]
    tasks: tuple[TaskDeploy, ...]
    secrets: dict[str, tuple[str, str]]  # secret name -> (generated variable, secret id)
    schedule: str | None
    accounts: dict[str, str]  # the orchestrator's own accounts: "workflow"/"scheduler" -> id
    warnings: tuple[CompilationWarning, ...]
    handoff: str | None = None  # the provider whose orchestrator the workflow starts last

    @property
    def functions(self) -> tuple[TaskDeploy, ...]:
        return tuple(t for t in self.tasks if t.packaging == "function")

    @property
    def jobs(self) -> tuple[TaskDeploy, ...]:
        return tuple(t for t in self.tasks if t.packaging == "job")

    @property
    def work(self) -> BucketPlan:
        return next(b for b in self.buckets if b.purpose == "intermediate")


def _check_foreign_data(spec: PipelineIR, placement: Placement, on_gcp: set[str]) -> None:
    """A GCP task can only read and write datasets in ``on_gcp``: stored on GCP, or on a
    cloud it reaches through federation."""
    problems = []
    for t in spec.tasks:
        if placement.tasks[t.name] != "gcp":
            continue
        for verb, names in (("reads", t.input_datasets), ("writes", t.outputs)):
            for ds in sorted(set(names) - on_gcp):
                problems.append(
                    f"task {t.name!r} (gcp) {verb} dataset {ds!r}, placed on {placement.datasets[ds]!r}"
                )
    if problems:
        msg = (
            f"pipeline {spec.name!r}: {'; '.join(problems)}; a GCP task can only read and write "
            f"data stored on GCP or on {', '.join(REACHABLE)} (federated): give the dataset "
            "GCS(...) storage, or run the task on the dataset's provider"
        )
        raise CompilationError(msg)


def _locations(spec: PipelineIR, buckets: list[BucketPlan]) -> dict[str, tuple[str, str]]:
    """Dataset -> (bucket variable, key template), from the shared key layout."""
    by_dataset = {d: b.var for b in buckets for d in b.datasets}
    return {ds.name: (by_dataset[ds.name], cloud_key(ds)) for ds in spec.datasets}


def env_value_bytes(d: TaskDeploy, buckets: list[BucketPlan]) -> int:
    """The longest ``GLACIER_LOCATIONS`` value the stack can give ``d``: bucket names at their
    longest (a Pulumi auto-name is the logical name plus eight characters)."""
    names = {
        b.var: b.explicit_name or f"{b.logical}-{'x' * (AUTONAME_SUFFIX - 1)}" for b in buckets
    }
    value = {ds: f"gs://{names[bucket]}/{key}" for ds, (bucket, key) in d.locations.items()}
    return len(json.dumps(value).encode())


def _deploy(
    spec: PipelineIR,
    task: TaskIR,
    locations: dict[str, tuple[str, str]],
    namer: Namer,
    remote: tuple[RemoteAccess, ...] = (),
) -> TaskDeploy:
    size = size_of(task)
    logical = kebab(spec.name, task.name)
    owner, fix = f"task {task.name!r}", "shorten the pipeline or task name (@task(name=...))"
    check(FUNCTION if size.packaging == "function" else RUN_JOB, logical, owner,
          suffix=AUTONAME_SUFFIX, fix=fix)  # fmt: skip
    env, secrets = split_env(task)
    return TaskDeploy(
        task=task,
        var=namer.take(task.name, TASK_VAR_SUFFIXES),
        logical=logical,
        account=check(SERVICE_ACCOUNT, account_id(spec.name, task.name), owner),
        size=size,
        env=env,
        secrets=secrets,
        locations={
            d: locations[d] for d in sorted({*task.input_datasets, *task.outputs}) if d in locations
        },
        remote=remote,
    )


def _secrets(
    spec: PipelineIR, deploys: list[TaskDeploy], namer: Namer
) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    owners: dict[str, str] = {}
    for name in sorted({s for d in deploys for s in d.secrets.values()}):
        sid = check(SECRET, secret_id(name), f"secret {name!r}")
        first = owners.setdefault(sid, name)
        if first != name:
            msg = (
                f"pipeline {spec.name!r}: secrets {first!r} and {name!r} are both Secret Manager "
                f"secret {sid!r} (characters Secret Manager refuses become '-'); rename one"
            )
            raise CompilationError(msg)
        found[name] = (namer.take(f"secret_{sid}"), sid)
    return found


def _check_unique(spec: PipelineIR, deploys: list[TaskDeploy], accounts: dict[str, str]) -> None:
    """Service account ids are chosen, not generated: two owners of one id would be one
    account (and ``pulumi up`` would fail on the second). Say which clash, now."""
    owners = {sid: f"the {role} of pipeline {spec.name!r}" for role, sid in accounts.items()}
    for d in deploys:
        first = owners.setdefault(d.account, f"task {d.task.name!r}")
        if first != f"task {d.task.name!r}":
            msg = (
                f"pipeline {spec.name!r}: task {d.task.name!r} needs the service account "
                f"{d.account!r}, which {first} already uses; rename the task (@task(name=...))"
            )
            raise CompilationError(msg)


def _check_env(d: TaskDeploy, buckets: list[BucketPlan]) -> None:
    size = env_value_bytes(d, buckets)
    if size > MAX_ENV_VALUE_BYTES:
        msg = (
            f"task {d.task.name!r}: its GLACIER_LOCATIONS variable would be {size} bytes (one "
            f"location per dataset it reads or writes), over the {MAX_ENV_VALUE_BYTES} bytes Cloud "
            "Run allows in one value; split the task so it reads fewer datasets"
        )
        raise CompilationError(msg)
    for key, value in d.env.items():
        if len(value.encode()) > MAX_ENV_VALUE_BYTES:
            msg = (
                f"task {d.task.name!r}: environment variable {key!r} is {len(value.encode())} "
                f"bytes, over the {MAX_ENV_VALUE_BYTES} Cloud Run allows; shorten it"
            )
            raise CompilationError(msg)


def build_model(spec: PipelineIR, placement: Placement, options: ModelOptions) -> GCPModel:
    """The GCP stack for the parts of ``spec`` that ``placement`` puts on GCP."""
    on_gcp = set(placement.datasets_on("gcp"))
    reachable = {d for d, p in placement.datasets.items() if p in REACHABLE}
    _check_foreign_data(spec, placement, on_gcp | reachable)
    remote = accesses_from(spec, placement, "gcp", REACHABLE)
    check(WORKFLOW, spec.name, f"pipeline {spec.name!r}", suffix=AUTONAME_SUFFIX)
    namer = Namer(RESERVED)
    datasets = [d.name for d in spec.datasets if d.name in on_gcp]
    ephemeral = [d for d in spec.datasets if d.name in on_gcp and d.storage is None]
    gcp_tasks = [t for t in spec.tasks if placement.tasks[t.name] == "gcp"]
    buckets = [
        *data_buckets(spec, datasets, namer, options.region, options.noncurrent_days),
        *(
            work_bucket(spec, group, options.intermediate_expiry_days, namer, options.region, n)
            for n, group in enumerate(shard_ephemeral(ephemeral, gcp_tasks), start=1)
        ),
    ]
    gcp_spec = replace(spec, datasets=tuple(d for d in spec.datasets if d.name in on_gcp))
    locations = _locations(gcp_spec, buckets)
    deploys = [
        _deploy(spec, t, locations, namer, remote.get(t.name, ()))
        for t in spec.tasks
        if placement.tasks[t.name] == "gcp"
    ]
    accounts = {
        "workflow": check(SERVICE_ACCOUNT, account_id(spec.name, "workflow"), f"pipeline {spec.name!r}"),
        "scheduler": check(SERVICE_ACCOUNT, account_id(spec.name, "scheduler"), f"pipeline {spec.name!r}"),
    }  # fmt: skip
    _check_unique(spec, deploys, accounts)
    for d in deploys:
        _check_env(d, buckets)
    secrets = _secrets(spec, deploys, namer)
    formats = {ds.name: ds.format for ds in spec.datasets}
    deploys = [
        replace(d, bindings=task_bindings(
            d.task.name, [i for i in d.task.input_datasets if i in d.locations],
            [o for o in d.task.outputs if o in d.locations], d.locations, formats))
        for d in deploys
    ]  # fmt: skip
    names = {b.var: b.explicit_name or b.logical for b in buckets}
    check_policies(((d.task.name, b) for d in deploys for b in d.bindings), names)
    warnings = [
        CompilationWarning(f"task {d.task.name!r}", d.size.reason)
        for d in deploys
        if d.packaging == "job" and d.task.compute.type != "container"
    ]
    count = len(deploys) + (len(accounts) if deploys else 0)
    if count > SERVICE_ACCOUNT_QUOTA:
        warnings.append(
            CompilationWarning(
                f"pipeline {spec.name!r}",
                f"the stack creates {count} service accounts (one per task); a project may have "
                f"{SERVICE_ACCOUNT_QUOTA} before Google raises its quota: ask for an increase",
            )
        )
    return GCPModel(
        spec=spec,
        options=options,
        buckets=tuple(buckets),
        tasks=tuple(deploys),
        secrets=secrets,
        schedule=spec.schedule if deploys else None,
        accounts=accounts,
        warnings=tuple(warnings),
    )


__all__ = ["GCPModel", "ModelOptions", "TaskDeploy", "build_model", "env_value_bytes"]
