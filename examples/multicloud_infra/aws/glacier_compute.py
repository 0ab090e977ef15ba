"""Compute and orchestration building blocks (copied into the stack as glacier_compute.py)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
from glacier_bundle import require_runtime
from glacier_identity import allow, role_with_policies, role_with_policy
from glacier_infra import VENDED_LOG_PREFIX, Context, log_group, log_streams_arn


@dataclass(frozen=True)
class Fargate:
    """What the state machine needs to run and stop one Fargate task."""

    task_definition: aws.ecs.TaskDefinition
    task_role: aws.iam.Role
    execution_role: aws.iam.Role


def lambda_bundle(
    ctx: Context, name: str, *, bucket: aws.s3.Bucket, built: Any
) -> aws.s3.BucketObjectv2:
    """Upload a built bundle (over Lambda's 50 MB direct-upload limit, so through S3)."""
    return aws.s3.BucketObjectv2(
        name,
        bucket=bucket.id,
        key=f"artifacts/{name}-{built.sha256[:12].replace('/', '_').replace('+', '-')}.zip",
        source=pulumi.FileAsset(built.path),
        opts=ctx.opts(),
    )


def lambda_function(
    ctx: Context,
    name: str,
    *,
    role: aws.iam.Role,
    bundle: aws.s3.BucketObjectv2,
    built: Any,
    logs: aws.cloudwatch.LogGroup,
    environment: Mapping[str, Any],
    memory: int,
    timeout: int,
    architecture: str,
    runtime: str,
    layers: Sequence[str] = (),
    reserved_concurrency: int | None = None,
) -> aws.lambda_.Function:
    """A task's function: the shared bundle, the generic handler, its own role and logs."""
    return aws.lambda_.Function(
        name,
        role=role.arn,
        s3_bucket=bundle.bucket,
        s3_key=bundle.key,
        source_code_hash=built.sha256,
        handler="glacier_aws.runtime.handler",
        runtime=runtime,
        architectures=[architecture],
        memory_size=memory,
        timeout=timeout,
        layers=list(layers) or None,
        reserved_concurrent_executions=reserved_concurrency,
        environment={"variables": dict(environment)},
        kms_key_arn=ctx.kms_key,  # None: Lambda's own key encrypts the environment
        logging_config={"log_format": "JSON", "log_group": logs.name},
        tracing_config={"mode": "Active"},
        opts=ctx.opts(role, logs),
    )


@dataclass(frozen=True)
class Network:
    """Where Fargate tasks run: the ``awsvpcConfiguration`` of every RunTask."""

    subnet_ids: Any
    security_group_ids: Any
    assign_public_ip: str  # "ENABLED" or "DISABLED"


@dataclass(frozen=True)
class Image:
    repository: aws.ecr.Repository
    ref: pulumi.Output[str]


def network(ctx: Context) -> Network:
    """The subnets, security groups and public-IP setting of the Fargate tasks.

    Configure with ``pulumi config set``; without configuration the tasks run in the default
    VPC's subnets with a public IP (to reach S3, ECR and CloudWatch without a NAT gateway):

    - ``glacier:subnetIds``: JSON list of subnet ids (``--path 'glacier:subnetIds[0]'``...);
      private subnets need a NAT gateway or VPC endpoints for S3, ECR, Logs and Secrets Manager.
    - ``glacier:securityGroupIds``: JSON list; default: a new egress-only group in the subnets' VPC.
    - ``glacier:assignPublicIp``: ``true``/``false``; default ``true`` without ``subnetIds``,
      ``false`` with them (configured subnets are usually private, with a NAT gateway).
    """
    config = pulumi.Config("glacier")
    subnet_ids = config.get_object("subnetIds")
    group_ids = config.get_object("securityGroupIds")
    public = config.get_bool("assignPublicIp")
    if subnet_ids:
        if not isinstance(subnet_ids, list) or not all(isinstance(i, str) for i in subnet_ids):
            raise ValueError("config glacier:subnetIds must be a JSON list of subnet ids")
        subnets: Any = subnet_ids
        vpc_id = aws.ec2.get_subnet_output(id=subnet_ids[0], opts=ctx.invoke()).vpc_id
    else:
        vpc_id = aws.ec2.get_vpc_output(default=True, opts=ctx.invoke()).id
        found = aws.ec2.get_subnets_output(
            filters=cast(Any, [{"name": "vpc-id", "values": [vpc_id]}]), opts=ctx.invoke()
        )
        subnets = found.ids
    if group_ids:
        if not isinstance(group_ids, list) or not all(isinstance(i, str) for i in group_ids):
            raise ValueError("config glacier:securityGroupIds must be a JSON list of group ids")
        groups: Any = group_ids
    else:
        egress = {"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"],
                  "description": "S3, ECR, CloudWatch Logs and what the task's code calls"}  # fmt: skip
        group = aws.ec2.SecurityGroup(
            f"{ctx.pipeline}-tasks",
            description="Glacier Fargate tasks: outbound only",
            vpc_id=vpc_id,
            egress=[cast(Any, egress)],
            opts=ctx.opts(),
        )
        groups = [group.id]
    if public is None:
        public = not subnet_ids
    return Network(
        subnet_ids=subnets,
        security_group_ids=groups,
        assign_public_ip="ENABLED" if public else "DISABLED",
    )


