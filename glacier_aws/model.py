"""The AWS deployment model: what the stack will create, as plain data, before any code.

``build_model`` turns the placed IR into buckets, per-task deployments (packaging, limits,
environment) and per-task IAM statements. The program generator prints this model and the
plan reports it, so what ``glacier plan`` shows is exactly what ``pulumi up`` deploys.
Every cloud name is checked here (see :mod:`glacier_aws.naming`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from glacier.compilation.infrastructure import CompilationWarning
from glacier.compilation.naming import AUTONAME_SUFFIX, check, kebab
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR, TaskIR
from glacier_aws.compute import (
    GENERIC_FARGATE,
    GENERIC_LAMBDA,
    LAMBDA_MAX_MEMORY,
    LAMBDA_MAX_TIMEOUT,
    fargate_size,
)
from glacier_aws.layout import dataset_locations
from glacier_aws.lifecycle import (
    access_log_lifecycle,
    bucket_lifecycle,
    check_readable,
    work_bucket_lifecycle,
)
from glacier_aws.naming import (
    ECR_REPOSITORY,
    IAM_ROLE,
    LAMBDA_FUNCTION,
    S3_BUCKET,
    STATE_MACHINE,
    Namer,
)
from glacier_aws.operations import kms_statements
from glacier_aws.policy import Statement, task_statements
from glacier_aws.provider import LIMITS

Packaging = Literal["lambda", "fargate"]
RESERVED_ENV_PREFIX = "GLACIER_"
#: Lambda refuses a function whose environment variables (names and values) exceed 4 KB.
LAMBDA_MAX_ENV_BYTES = LIMITS["function_environment_bytes"]
#: Lambda's rule for environment variable names, and the names its runtime reserves.
LAMBDA_ENV_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
LAMBDA_RESERVED_ENV = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
     "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
     "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
     "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
     "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}
)  # fmt: skip


#: Variables the program derives from a task's variable (``program._lambda``/``_fargate``).
TASK_VAR_SUFFIXES = ("_logs", "_role", "_fn", "_exec_role", "_task")


@dataclass(frozen=True)
class BucketPlan:
    """One S3 bucket: its generated variable, logical name and protections."""

    var: str
    logical: str
    explicit_name: str | None
    region: str | None
    versioning: bool
    object_lock: bool
    lifecycle_rules: tuple[dict[str, Any], ...]
    datasets: tuple[str, ...]
    purpose: str
    #: False: the bucket exists already (``S3(..., create=False)``); the stack looks it up.
    create: bool = True
    #: Whether S3 logs every request to this bucket into the stack's access-log bucket.
    access_logs: bool = False


@dataclass(frozen=True)
class TaskDeploy:
    """How one task runs on AWS and what it may touch."""

    task: TaskIR
    var: str
    logical: str
    packaging: Packaging
    reason: str
    memory: int
    timeout: int
    architecture: str
    runtime: str
    cpu: float = 0.0
    image: str | None = None
    layers: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    ephemeral_storage: int = 21
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env var -> secret name
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)  # ds -> (bucket var, key)
    statements: tuple[Statement, ...] = ()

    @property
    def bundle(self) -> str:
        """The Lambda bundle this task needs (one per Python version and architecture)."""
        return f"bundle_{self.runtime.replace('.', '')}_{self.architecture}"


@dataclass(frozen=True)
class AWSModel:
    """Everything the AWS stack contains."""

    spec: PipelineIR
    region: str
    buckets: tuple[BucketPlan, ...]
    tasks: tuple[TaskDeploy, ...]
    secrets: dict[str, str]  # secret name -> generated variable
    schedule: str | None
    log_retention_days: int
    warnings: tuple[CompilationWarning, ...]
    options: ModelOptions | None = None

    @property
    def access_log_bucket(self) -> BucketPlan | None:
        return next((b for b in self.buckets if b.purpose == "access-logs"), None)

    @property
    def lambdas(self) -> tuple[TaskDeploy, ...]:
        return tuple(t for t in self.tasks if t.packaging == "lambda")

    @property
    def containers(self) -> tuple[TaskDeploy, ...]:
        return tuple(t for t in self.tasks if t.packaging == "fargate")


@dataclass(frozen=True)
class ModelOptions:
    """The compiler's choices (see :class:`glacier_aws.AWSCompiler`)."""

    region: str
    intermediate_expiry_days: int
    log_retention_days: int
    #: Days a versioned bucket keeps an overwritten or deleted object's old version (None:
    #: forever).
    noncurrent_version_days: int | None = 30
    #: Server access logs of every bucket the stack creates, into a bucket of their own.
    access_logs: bool = True
    container_insights: bool = False
    #: A customer-managed KMS key ARN for buckets, log groups, functions and images.
    kms_key: str | None = None


