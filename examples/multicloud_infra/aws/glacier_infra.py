"""Secure building blocks for a Glacier AWS stack (copied into the stack as glacier_infra.py).

The generated ``__main__.py`` says *what* the pipeline needs (buckets, per-task roles and
functions, the state machine); these functions say *how* every such resource is made
safely, the same way every time: buckets private, owner-enforced, encrypted, TLS-only and
access-logged; logs with retention; tracing on. Roles are ``glacier_identity.py``'s.

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
    (``aws``, ``aws-cn``, ``aws-us-gov``...: the second field of every ARN built by hand), the
    deploying account, the deployed name of each bucket the pipeline names explicitly, and the
    customer-managed KMS key, if any."""

    pipeline: str
    region: str
    partition: str
    provider: aws.Provider
    account: pulumi.Output[str]
    bucket_names: Mapping[str, str] = field(default_factory=dict)
    #: A customer-managed KMS key ARN for buckets, log groups, functions and images; None:
    #: AWS-managed encryption (SSE-S3, CloudWatch Logs' and Lambda's own keys).
    kms_key: str | None = None

    def opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on))

    def invoke(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.provider)

    def bucket_name(self, compiled: str) -> str:
        """The name bucket ``compiled`` (as the pipeline names it) has in this stack."""
        return self.bucket_names.get(compiled, compiled)


def context(
    pipeline: str,
    *,
    default_region: str,
    bucket_names: Sequence[str] = (),
    kms_key: str | None = None,
) -> Context:
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
    caller = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider))
    return Context(
        pipeline=pipeline,
        region=region,
        partition=partition,
        provider=provider,
        account=caller.account_id,
        bucket_names=_bucket_names(bucket_names),
        kms_key=kms_key,
    )


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
    kms_key: str | None = None,
) -> aws.s3.Bucket:
    """A private bucket: public access blocked, ACLs off, SSE, TLS only, lifecycle rules.

    Encrypted with ``kms_key`` (the dataset's ``S3(kms_key=...)``), else the context's KMS
    key when it has one (S3 Bucket Keys on, so objects do not each cost a KMS request), else
    with SSE-S3.
    """
    key = kms_key or ctx.kms_key
    bucket = _private_bucket(ctx, name, bucket_name, region, object_lock, key)
    child = pulumi.ResourceOptions(provider=ctx.provider, parent=bucket)
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
    _lifecycle(name, bucket, region, lifecycle_rules, child)
    return bucket


def _private_bucket(
    ctx: Context,
    name: str,
    bucket_name: str | None,
    region: str | None,
    object_lock: bool,
    kms_key: str | None,
) -> aws.s3.Bucket:
    """A bucket with public access blocked, ACLs off and default encryption (no policy)."""
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
    by_default: dict[str, Any] = {"sse_algorithm": "AES256"}
    if kms_key:
        by_default = {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key}
    rule: dict[str, Any] = {"apply_server_side_encryption_by_default": by_default}
    if kms_key:
        rule["bucket_key_enabled"] = True
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=bucket.id, region=region, rules=[cast(Any, rule)], opts=child
    )
    return bucket


