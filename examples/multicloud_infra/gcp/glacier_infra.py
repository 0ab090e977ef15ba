"""Secure building blocks for a Glacier GCP stack (copied into the stack as glacier_infra.py).

The generated ``__main__.py`` says *what* the pipeline needs (buckets, per-task service
accounts and their bucket access, the functions and jobs, the workflow); these functions say
*how* every such resource is made safely, the same way every time: buckets with uniform
bucket-level access and public access prevention enforced; service accounts with no role
but the bindings the program lists, each bucket binding limited by an IAM condition to the
task's own keys; the project's APIs enabled and left enabled on ``pulumi destroy`` (other
stacks in the project may use them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class Context:
    """The pipeline's name, the Google provider every resource uses, project and region, and
    the service APIs every resource waits for."""

    pipeline: str
    project: str
    region: str
    provider: gcp.Provider
    apis: Sequence[pulumi.Resource] = field(default_factory=tuple)

    def opts(self, *depends_on: pulumi.Resource, **more: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            provider=self.provider, depends_on=[*self.apis, *depends_on], **more
        )

    def invoke(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.provider)


def context(
    pipeline: str, *, project: str | None = None, region: str, services: Sequence[str]
) -> Context:
    """One explicit provider for the configured project and region, labelling every resource
    with the pipeline's name, and the service APIs the stack uses.

    ``gcp:project`` and ``gcp:region`` (``pulumi config set``) win over the compiler's values.
    """
    config = pulumi.Config("gcp")
    chosen = config.get("project") or project
    if not chosen:
        raise ValueError(
            "no Google Cloud project: set one with `pulumi config set gcp:project <project id>` "
            "(or compile with GCPCompiler(project=...))"
        )
    place = config.get("region") or region
    provider = gcp.Provider(
        "gcp", project=chosen, region=place, default_labels={"glacier-pipeline": pipeline}
    )
    opts = pulumi.ResourceOptions(provider=provider)
    apis = tuple(
        gcp.projects.Service(name.split(".")[0], service=name, disable_on_destroy=False, opts=opts)
        for name in services
    )
    return Context(pipeline=pipeline, project=chosen, region=place, provider=provider, apis=apis)


# -- storage -----------------------------------------------------------------------------------


def secure_bucket(
    ctx: Context,
    name: str,
    *,
    bucket_name: str | None = None,
    location: str,
    storage_class: str,
    versioning: bool,
    soft_delete_seconds: int,
    force_destroy: bool,
    lifecycle_rules: Sequence[Mapping[str, Any]] = (),
) -> gcp.storage.Bucket:
    """A private bucket: IAM only (no ACLs), public access prevention enforced, versions and
    their cleanup, soft delete as chosen, lifecycle rules."""
    return gcp.storage.Bucket(
        name,
        name=bucket_name,
        location=location,
        storage_class=storage_class,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning={"enabled": versioning},
        soft_delete_policy={"retention_duration_seconds": soft_delete_seconds},
        lifecycle_rules=cast(Any, [dict(r) for r in lifecycle_rules]) or None,
        force_destroy=force_destroy,
        opts=ctx.opts(),
    )


@dataclass(frozen=True)
class ExistingBucket:
    """A bucket this stack does not own: its name, nothing to manage."""

    name: pulumi.Output[str]


def existing_bucket(ctx: Context, name: str, bucket_name: str) -> ExistingBucket:
    """A bucket this stack does not own (``GCS(..., create=False)``): looked up, not changed.

    ``pulumi up`` fails here, naming the bucket, when it does not exist or cannot be read.
    """
    found = gcp.storage.get_bucket_output(name=bucket_name, opts=ctx.invoke())
    return ExistingBucket(name=found.name)


def locations(datasets: Mapping[str, Sequence[Any]]) -> pulumi.Output[str]:
    """``GLACIER_LOCATIONS``: JSON {dataset: "gs://<bucket>/<key>"} for one task."""
    return pulumi.Output.json_dumps(
        {
            name: pulumi.Output.concat("gs://", bucket.name, "/", key)
            for name, (bucket, key) in datasets.items()
        }
    )


# -- identity and access -----------------------------------------------------------------------


def service_account(
    ctx: Context, account_id: str, *, description: str
) -> gcp.serviceaccount.Account:
    """A service account with no role of its own: only the bindings made for it."""
    return gcp.serviceaccount.Account(
        account_id,
        account_id=account_id,
        display_name=f"glacier {ctx.pipeline}",
        description=description,
        opts=ctx.opts(),
    )


def member(account: gcp.serviceaccount.Account) -> pulumi.Output[str]:
    return pulumi.Output.concat("serviceAccount:", account.email)


_LIST_PREFIX = 'api.getAttribute("storage.googleapis.com/objectListPrefix", "")'


def condition(bucket: str, clauses: Sequence[Sequence[str]]) -> str:
    """The CEL expression allowing exactly ``clauses`` in ``bucket`` (see glacier_gcp.iam).

    Names reach the expression as JSON string literals (CEL reads the same escapes), never
    as expression text.
    """
    objects = f"projects/_/buckets/{bucket}/objects/"
    found = []
    for kind, head, tail in clauses:
        if kind == "object":
            found.append(f"resource.name == {json.dumps(objects + head)}")
        elif kind == "folder":
            found.append(f"resource.name.startsWith({json.dumps(objects + head + '/')})")
        elif kind == "per_run":
            found.append(
                f"(resource.name.startsWith({json.dumps(objects + head)}) && "
                f"resource.name.endsWith({json.dumps(tail)}))"
            )
        elif kind == "list":
            found.append(f"{_LIST_PREFIX}.startsWith({json.dumps(head)})")
        elif kind == "list_per_run":
            found.append(
                f"({_LIST_PREFIX}.startsWith({json.dumps(head)}) && "
                f"{_LIST_PREFIX}.endsWith({json.dumps(tail)}))"
            )
        else:
            raise ValueError(f"unknown access clause {kind!r}; compile the pipeline again")
    return " || ".join(found)


def bucket_access(
    ctx: Context,
    name: str,
    *,
    bucket: Any,
    role: str,
    account: gcp.serviceaccount.Account,
    title: str,
    clauses: Sequence[Sequence[str]],
) -> gcp.storage.BucketIAMMember:
    """``role`` on ``bucket`` for ``account``, limited by an IAM condition to ``clauses``."""
    expression = bucket.name.apply(lambda b: condition(b, clauses))
    return gcp.storage.BucketIAMMember(
        name,
        bucket=bucket.name,
        role=role,
        member=member(account),
        condition={"title": title, "expression": expression},
        opts=ctx.opts(),
    )


def secret(ctx: Context, secret_id: str) -> pulumi.Output[gcp.secretmanager.GetSecretResult]:
    """An existing Secret Manager secret, by id. Only its name reaches the stack."""
    return gcp.secretmanager.get_secret_output(secret_id=secret_id, opts=ctx.invoke())


def secret_access(
    ctx: Context, name: str, *, secret: Any, account: gcp.serviceaccount.Account
) -> gcp.secretmanager.SecretIamMember:
    """``account`` may read ``secret``'s versions, and nothing else of Secret Manager."""
    return gcp.secretmanager.SecretIamMember(
        name,
        secret_id=secret.id,
        role="roles/secretmanager.secretAccessor",
        member=member(account),
        opts=ctx.opts(),
    )