#: Seconds a Fargate task without a declared timeout may run before Step Functions stops it
#: (ECS itself never stops a task): 8 hours, AWS Glue's default job timeout.
DEFAULT_FARGATE_TIMEOUT = 8 * 3600


# -- buckets ---------------------------------------------------------------------------------


def _bucket_settings(ds: DatasetIR) -> tuple[str | None, str | None, bool, bool, bool]:
    """(explicit bucket name, region, versioning, object lock, create) of a storage-backed
    dataset. An existing bucket's versioning and lock are its owner's, not the stack's."""
    assert ds.storage is not None
    config = ds.storage.config
    if ds.storage.provider == "aws":  # S3(...)
        create = bool(config["create"])
        return (
            config["bucket"],
            config["region"],
            create and bool(config["versioning"]),
            create and bool(config["object_lock_enabled"]),
            create,
        )
    return None, None, bool(config["versioning"]), False, True  # ObjectStorage(...)


def _data_buckets(
    spec: PipelineIR, names: list[str], namer: Namer, options: ModelOptions
) -> list[BucketPlan]:
    by_bucket: dict[str, list[DatasetIR]] = {}
    for ds in spec.datasets:
        if ds.name in names and ds.storage is not None:
            check_readable(ds)
            explicit, *_ = _bucket_settings(ds)
            by_bucket.setdefault(explicit or f"\0{ds.name}", []).append(ds)
    plans = []
    for key in sorted(by_bucket):
        group = by_bucket[key]
        settings = {_bucket_settings(ds) for ds in group}
        if len(settings) > 1:
            msg = (
                f"datasets {', '.join(d.name for d in group)} share S3 bucket {key!r} but declare "
                "different region, versioning, object lock or create settings; make them equal"
            )
            raise CompilationError(msg)
        explicit, region, versioning, lock, create = settings.pop()
        first = group[0].name
        logical = explicit or kebab(spec.name, first)
        owner = f"dataset {first!r}"
        if explicit:
            check(S3_BUCKET, explicit, owner)
        else:
            fix = "shorten or rename the pipeline or dataset, or pin a name with S3(bucket=...)"
            check(S3_BUCKET, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
        plans.append(
            BucketPlan(
                var=namer.take(
                    f"{explicit.replace('-', '_').replace('.', '_') if explicit else first}_bucket"
                ),
                logical=logical,
                explicit_name=explicit,
                region=region,
                versioning=versioning or lock,
                object_lock=lock,
                lifecycle_rules=bucket_lifecycle(
                    group, options.noncurrent_version_days if versioning or lock else None
                )
                if create
                else (),
                datasets=tuple(d.name for d in group),
                purpose="data",
                create=create,
                # S3 delivers access logs only to a bucket in the same region
                access_logs=create and options.access_logs and region in (None, options.region),
            )
        )
    return plans


def _pipeline_bucket(spec: PipelineIR, suffix: str) -> str:
    logical = kebab(spec.name, suffix)
    owner, fix = f"pipeline {spec.name!r}", "shorten or rename the pipeline"
    check(S3_BUCKET, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
    return logical


def _work_bucket(
    spec: PipelineIR, ephemeral: list[str], options: ModelOptions, namer: Namer
) -> BucketPlan:
    return BucketPlan(
        var=namer.take("work_bucket"),
        logical=_pipeline_bucket(spec, "work"),
        explicit_name=None,
        region=None,
        versioning=False,
        object_lock=False,
        lifecycle_rules=work_bucket_lifecycle(options.intermediate_expiry_days),
        datasets=tuple(ephemeral),
        purpose="intermediate",
        access_logs=options.access_logs,
    )


def _access_log_bucket(spec: PipelineIR, options: ModelOptions, namer: Namer) -> BucketPlan:
    """Where S3 writes the other buckets' access logs; they expire like the task logs."""
    return BucketPlan(
        var=namer.take("access_logs_bucket"),
        logical=_pipeline_bucket(spec, "access-logs"),
        explicit_name=None,
        region=None,
        versioning=False,
        object_lock=False,
        lifecycle_rules=access_log_lifecycle(options.log_retention_days),
        datasets=(),
        purpose="access-logs",
    )


# -- tasks -----------------------------------------------------------------------------------


#: Why a task that reads or writes a Delta table cannot run on Lambda (measured for
#: manylinux aarch64 wheels, deltalake 1.6 + Polars 2.1: 306 MB unzipped).
DELTA_ON_LAMBDA = (
    "deltalake's wheels (~120 MB) and Polars' (~165 MB) exceed Lambda's 250 MB unzipped limit"
)


def _packaging(task: TaskIR, delta: Sequence[str] = ()) -> tuple[Packaging, str, dict[str, Any]]:
    """(packaging, reason, limits) for a task: Lambda when it fits, else Fargate.

    ``delta``: the Delta datasets the task reads or writes; their package does not fit Lambda.
    """
    c = task.compute
    limit = math.ceil(task.timeout) if task.timeout else None
    if c.type == "container":
        gpu = c.config.get("gpu")  # Fargate(...) has no such field
        if gpu:
            msg = (
                f"task {task.name!r} asks for gpu={gpu}, but ECS Fargate has no GPUs and Lambda "
                "neither; remove the gpu request (or run this task on a provider with GPU jobs)"
            )
            raise CompilationError(msg)
        return "fargate", "container compute runs as an ECS Fargate task", {}
    settings = {**GENERIC_LAMBDA, **c.config}
    memory = int(settings["memory"])
    timeout = limit or int(settings["timeout"])
    if c.provider == "aws":  # Lambda(...) is checked against Lambda's limits on creation
        if timeout > LAMBDA_MAX_TIMEOUT:
            msg = (
                f"task {task.name!r} has timeout={timeout}s but runs on Lambda(...), which stops "
                f"every invocation at {LAMBDA_MAX_TIMEOUT}s; lower the task's timeout to at most "
                f"{LAMBDA_MAX_TIMEOUT} or give it Fargate(...) compute"
            )
            raise CompilationError(msg)
        if delta:
            msg = (
                f"task {task.name!r} reads or writes the Delta table {delta[0]!r} but runs on "
                f"Lambda(...): {DELTA_ON_LAMBDA}; give it Fargate(...) compute, or store the "
                "dataset as parquet"
            )
            raise CompilationError(msg)
        return "lambda", "Lambda(...) requested", {"memory": memory, "timeout": timeout}
    if timeout > LAMBDA_MAX_TIMEOUT or memory > LAMBDA_MAX_MEMORY or delta:
        if timeout > LAMBDA_MAX_TIMEOUT:
            why = f"timeout {timeout}s > Lambda's {LAMBDA_MAX_TIMEOUT}s"
        elif memory > LAMBDA_MAX_MEMORY:
            why = f"memory {memory} MB > Lambda's {LAMBDA_MAX_MEMORY} MB"
        else:
            why = f"Delta table {delta[0]!r}: {DELTA_ON_LAMBDA}"
        return (
            "fargate",
            f"{c.type} compute does not fit Lambda ({why}); runs on ECS Fargate instead",
            {"memory": memory},
        )
    return (
        "lambda",
        f"{c.type} compute fits Lambda",
        {"memory": max(memory, 128), "timeout": timeout},
    )


def _env(task: TaskIR) -> tuple[dict[str, str], dict[str, str]]:
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in task.compute.config.get("env", {}).items():
        if key.upper().startswith(RESERVED_ENV_PREFIX):
            msg = (
                f"task {task.name!r}: environment variable {key!r} uses the reserved prefix "
                f"{RESERVED_ENV_PREFIX!r} (Glacier's runtime settings); rename it"
            )
            raise CompilationError(msg)
        if isinstance(value, dict):
            secrets[key] = str(value["secret"])
        else:
            plain[key] = str(value)
    return plain, secrets


def _task_names(spec: PipelineIR, task: TaskIR) -> str:
    logical = kebab(spec.name, task.name)
    fix = "shorten the pipeline or task name (pass @task(name=...))"
    owner = f"task {task.name!r}"
    check(LAMBDA_FUNCTION, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
    check(IAM_ROLE, logical, owner, suffix=AUTONAME_SUFFIX, fix=fix)
    check(IAM_ROLE, f"{logical}-exec", owner, suffix=AUTONAME_SUFFIX, fix=fix)
    return logical


def _deploy(
    spec: PipelineIR, task: TaskIR, locations: dict[str, tuple[str, str]], namer: Namer
) -> TaskDeploy:
    formats = {d.name: d.format for d in spec.datasets}
    delta = [n for n in (*task.input_datasets, *task.outputs) if formats.get(n) == "delta"]
    packaging, reason, limits = _packaging(task, sorted(set(delta)))
    env, secrets = _env(task)
    c = task.compute
    common: dict[str, Any] = {
        "task": task,
        "var": namer.take(task.name, TASK_VAR_SUFFIXES),
        "logical": _task_names(spec, task),
        "packaging": packaging,
        "reason": reason,
        "env": env,
        "secrets": secrets,
        "locations": {d: locations[d] for d in sorted({*task.input_datasets, *task.outputs})},
    }
    if packaging == "lambda":
        settings = {**GENERIC_LAMBDA, **c.config}
        return TaskDeploy(
            **common,
            memory=limits["memory"],
            timeout=limits["timeout"],
            architecture=str(settings["architecture"]),
            runtime=str(settings["runtime"]),
            layers=tuple(settings["layers"]),
            reserved_concurrency=settings["reserved_concurrency"],
        )
    settings = {**GENERIC_FARGATE, **c.config}
    size = fargate_size(float(settings["cpu"]), int(limits.get("memory") or settings["memory"]))
    if size is None:
        msg = (
            f"task {task.name!r}: no Fargate size offers cpu={settings['cpu']} and "
            f"memory={settings['memory']} (largest: 16 vCPU, 122880 MiB); ask for less"
        )
        raise CompilationError(msg)
    return TaskDeploy(
        **common,
        cpu=size[0],
        memory=size[1],
        timeout=math.ceil(task.timeout) if task.timeout else DEFAULT_FARGATE_TIMEOUT,
        architecture=str(settings["architecture"]),
        runtime="python3.12",
        image=settings["image"],
        ephemeral_storage=int(settings["ephemeral_storage"]),
    )


def lambda_env_bytes(d: TaskDeploy, buckets: list[BucketPlan], region: str) -> int:
    """The size of the environment the stack gives ``d``'s function, as deployed.

    Bucket names are known up to Pulumi's suffix, which has a fixed length, and a secret ARN
    up to its account and random suffix; the longest partition is assumed. The keys and
    values are those ``program._environment`` sets, and GLACIER_LOCATIONS is the JSON
    ``glacier_infra.locations`` renders.
    """
    names = {
        b.var: b.explicit_name or f"{b.logical}-{'x' * (AUTONAME_SUFFIX - 1)}" for b in buckets
    }
    locations = json.dumps(
        {ds: f"s3://{names[bucket]}/{key}" for ds, (bucket, key) in d.locations.items()}
    )
    env = {
        "GLACIER_TASK": d.task.name,
        "GLACIER_MANIFEST": "manifest.json",
        "GLACIER_LOCATIONS": locations,
        **{
            f"GLACIER_SECRET_ARN_{var}": f"arn:aws-us-gov:secretsmanager:{region}:123456789012:"
            f"secret:{name}-xxxxxx"
            for var, name in d.secrets.items()
        },
        **d.env,
    }
    return sum(len(k.encode()) + len(v.encode()) for k, v in env.items())


def _check_lambda_env(d: TaskDeploy, buckets: list[BucketPlan], region: str) -> None:
    for key in sorted({*d.env, *d.secrets}):
        if key in LAMBDA_RESERVED_ENV or not LAMBDA_ENV_NAME.fullmatch(key):
            why = (
                "is reserved by the Lambda runtime"
                if key in LAMBDA_RESERVED_ENV
                else "breaks Lambda's naming rule (a letter, then at least one letter, digit or '_')"
            )
            msg = (
                f"task {d.task.name!r}: environment variable {key!r} {why}, so Lambda would "
                "refuse the function at deploy time; rename it"
            )
            raise CompilationError(msg)
    size = lambda_env_bytes(d, buckets, region)
    if size > LAMBDA_MAX_ENV_BYTES:
        msg = (
            f"task {d.task.name!r}: its Lambda environment would be {size} bytes (dataset "
            f"locations, secrets and env values), over Lambda's {LAMBDA_MAX_ENV_BYTES}-byte limit; "
            "shorten its env values, or give it container compute (Fargate has no such limit)"
        )
        raise CompilationError(msg)


def _locations(spec: PipelineIR, buckets: list[BucketPlan]) -> dict[str, tuple[str, str]]:
    """Dataset -> (bucket variable, key template), from the shared layout module."""
    by_dataset = {d: b.var for b in buckets for d in b.datasets}
    placeholders = {d: f"glacier-placeholder-{i}" for i, d in enumerate(sorted(by_dataset))}
    uris = dataset_locations(spec, placeholders)
    found = {}
    for ds, uri in uris.items():
        head = f"s3://{placeholders[ds]}/"
        assert uri.startswith(head), uri
        found[ds] = (by_dataset[ds], uri[len(head) :])
    return found


def _check_foreign_data(spec: PipelineIR, placement: Placement, on_aws: set[str]) -> None:
    """An AWS task can only read and write datasets stored on AWS (its role grants S3 only)."""
    problems = []
    for t in spec.tasks:
        if placement.tasks[t.name] != "aws":
            continue
        for verb, names in (("reads", t.input_datasets), ("writes", t.outputs)):
            for ds in sorted(set(names) - on_aws):
                problems.append(
                    f"task {t.name!r} (aws) {verb} dataset {ds!r}, placed on {placement.datasets[ds]!r}"
                )
    if problems:
        msg = (
            f"pipeline {spec.name!r}: {'; '.join(problems)}; an AWS task can only read and write "
            "data stored on AWS: give the dataset S3(...) storage, or run the task on the "
            "dataset's provider"
        )
        raise CompilationError(msg)


def _check_unique_logical_names(
    spec: PipelineIR, buckets: list[BucketPlan], deploys: list[TaskDeploy]
) -> None:
    """Two resources of one type with one logical name would be one Pulumi URN: ``pulumi up``
    refuses the whole stack ("duplicate resource URN"). Say which names clash, now."""
    owners: dict[tuple[str, str], str] = {}

    def claim(kind: str, logical: str, owner: str, fix: str) -> None:
        first = owners.setdefault((kind, logical), owner)
        if first != owner:
            msg = (
                f"pipeline {spec.name!r}: {owner} needs the {kind} {logical!r}, which {first} "
                f"already uses in the stack; {fix}"
            )
            raise CompilationError(msg)

    # The pipeline's own resources first, so an error names the user's object as the one to rename.
    machine = f"the state machine of pipeline {spec.name!r}"
    claim("IAM role", f"{spec.name}-states", machine, "")
    claim("log group", f"{spec.name}-states", machine, "")
    if spec.schedule:
        claim("IAM role", f"{spec.name}-schedule", f"the schedule of pipeline {spec.name!r}", "")
    ordered = sorted(buckets, key=lambda b: b.purpose == "data")
    for b in ordered:
        if b.purpose != "data":
            claim("S3 bucket", b.logical, f"the {b.purpose} bucket of pipeline {spec.name!r}", "")
            continue
        fix = (
            "choose another S3(bucket=...) name"
            if b.explicit_name
            else "rename the dataset, or pin its bucket with S3(bucket=...)"
        )
        claim("S3 bucket", b.logical, f"dataset {b.datasets[0]!r}", fix)
    for d in deploys:
        owner, fix = f"task {d.task.name!r}", "rename the task (@task(name=...))"
        claim("IAM role", d.logical, owner, fix)
        claim("log group", d.logical, owner, fix)
    for d in deploys:
        if d.packaging == "fargate":
            owner = f"task {d.task.name!r} (its execution role)"
            claim("IAM role", f"{d.logical}-exec", owner, "rename the task (@task(name=...))")


def build_model(spec: PipelineIR, placement: Placement, options: ModelOptions) -> AWSModel:
    """The AWS stack for the parts of ``spec`` that ``placement`` puts on AWS."""
    on_aws = set(placement.datasets_on("aws"))
    _check_foreign_data(spec, placement, on_aws)
    check(STATE_MACHINE, spec.name, f"pipeline {spec.name!r}", suffix=AUTONAME_SUFFIX)
    namer = Namer()
    datasets = [d.name for d in spec.datasets if d.name in on_aws]
    ephemeral = [d.name for d in spec.datasets if d.name in on_aws and d.storage is None]
    buckets = [
        *_data_buckets(spec, datasets, namer, options),
        _work_bucket(spec, ephemeral, options, namer),
    ]
    if options.access_logs:
        buckets.insert(0, _access_log_bucket(spec, options, namer))
    aws_spec = replace(spec, datasets=tuple(d for d in spec.datasets if d.name in on_aws))
    locations = _locations(aws_spec, buckets)
    tasks = [t for t in spec.tasks if placement.tasks[t.name] == "aws"]
    deploys = [_deploy(spec, t, locations, namer) for t in tasks]
    _check_unique_logical_names(spec, buckets, deploys)
    for arch in sorted(
        {d.architecture for d in deploys if d.packaging == "fargate" and not d.image}
    ):
        fix = "rename the pipeline: ECR allows no '-' or '_' at its end and none twice in a row"
        owner = f"pipeline {spec.name!r} (its container image repository)"
        check(ECR_REPOSITORY, kebab(spec.name, arch), owner, suffix=AUTONAME_SUFFIX, fix=fix)
    for d in deploys:
        if d.packaging == "lambda":
            _check_lambda_env(d, buckets, options.region)
    secret_names = sorted({s for d in deploys for s in d.secrets.values()})
    secrets = {name: namer.take(f"secret_{name}") for name in secret_names}
    formats = {ds.name: ds.format for ds in spec.datasets}
    stack_key = kms_statements(options.kms_key)
    deploys = [
        replace(d, statements=task_statements(d, formats, secrets) + stack_key) for d in deploys
    ]
    warnings = [
        CompilationWarning(f"task {d.task.name!r}", d.reason)
        for d in deploys
        if d.packaging == "fargate" and d.task.compute.type != "container"
    ]
    return AWSModel(
        spec=spec,
        region=options.region,
        buckets=tuple(buckets),
        tasks=tuple(deploys),
        secrets=secrets,
        schedule=spec.schedule,
        log_retention_days=options.log_retention_days,
        warnings=tuple(warnings),
        options=options,
    )


__all__ = ["AWSModel", "BucketPlan", "ModelOptions", "TaskDeploy", "build_model"]
