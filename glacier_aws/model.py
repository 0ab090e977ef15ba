"""The AWS deployment model: what the stack will create, as plain data, before any code.

``build_model`` turns the placed IR into buckets, per-task deployments (packaging, limits,
environment: :mod:`glacier_aws.deploy`) and per-task IAM statements (:mod:`glacier_aws.policy`),
and checks what spans them: data placed on other clouds, logical names two resources would
share. The program generator prints this model and the plan reports it, so what
``glacier plan`` shows is exactly what ``pulumi up`` deploys. Every cloud name is checked
while the model is built (see :mod:`glacier_aws.naming`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from glacier.compilation.grants import check_keys
from glacier.compilation.infrastructure import CompilationWarning
from glacier.compilation.layout import cloud_key
from glacier.compilation.naming import AUTONAME_SUFFIX, check, kebab
from glacier.compilation.resolve import Placement
from glacier.errors import CompilationError
from glacier.ir import DatasetIR, PipelineIR
from glacier_aws.deploy import TaskDeploy, bucket_names, check_lambda_env, deploy_task
from glacier_aws.iam import RolePolicies, fit_policies
from glacier_aws.lifecycle import (
    access_log_lifecycle,
    bucket_lifecycle,
    check_readable,
    work_bucket_lifecycle,
)
from glacier_aws.naming import ECR_REPOSITORY, S3_BUCKET, STATE_MACHINE, Namer
from glacier_aws.operations import kms_statements
from glacier_aws.policy import task_statements


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
    #: The KMS key (ARN or alias ARN) its objects are encrypted with (``S3(kms_key=...)``).
    kms_key: str | None = None


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
    #: The state machine's role, its statements fitted into IAM policies.
    machine_role: RolePolicies | None = None

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


# -- buckets ---------------------------------------------------------------------------------


Settings = tuple[str | None, str | None, bool, bool, bool, str | None]


def _bucket_settings(ds: DatasetIR) -> Settings:
    """(explicit bucket name, region, versioning, object lock, create, KMS key) of a
    storage-backed dataset. An existing bucket's versioning and lock are its owner's."""
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
            config.get("kms_key"),
        )
    return None, None, bool(config["versioning"]), False, True, None  # ObjectStorage(...)


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
                "different region, versioning, object lock, kms_key or create settings; "
                "make them equal"
            )
            raise CompilationError(msg)
        explicit, region, versioning, lock, create, kms_key = settings.pop()
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
                kms_key=kms_key,
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


def _locations(spec: PipelineIR, buckets: list[BucketPlan]) -> dict[str, tuple[str, str]]:
    """Dataset -> (bucket variable, key template): each dataset's bucket, and its key from the
    core's key layout (the stack renders ``s3://<bucket>/<key>`` for the runtime)."""
    by_dataset = {d: b.var for b in buckets for d in b.datasets}
    return {ds.name: (by_dataset[ds.name], cloud_key(ds)) for ds in spec.datasets}


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
        if any(p.endswith("placed on 'gcp'") for p in problems):
            msg += (
                " (an AWS task reaching GCS needs a workload identity pool with an AWS provider "
                "in the GCP project, not built yet: see docs/decisions/165-aws-tasks-reaching-gcs.md)"
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
    # No dataset's key may overlap another's in one bucket (named as the user knows it).
    shown = {b.var: b.explicit_name or f"<{b.logical}>" for b in buckets}
    check_keys({ds: (shown[var], key) for ds, (var, key) in locations.items()})
    tasks = [t for t in spec.tasks if placement.tasks[t.name] == "aws"]
    formats = {ds.name: ds.format for ds in spec.datasets}
    deploys = [deploy_task(spec, t, locations, namer, formats) for t in tasks]
    _check_unique_logical_names(spec, buckets, deploys)
    for arch in sorted(
        {d.architecture for d in deploys if d.packaging == "fargate" and not d.image}
    ):
        fix = "rename the pipeline: ECR allows no '-' or '_' at its end and none twice in a row"
        owner = f"pipeline {spec.name!r} (its container image repository)"
        check(ECR_REPOSITORY, kebab(spec.name, arch), owner, suffix=AUTONAME_SUFFIX, fix=fix)
    names = bucket_names(buckets)
    for d in deploys:
        if d.packaging == "lambda":
            check_lambda_env(d, buckets, options.region, names)
    secret_names = sorted({s for d in deploys for s in d.secrets.values()})
    secrets = {name: namer.take(f"secret_{name}") for name in secret_names}
    stack_key = kms_statements(options.kms_key)
    # S3(kms_key=...): readers get kms:Decrypt, writers GenerateDataKey too, on that key only
    keys = {ds: b.kms_key for b in buckets if b.kms_key for ds in b.datasets}
    deploys = [
        replace(d, statements=task_statements(d, formats, secrets, keys) + stack_key)
        for d in deploys
    ]
    warnings = [
        CompilationWarning(f"task {d.task.name!r}", d.reason)
        for d in deploys
        if d.packaging == "fargate" and d.task.compute.type != "container"
    ]
    model = AWSModel(
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
    return fit_policies(model)  # every role's statements, measured and fitted in IAM's limits


__all__ = ["AWSModel", "BucketPlan", "ModelOptions", "TaskDeploy", "build_model"]
