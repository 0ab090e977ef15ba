"""``AWSCompiler``: a placed pipeline -> a Pulumi Python project for AWS.

The compiler never imports pulumi: it builds an :class:`~glacier_aws.model.AWSModel`
(checked names, packaging, least-privilege statements fitted within IAM's limits), prints it
as ``__main__.py`` plus ``state_machine.json`` (the ASL) and ``policies.json`` (every role's
IAM policies), both with ARNs filled in at deploy time, and adds the project files, the
function bundle and a README saying how to deploy, run and tear it down. ``pulumi up``
does the rest.

The region given here is where the stack deploys unless the stack's ``aws:region`` config
says otherwise: the compiled region is that key's default (the project file's value).
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from glacier.compilation.base import CompileInput, Compiler, StackBuild
from glacier.compilation.infrastructure import DatasetPlan, ResolvedResource, Stack, TaskPlan
from glacier.compilation.projection import spec_on
from glacier.errors import CompilationError
from glacier_aws.container import container_base_image, dockerfile
from glacier_aws.cost import monthly_cost
from glacier_aws.iam import RolePolicies
from glacier_aws.model import AWSModel, ModelOptions, build_model
from glacier_aws.operations import operations_options
from glacier_aws.program import render_program
from glacier_aws.project import project_files
from glacier_aws.readme import stack_readme

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


class AWSCompiler(Compiler):
    """Compile a pipeline to an AWS stack (a Pulumi Python project: S3, IAM, Lambda/Fargate,
    Step Functions, EventBridge)."""

    provider = "aws"

    def __init__(
        self,
        region: str = "us-east-1",
        *,
        log_retention_days: int = 30,
        intermediate_expiry_days: int = 7,
        noncurrent_version_days: int | None = 30,
        access_logs: bool = True,
        container_insights: bool = False,
        kms_key: str | None = None,
        base_image: str | None = None,
    ) -> None:
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise CompilationError(
                f"AWSCompiler: region must look like 'us-east-1', found {region!r}"
            )
        if log_retention_days not in _RETENTION_DAYS:
            msg = f"AWSCompiler: log_retention_days must be one of CloudWatch's values {_RETENTION_DAYS}, found {log_retention_days!r}"
            raise CompilationError(msg)
        if not isinstance(intermediate_expiry_days, int) or intermediate_expiry_days < 1:
            raise CompilationError(
                f"AWSCompiler: intermediate_expiry_days must be an int >= 1, found {intermediate_expiry_days!r}"
            )
        self.options = ModelOptions(
            region,
            intermediate_expiry_days,
            log_retention_days,
            **operations_options(
                region=region,
                noncurrent_version_days=noncurrent_version_days,
                access_logs=access_logs,
                container_insights=container_insights,
                kms_key=kms_key,
            ),
        )
        self.base_image = container_base_image(base_image)
        #: Where the region came from, for messages (``glacier compile`` prints it).
        self.region_source = "the region argument"

    @property
    def region(self) -> str:
        return self.options.region

    @classmethod
    def from_env(cls) -> AWSCompiler:
        """Region from ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` (default us-east-1), as the AWS
        CLI reads it; ``region_source`` says which, so the choice is never silent."""
        for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if os.environ.get(var):
                compiler = cls(region=os.environ[var])
                compiler.region_source = var
                return compiler
        compiler = cls(region="us-east-1")
        compiler.region_source = "the default; AWS_REGION and AWS_DEFAULT_REGION are not set"
        return compiler

    def __repr__(self) -> str:
        return f"AWSCompiler(region={self.region!r})"

    def build_stack(self, job: CompileInput) -> StackBuild:
        spec = job.spec
        aws_spec = spec_on(spec, job.placement, "aws")
        model = build_model(aws_spec, job.placement, self.options)
        model = replace(model, spec=aws_spec)
        files = project_files(spec, job.source, bool(model.containers), self.region)
        if model.containers:
            files["app/Dockerfile"] = dockerfile(self.base_image)
        files.update(render_program(model))
        files["README.md"] = stack_readme(model)
        cost, assumptions = monthly_cost(model)
        stack = Stack(
            provider="aws",
            files=dict(sorted(files.items())),
            resources=resources(model),
            tasks=task_plans(model),
            datasets=dataset_plans(model),
            monthly_cost_usd=cost,
            cost_assumptions=assumptions,
        )
        return StackBuild(stack=stack, warnings=model.warnings)


_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def resources(model: AWSModel) -> tuple[ResolvedResource, ...]:
    """The resources the stack creates (and the existing buckets it only looks up, as
    ``existing_s3_bucket``), for ``infra.resources`` and the plan."""
    found = [
        ResolvedResource("aws", "s3_bucket" if b.create else "existing_s3_bucket", b.explicit_name or b.logical, {
            "datasets": list(b.datasets), "purpose": b.purpose, "versioning": b.versioning,
            "object_lock": b.object_lock, "lifecycle_rules": [r["id"] for r in b.lifecycle_rules],
            "existing": not b.create, "access_logs": b.access_logs,
        })
        for b in model.buckets
    ]  # fmt: skip
    for d in model.tasks:
        kind = "lambda_function" if d.packaging == "lambda" else "ecs_task_definition"
        props = {
            "task": d.task.name,
            "memory": d.memory,
            "timeout": d.timeout,
            "architecture": d.architecture,
        }
        if d.packaging == "fargate":
            props["cpu"] = d.cpu
        found.append(ResolvedResource("aws", kind, d.logical, props))
        for role in (d.role, d.exec_role):
            found.extend(_role_resources(role, {"task": d.task.name}))
        found.append(ResolvedResource("aws", "log_group", d.logical, {"task": d.task.name}))
        if d.packaging == "lambda":  # the function's resource policy: the state machine invokes it
            permission = {"task": d.task.name, "principal": f"{model.spec.name}-states"}
            found.append(ResolvedResource("aws", "lambda_permission", d.logical, permission))
    if model.containers:
        found.append(ResolvedResource("aws", "ecs_cluster", model.spec.name, {}))
    name = model.spec.name
    if not model.tasks:  # a storage-only stack: no state machine, no schedule (program.py)
        return tuple(found)
    found.extend(_role_resources(model.machine_role, {"state_machine": name}))
    found.append(
        ResolvedResource(
            "aws", "state_machine", name, {"tasks": [t.task.name for t in model.tasks]}
        )
    )
    if model.schedule:
        found.append(ResolvedResource("aws", "eventbridge_rule", name, {"cron": model.schedule}))
    return tuple(found)


def _role_resources(role: RolePolicies | None, owner: dict[str, str]) -> list[ResolvedResource]:
    """An IAM role, with its policies' worst-case size, and its managed policies if any."""
    if role is None:
        return []
    props = {**owner, "policy_chars": role.chars, "managed_policies": len(role.managed)}
    found = [ResolvedResource("aws", "iam_role", role.role, props)]
    for n in range(1, len(role.managed) + 1):
        found.append(ResolvedResource("aws", "iam_policy", f"{role.role}-{n}", {"role": role.role}))
    return found


def dataset_plans(model: AWSModel) -> tuple[DatasetPlan, ...]:
    """Each stored or ephemeral dataset's bucket and key; says where ephemeral data goes."""
    keys = {ds: key for t in model.tasks for ds, (_, key) in t.locations.items()}
    plans = []
    for b in model.buckets:
        bucket = b.explicit_name or f"<{b.logical}-*>"
        for ds in b.datasets:
            where = f"s3://{bucket}/{keys.get(ds, '')}"
            note = ""
            if b.purpose == "intermediate":
                days = next(r for r in b.lifecycle_rules if "expiration" in r)["expiration"]["days"]
                note = (
                    "ephemeral: placed in the pipeline-owned intermediate bucket, one copy per "
                    f"run, expires after {days} days"
                )
            plans.append(DatasetPlan(ds, "aws", where, note))
    return tuple(sorted(plans, key=lambda p: p.dataset))


def task_plans(model: AWSModel) -> tuple[TaskPlan, ...]:
    plans = []
    for d in model.tasks:
        permissions = _permissions("task role", d.role)
        if d.packaging == "fargate":
            permissions += _permissions("execution role", d.exec_role)
        packaging = "AWS Lambda function" if d.packaging == "lambda" else "ECS Fargate task"
        plans.append(TaskPlan(d.task.name, "aws", packaging, d.reason, tuple(permissions)))
    return tuple(plans)


def _permissions(label: str, role: RolePolicies | None) -> list[str]:
    """Each statement of ``role`` described, saying which managed policy holds it."""
    if role is None:
        return []
    found = [f"{label}: {s.describe()}" for s in role.inline]
    for n, chunk in enumerate(role.managed, start=1):
        found += [f"{label} (managed policy {n}): {s.describe()}" for s in chunk]
    return found


__all__ = ["AWSCompiler"]