def cluster(ctx: Context, *, container_insights: bool = False) -> aws.ecs.Cluster:
    """The cluster the tasks run in; CloudWatch Container Insights (per-task metrics, billed
    as custom metrics) only when asked for: ``AWSCompiler(container_insights=True)``."""
    insights = "enabled" if container_insights else "disabled"
    return aws.ecs.Cluster(
        ctx.pipeline, settings=[{"name": "containerInsights", "value": insights}], opts=ctx.opts()
    )


_UNTAGGED = {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days"}
_BUNDLES = {"tagStatus": "tagged", "tagPrefixList": ["bundle-"], "countType": "imageCountMoreThan"}


def image_lifecycle(keep: int) -> dict[str, Any]:
    """The images a repository keeps: the ``keep`` newest (a rollback, the runs still on an
    older revision); untagged images (a failed push) for a day."""
    return {
        "rules": [
            {"rulePriority": 1, "description": "Expire untagged images (failed pushes) after a day",
             "selection": {**_UNTAGGED, "countNumber": 1}, "action": {"type": "expire"}},
            {"rulePriority": 2, "description": f"Keep the {keep} newest bundle images",
             "selection": {**_BUNDLES, "countNumber": keep}, "action": {"type": "expire"}},
        ]
    }  # fmt: skip


def context_digest(context: str) -> str:
    """A hash of every file under ``context`` (paths and bytes): the image's tag, so a tag
    names one content forever (the repository's tags are immutable). Every file, as the
    build's own context hash counts them: a rebuild (a changed context) is a new tag."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(context):
        dirs.sort()
        for file in sorted(files):
            path = os.path.join(root, file)
            digest.update(os.path.relpath(path, context).replace(os.sep, "/").encode() + b"\0")
            with open(path, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()


def container_image(ctx: Context, name: str, *, context: str, platform: str, keep: int) -> Image:
    """An ECR repository (immutable tags, scanned on push, old images expired) and the bundle
    image built from ``context`` and pushed to it, tagged with the context's content hash."""
    import pulumi_docker_build as docker_build

    require_runtime(context)
    encryption = {"encryption_type": "KMS", "kms_key": ctx.kms_key} if ctx.kms_key else None
    repository = aws.ecr.Repository(
        name,
        image_scanning_configuration={"scan_on_push": True},
        image_tag_mutability="IMMUTABLE",
        encryption_configurations=cast(Any, [encryption] if encryption else None),
        force_delete=True,
        opts=ctx.opts(),
    )
    aws.ecr.LifecyclePolicy(
        name,
        repository=repository.name,
        policy=json.dumps(image_lifecycle(keep)),
        opts=pulumi.ResourceOptions(provider=ctx.provider, parent=repository),
    )
    token = aws.ecr.get_authorization_token_output(
        registry_id=repository.registry_id, opts=ctx.invoke()
    )
    tag = f"bundle-{context_digest(context)[:32]}"
    image = docker_build.Image(
        name,
        context={"location": context},
        platforms=cast(Any, [platform]),
        push=True,
        tags=[pulumi.Output.concat(repository.repository_url, ":", tag)],
        registries=[
            {
                "address": repository.repository_url,
                "username": token.user_name,
                "password": token.password,
            }
        ],
        opts=pulumi.ResourceOptions(depends_on=[repository]),
    )
    return Image(
        repository=repository,
        ref=pulumi.Output.concat(repository.repository_url, "@", image.digest),
    )


def fargate_task(
    ctx: Context,
    name: str,
    *,
    task: str,
    task_role: aws.iam.Role,
    execution_role: aws.iam.Role,
    logs: aws.cloudwatch.LogGroup,
    image: Any,
    cpu: float,
    memory: int,
    architecture: str,
    ephemeral_storage: int,
    environment: Mapping[str, Any],
    secrets: Mapping[str, Any],
) -> Fargate:
    """A task definition running ``python -m glacier_aws.runtime --task <task>``.

    The container's root filesystem is read-only; ``/tmp`` (``TMPDIR``, where Polars spills)
    is a writable volume on the task's ephemeral storage. The family is the logical name plus
    a hash of the Pulumi organization, project and stack, so two stacks of one pipeline in an
    account never register revisions of each other's family.
    """
    container = {
        "name": "task",
        "image": image,
        "essential": True,
        "readonlyRootFilesystem": True,
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "command": ["python", "-m", "glacier_aws.runtime", "--task", task],
        "environment": [{"name": k, "value": v} for k, v in environment.items()],
        "secrets": [{"name": k, "valueFrom": v} for k, v in secrets.items()],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": logs.name,
                "awslogs-region": ctx.region,
                "awslogs-stream-prefix": task,
            },
        },
    }
    definition = aws.ecs.TaskDefinition(
        name,
        family=f"{name}-{stack_hash()}",
        volumes=[{"name": "tmp"}],
        cpu=str(int(cpu * 1024)),
        memory=str(memory),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform={
            "operating_system_family": "LINUX",
            "cpu_architecture": architecture.upper(),
        },
        ephemeral_storage={"size_in_gib": ephemeral_storage},
        task_role_arn=task_role.arn,
        execution_role_arn=execution_role.arn,
        container_definitions=pulumi.Output.json_dumps([container]),
        opts=ctx.opts(),
    )
    return Fargate(task_definition=definition, task_role=task_role, execution_role=execution_role)


