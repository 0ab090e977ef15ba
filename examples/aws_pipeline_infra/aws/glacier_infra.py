"""Secure building blocks for a Glacier AWS stack (copied into the stack as glacier_infra.py).

The generated ``__main__.py`` says *what* the pipeline needs (buckets, per-task roles and
functions, the state machine); these functions say *how* every such resource is made
safely, the same way every time: buckets private, owner-enforced, encrypted and TLS-only;
roles with one inline policy and no managed policies; logs with retention; tracing on.

Deploy-time choices are Pulumi stack config, with what the compiler was given as defaults:
``aws:region`` (:func:`context`), ``glacier:bucketNames`` (:meth:`Context.bucket_name`) and
the Fargate network (``glacier_compute.network``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import pulumi
import pulumi_aws as aws

Statement = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """The pipeline's name, the AWS provider every resource uses, its region and partition
    (``aws``, ``aws-cn``, ``aws-us-gov``...: the second field of every ARN built by hand), and
    the deployed name of each bucket the pipeline names explicitly."""

    pipeline: str
    region: str
    partition: str
    provider: aws.Provider
    bucket_names: Mapping[str, str] = field(default_factory=dict)

    def opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on))

    def invoke(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.provider)

    def bucket_name(self, compiled: str) -> str:
        """The name bucket ``compiled`` (as the pipeline names it) has in this stack."""
        return self.bucket_names.get(compiled, compiled)


def context(pipeline: str, *, default_region: str, bucket_names: Sequence[str] = ()) -> Context:
    """One explicit provider, tagging every resource with the pipeline's name.

    The region is the stack's ``aws:region`` config (``pulumi config set aws:region
    eu-west-1``), else ``default_region``, the one the pipeline was compiled for; the
    credentials profile is ``aws:profile`` when set, else the environment's. An explicit
    provider reads no stack config by itself, hence the lookups here. The
    partition is the provider's own answer for that region, so ARNs built by hand hold
    ``aws-cn`` in China and ``aws-us-gov`` in GovCloud.
    """
    config = pulumi.Config("aws")
    region = config.get("region") or default_region
    provider = aws.Provider(
        "aws",
        region=region,
        profile=config.get("profile"),
        default_tags={"tags": {"glacier:pipeline": pipeline}},
    )
    partition = aws.get_partition(opts=pulumi.InvokeOptions(provider=provider)).partition
    return Context(pipeline, region, partition, provider, _bucket_names(bucket_names))


def _bucket_names(known: Sequence[str]) -> dict[str, str]:
    """``glacier:bucketNames``: a JSON object renaming explicitly named buckets in this stack
    (``pulumi config set --path 'glacier:bucketNames.acme-landing' acme-landing-dev``), so two
    stacks of one pipeline can live in one partition (bucket names are global)."""
    found = pulumi.Config("glacier").get_object("bucketNames") or {}
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in found.items()
    ):
        raise ValueError(
            "config glacier:bucketNames must be a JSON object of bucket name -> new bucket name"
        )
    unknown = sorted(set(found) - set(known))
    if unknown:
        msg = (
            f"config glacier:bucketNames renames {unknown}, which this stack does not name; "
            f"the buckets it names are {sorted(known)}"
        )
        raise ValueError(msg)
    return dict(found)


# -- storage -----------------------------------------------------------------------------------


def secure_bucket(
    ctx: Context,
    name: str,
    *,
    bucket_name: str | None = None,
    region: str | None = None,
    versioning: bool = True,
    object_lock: bool = False,
    lifecycle_rules: Sequence[Mapping[str, Any]] = (),
) -> aws.s3.Bucket:
    """A private bucket: public access blocked, ACLs off, SSE, TLS only, lifecycle rules."""
    bucket = aws.s3.Bucket(
        name,
        bucket=bucket_name,
        region=region,
        object_lock_enabled=object_lock or None,
        opts=ctx.opts(),
    )
    child = pulumi.ResourceOptions(provider=ctx.provider, parent=bucket)
    aws.s3.BucketPublicAccessBlock(
        name, bucket=bucket.id, region=region, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=child,
    )  # fmt: skip
    aws.s3.BucketOwnershipControls(
        name,
        bucket=bucket.id,
        region=region,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=bucket.id, region=region,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=child,
    )  # fmt: skip
    if versioning:
        aws.s3.BucketVersioning(
            name,
            bucket=bucket.id,
            region=region,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
    aws.s3.BucketPolicy(
        name, bucket=bucket.id, region=region, policy=tls_only_policy(bucket), opts=child
    )
    if lifecycle_rules:
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            region=region,
            rules=cast(Any, [dict(r) for r in lifecycle_rules]),
            opts=child,
        )
    return bucket


class BucketLike(Protocol):
    """What the program reads of a bucket: its name and ARN."""

    @property
    def bucket(self) -> pulumi.Output[str]: ...

    @property
    def arn(self) -> pulumi.Output[str]: ...


@dataclass(frozen=True)
class ExistingBucket:
    """A bucket this stack does not own: its name and ARN, nothing to manage."""

    bucket: pulumi.Output[str]
    arn: pulumi.Output[str]


def existing_bucket(
    ctx: Context, name: str, bucket_name: str, *, region: str | None = None
) -> ExistingBucket:
    """A bucket this stack does not own (``S3(..., create=False)``): looked up, not changed.

    A data-source lookup (HeadBucket), not a resource read, so the deploying identity needs
    no rights on the bucket's configuration (which another team or account owns); ``pulumi
    up`` fails here, naming the bucket, when it does not exist or cannot be reached.
    """
    found = aws.s3.get_bucket_output(bucket=bucket_name, region=region, opts=ctx.invoke())
    return ExistingBucket(bucket=found.bucket, arn=found.arn)


def tls_only_policy(bucket: aws.s3.Bucket) -> pulumi.Output[str]:
    """Deny every request to the bucket that does not use TLS."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def object_arn(bucket: BucketLike, key: str) -> pulumi.Output[str]:
    """The ARN of an object key (or key pattern) in ``bucket``."""
    return pulumi.Output.concat(bucket.arn, "/", key)


