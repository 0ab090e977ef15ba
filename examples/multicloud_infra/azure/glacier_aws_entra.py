"""Reaching AWS data from an Azure task without a stored key (copied into an Azure stack as
glacier_aws_entra.py, beside glacier_aws_federation.py whose peer, policy and locations it
uses).

AWS STS does not know Microsoft Entra ID by itself: the stack registers the tenant's token
issuer as an IAM OpenID Connect provider in the data's account (once per account and
issuer: ``glacier:awsOidcProvider`` names an existing one instead), with the audience the
runtime asks its managed identity's token for (``glacier:awsAudience``, the application ID
URI of an app registration in the tenant, default ``api://glacier-<pipeline>-aws``). Each
task then gets a role whose trust requires the token's ``aud`` to be that audience and its
``sub`` to be the principal (object) id of the task's own user-assigned identity, and whose
policy holds exactly the task's grants on those datasets. Entra issues version 1 access
tokens (issuer ``https://sts.windows.net/<tenant>/``) unless the app registration asks for
version 2 (``glacier:entraTokenVersion: "2"``, issuer
``https://login.microsoftonline.com/<tenant>/v2.0``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from glacier_aws_federation import Access, Peer, policy


def audience(pipeline: str) -> str:
    """The audience of the tokens the tasks present to AWS (stack config, else a default)."""
    return pulumi.Config("glacier").get("awsAudience") or f"api://glacier-{pipeline}-aws"


def issuer(tenant: str, version: str | None = None) -> str:
    """The ``iss`` of the tenant's access tokens (version 1 unless told otherwise)."""
    version = version or pulumi.Config("glacier").get("entraTokenVersion") or "1"
    if version == "2":
        return f"https://login.microsoftonline.com/{tenant}/v2.0"
    if version != "1":
        msg = f"glacier:entraTokenVersion must be '1' or '2', found {version!r}"
        raise ValueError(msg)
    return f"https://sts.windows.net/{tenant}/"


@dataclass(frozen=True)
class Trust:
    """The IAM OIDC provider of the tenant's issuer in the data's account, and the audience."""

    provider_arn: pulumi.Output[str]
    issuer: pulumi.Output[str]
    audience: str


def entra_provider(name: str, *, peer: Peer, tenant: Any, pipeline: str) -> Trust:
    """The tenant's issuer as an IAM OIDC provider (created unless ``glacier:awsOidcProvider``
    names one: an account holds one provider per issuer)."""
    aud = audience(pipeline)
    url = pulumi.Output.from_input(tenant).apply(lambda t: issuer(str(t)))
    existing = pulumi.Config("glacier").get("awsOidcProvider")
    if existing:
        return Trust(pulumi.Output.from_input(existing), url, aud)
    made = aws.iam.OpenIdConnectProvider(
        name, url=url, client_id_lists=[aud], opts=pulumi.ResourceOptions(provider=peer.provider)
    )
    return Trust(made.arn, url, aud)


def trust(provider_arn: str, issuer_url: str, principal_id: str, aud: str) -> str:
    """Only the managed identity ``principal_id`` may assume the role, with a token of the
    tenant for ``aud``."""
    key = issuer_url.removeprefix("https://")
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{key}:aud": aud, f"{key}:sub": principal_id}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def entra_access(
    name: str, *, peer: Peer, trusted: Trust, identity: Any, datasets: Mapping[str, str],
    grants: Sequence[Sequence[Any]],
) -> Access:  # fmt: skip
    """A role in the data stack's account that the user-assigned ``identity`` assumes,
    allowed exactly ``grants``; ``datasets`` maps each dataset to its key."""
    names = sorted(datasets)
    buckets = pulumi.Output.all(*[peer.bucket(d) for d in names]).apply(
        lambda found: dict(zip(names, found, strict=True))
    )
    opts = pulumi.ResourceOptions(provider=peer.provider)
    document = pulumi.Output.all(trusted.provider_arn, trusted.issuer, identity.principal_id)
    role = aws.iam.Role(
        name,
        assume_role_policy=document.apply(lambda f: trust(f[0], f[1], f[2], trusted.audience)),
        description=f"Glacier: Azure managed identity access for {name}",
        max_session_duration=3600,
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{name}-data", role=role.id, policy=buckets.apply(lambda b: policy(b, grants)), opts=opts
    )
    locations = {
        d: pulumi.Output.concat("s3://", peer.bucket(d), "/", key) for d, key in datasets.items()
    }
    return Access(role, locations, peer.region)


__all__ = ["Trust", "audience", "entra_access", "entra_provider", "issuer", "trust"]