def stack_hash() -> str:
    """8 hex characters naming this Pulumi stack (organization, project and stack)."""
    try:
        organization = pulumi.get_organization() or ""
    except Exception:  # an older engine: the project and stack names still tell stacks apart
        organization = ""
    stack = f"{organization}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return hashlib.sha256(stack.encode()).hexdigest()[:8]


def family_arn(task: Fargate) -> pulumi.Output[str]:
    """Every revision of ``task``'s task definition (what ``ecs:RunTask`` is checked against)."""
    return pulumi.Output.concat(task.task_definition.arn_without_revision, ":*")


def running_tasks_arn(ecs: aws.ecs.Cluster) -> pulumi.Output[str]:
    """Every task running on ``ecs`` (``arn:...:task/<cluster>/*``)."""
    return ecs.arn.apply(lambda arn: arn.replace(":cluster/", ":task/") + "/*")


def sync_rule_arn(ctx: Context, ecs: aws.ecs.Cluster) -> pulumi.Output[str]:
    """The managed EventBridge rule ``runTask.sync`` waits with, in the cluster's account:
    ``arn:<partition>:events:<region>:<account>:rule/StepFunctionsGetEventsForECSTaskRule``."""

    def rule(arn: str) -> str:
        _, partition, _, _, account, *_ = arn.split(":")
        return f"arn:{partition}:events:{ctx.region}:{account}:rule/StepFunctionsGetEventsForECSTaskRule"

    return ecs.arn.apply(rule)


#: A placeholder is a whole JSON string value naming a program variable: "${clean_fn.arn}".
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


def _placeholders(node: Any) -> set[str]:
    """Every placeholder name used as a whole string value in ``node``."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and (match := PLACEHOLDER.fullmatch(item)):
            found.add(match.group(1))
    return found


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    """``node`` with each placeholder string replaced by its resolved value (keys untouched)."""
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    if isinstance(node, str) and (match := PLACEHOLDER.fullmatch(node)):
        return values[match.group(1)]
    return node


#: A Step Functions service integration as the file writes it (the commercial partition).
INTEGRATION = re.compile(r"arn:aws:states:::[a-zA-Z0-9.:-]+")
#: A partition as AWS names them: ``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso-b``...
PARTITION = re.compile(r"aws(-[a-z]+)*")


def _in_partition(node: Any, partition: str) -> Any:
    """``node`` with every Task state's integration ``Resource`` in ``partition``."""
    if isinstance(node, dict):
        return {
            k: f"arn:{partition}:{v[len('arn:aws:') :]}"
            if k == "Resource" and isinstance(v, str) and INTEGRATION.fullmatch(v)
            else _in_partition(v, partition)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_in_partition(v, partition) for v in node]
    return node