def _lifecycle(
    name: str,
    bucket: aws.s3.Bucket,
    region: str | None,
    rules: Sequence[Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
) -> None:
    if rules:
        aws.s3.BucketLifecycleConfiguration(
            name, bucket=bucket.id, region=region, rules=cast(Any, [dict(r) for r in rules]),
            opts=opts,
        )  # fmt: skip


def access_log_bucket(
    ctx: Context, name: str, *, lifecycle_rules: Sequence[Mapping[str, Any]]
) -> aws.s3.Bucket:
    """The bucket S3 delivers the stack's buckets' server access logs to (its policy comes
    with :func:`deliver_access_logs`, which names the buckets it may receive logs from).

    SSE-S3 whatever the context's KMS key: S3 cannot deliver access logs to a bucket whose
    default encryption is SSE-KMS. Not versioned: log objects are written once, then expire.
    """
    bucket = _private_bucket(ctx, name, None, None, False, None)
    child = pulumi.ResourceOptions(provider=ctx.provider, parent=bucket)
    _lifecycle(name, bucket, None, lifecycle_rules, child)
    return bucket


#: Source buckets an access-log bucket's policy names one by one (each ARN at most 86
#: characters in the policy: 200 stay under the 20 KB a bucket policy may hold).
MAX_NAMED_LOG_SOURCES = 200


def deliver_access_logs(
    ctx: Context, name: str, logs: aws.s3.Bucket, buckets: Mapping[str, aws.s3.Bucket]
) -> None:
    """Log every request to ``buckets`` (logical name -> bucket) into ``logs`` (logical name
    ``name``) under ``<logical name>/``: the policy letting S3's log delivery write there for
    exactly these buckets of this account (TLS-only like every bucket), then their logging.

    A bucket policy holds at most 20 KB: beyond :data:`MAX_NAMED_LOG_SOURCES` buckets, any
    bucket of this account may deliver (``aws:SourceAccount`` still holds).
    """
    sources: Any = [b.arn for _, b in sorted(buckets.items())]
    if len(buckets) > MAX_NAMED_LOG_SOURCES:
        sources = f"arn:{ctx.partition}:s3:::*"
    delivery = {
        "Sid": "S3ServerAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": pulumi.Output.concat(logs.arn, "/*"),
        "Condition": {
            "ArnLike": {"aws:SourceArn": sources},
            "StringEquals": {"aws:SourceAccount": ctx.account},
        },
    }
    document = tls_only_document(logs)
    document["Statement"].append(delivery)
    child = pulumi.ResourceOptions(provider=ctx.provider, parent=logs)
    policy = aws.s3.BucketPolicy(
        name, bucket=logs.id, policy=pulumi.Output.json_dumps(document), opts=child
    )
    for name, bucket in sorted(buckets.items()):
        aws.s3.BucketLogging(
            name, bucket=bucket.id, target_bucket=logs.id, target_prefix=f"{name}/",
            opts=pulumi.ResourceOptions(provider=ctx.provider, parent=bucket, depends_on=[policy]),
        )  # fmt: skip


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


def tls_only_document(bucket: aws.s3.Bucket) -> dict[str, Any]:
    """A bucket policy denying every request to the bucket that does not use TLS."""
    return {
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


def tls_only_policy(bucket: aws.s3.Bucket) -> pulumi.Output[str]:
    """Deny every request to the bucket that does not use TLS."""
    return pulumi.Output.json_dumps(tls_only_document(bucket))


def locations(datasets: Mapping[str, Sequence[Any]]) -> pulumi.Output[str]:
    """``GLACIER_LOCATIONS``: JSON {dataset: "s3://<bucket>/<key>"} for one task."""
    return pulumi.Output.json_dumps(
        {
            name: pulumi.Output.concat("s3://", bucket.bucket, "/", key)
            for name, (bucket, key) in datasets.items()
        }
    )


# -- identity, logs, secrets -------------------------------------------------------------------


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
    """A log group keeping its events ``retention_days``, with the context's KMS key if any
    (its key policy must let ``logs.<region>.amazonaws.com`` use it)."""
    return aws.cloudwatch.LogGroup(
        name, name_prefix=f"{prefix}{name}-", retention_in_days=retention_days,
        kms_key_id=ctx.kms_key, opts=ctx.opts(),
    )  # fmt: skip


def log_streams_arn(group: aws.cloudwatch.LogGroup) -> pulumi.Output[str]:
    """The ARN covering every stream of ``group`` (what logs:PutLogEvents is checked against)."""
    return pulumi.Output.concat(group.arn, ":*")


def secret(ctx: Context, name: str) -> pulumi.Output[aws.secretsmanager.GetSecretResult]:
    """An existing Secrets Manager secret, by name. Only its ARN reaches the stack."""
    return aws.secretsmanager.get_secret_output(name=name, opts=ctx.invoke())