def locations(datasets: Mapping[str, Sequence[Any]]) -> pulumi.Output[str]:
    """``GLACIER_LOCATIONS``: JSON {dataset: "s3://<bucket>/<key>"} for one task."""
    return pulumi.Output.json_dumps(
        {
            name: pulumi.Output.concat("s3://", bucket.bucket, "/", key)
            for name, (bucket, key) in datasets.items()
        }
    )


# -- identity, logs, secrets -------------------------------------------------------------------


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[Any],
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": list(resources),
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def role(ctx: Context, name: str, *, service: str, statements: Sequence[Statement]) -> aws.iam.Role:
    """A role only ``service`` can assume, with exactly ``statements`` as its inline policy."""
    return role_with_policy(ctx, name, service=service, statements=statements)[0]


def role_with_policy(
    ctx: Context, name: str, *, service: str, statements: Sequence[Statement]
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """:func:`role` and its inline policy, for a resource AWS checks the permissions of when
    it is created (a state machine's log delivery): that resource must depend on the policy,
    not only on the role, or ``pulumi up`` may create it before the policy is attached.
    """
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    created = aws.iam.Role(
        name, assume_role_policy=pulumi.Output.json_dumps(assume), opts=ctx.opts()
    )
    policy = aws.iam.RolePolicy(
        name,
        role=created.id,
        policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        opts=pulumi.ResourceOptions(provider=ctx.provider, parent=created),
    )
    return created, policy


#: Where task log groups go (``/glacier/<pipeline>-<task>-<suffix>``).
LOG_PREFIX = "/glacier/"
#: Where log groups that an AWS service delivers to go (Step Functions). CloudWatch Logs grants
#: log delivery through one resource policy per account, at most 5,120 characters; once it
#: is near full, delivery works only to groups under this prefix, so a group elsewhere makes
#: the account's Nth state machine fail to create ("not authorized to access the Log Destination").
VENDED_LOG_PREFIX = "/aws/vendedlogs/states/"


def log_group(
    ctx: Context, name: str, *, retention_days: int, prefix: str = LOG_PREFIX
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        name, name_prefix=f"{prefix}{name}-", retention_in_days=retention_days, opts=ctx.opts()
    )


def log_streams_arn(group: aws.cloudwatch.LogGroup) -> pulumi.Output[str]:
    """The ARN covering every stream of ``group`` (what logs:PutLogEvents is checked against)."""
    return pulumi.Output.concat(group.arn, ":*")


def secret(ctx: Context, name: str) -> pulumi.Output[aws.secretsmanager.GetSecretResult]:
    """An existing Secrets Manager secret, by name. Only its ARN reaches the stack."""
    return aws.secretsmanager.get_secret_output(name=name, opts=ctx.invoke())