def state_machine_definition(
    path: str, values: Mapping[str, Any], *, partition: str = "aws"
) -> pulumi.Output[str]:
    """The ASL in ``path`` (JSON) with its ``"${name}"`` placeholders filled from ``values``,
    in ``partition``.

    The definition is data: it lives in the stack as a reviewable JSON file rather than as a
    huge literal in ``__main__.py``. Only string values that are exactly a placeholder are
    replaced, never text inside a string or a key, so no resolved ARN can change the
    document's structure. Placeholders and values must match one to one: a stale file fails
    the deploy instead of deploying a machine that invokes the wrong functions.

    The file names service integrations as AWS documents them, ``arn:aws:states:::...``;
    the stack's partition (``ctx.partition``) replaces ``aws`` in each, so the same file
    deploys to China (``aws-cn``) and GovCloud (``aws-us-gov``), where ``arn:aws:`` is refused.
    """
    if not PARTITION.fullmatch(partition):
        raise ValueError(f"partition must look like 'aws' or 'aws-cn', found {partition!r}")
    with open(path, encoding="utf-8") as fh:
        document = _in_partition(json.load(fh), partition)
    used = _placeholders(document)
    if used != set(values):
        missing, unused = sorted(used - set(values)), sorted(set(values) - used)
        msg = (
            f"{path}: placeholders without a value {missing}, values without a placeholder "
            f"{unused}; compile the pipeline again so {path} and __main__.py agree"
        )
        raise ValueError(msg)
    if not values:
        return pulumi.Output.from_input(json.dumps(document))
    resolved = pulumi.Output.all(**values)
    return resolved.apply(lambda found: json.dumps(_fill(document, found)))


def state_machine(
    ctx: Context,
    name: str,
    *,
    definition: pulumi.Output[str],
    policies: Mapping[str, Any],
    values: Mapping[str, Any],
    functions: Mapping[str, aws.lambda_.Function] | None = None,
    retention_days: int,
) -> aws.sfn.StateMachine:
    """The orchestrator, with the role ``<name>-states`` (its policies from ``policies.json``).

    Each function in ``functions`` (logical name -> function) lets that role invoke it, and
    only it, through its own resource policy: an exact grant per function that does not
    grow the role's policies with the number of tasks (same-account access is allowed when
    either the identity's or the resource's policy allows it).
    """
    logs = log_group(ctx, f"{name}-states", retention_days=retention_days, prefix=VENDED_LOG_PREFIX)
    # CreateStateMachine checks that the role may deliver logs: wait for its policies too.
    machine_role, granted = role_with_policies(
        ctx, f"{name}-states", service="states.amazonaws.com", policies=policies, values=values
    )
    invokes = [
        aws.lambda_.Permission(
            logical,
            action="lambda:InvokeFunction",
            function=fn.arn,
            principal=machine_role.arn,
            statement_id_prefix="GlacierStateMachine",
            opts=ctx.opts(),
        )
        for logical, fn in (functions or {}).items()
    ]
    return aws.sfn.StateMachine(
        name,
        role_arn=machine_role.arn,
        definition=definition,
        logging_configuration={
            "log_destination": log_streams_arn(logs),
            "include_execution_data": True,
            "level": "ERROR",
        },
        tracing_configuration={"enabled": True},
        opts=ctx.opts(machine_role, *granted, *invokes),
    )


def schedule(
    ctx: Context, name: str, *, machine: aws.sfn.StateMachine, expression: str
) -> aws.cloudwatch.EventRule:
    """An EventBridge rule starting the state machine on ``expression``, through a role only
    EventBridge can assume, and only for this rule."""
    rule = aws.cloudwatch.EventRule(name, schedule_expression=expression, opts=ctx.opts())
    start = allow("StartRun", ["states:StartExecution"], [machine.arn])
    events_role, events_policy = role_with_policy(
        ctx, f"{name}-schedule", service="events.amazonaws.com", statements=[start],
        source_arn=rule.arn,
    )  # fmt: skip
    aws.cloudwatch.EventTarget(
        name, rule=rule.name, arn=machine.arn, role_arn=events_role.arn, input="{}",
        opts=ctx.opts(events_policy),
    )  # fmt: skip
    return rule
