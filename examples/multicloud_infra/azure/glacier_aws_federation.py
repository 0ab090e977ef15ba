"""Reaching AWS data from another cloud's task, without long-lived keys (copied into a task
stack as glacier_aws_federation.py).

A task on Google Cloud that reads or writes a dataset stored in S3 gets an IAM role that
trusts exactly its service account through web identity federation: Google's OIDC issuer
``accounts.google.com`` is a built-in identity provider of AWS STS (no OIDC provider
resource needed), and the trust policy requires the token's ``sub`` and authorized party
(``accounts.google.com:aud``) to be the service account's unique id and its audience
(``accounts.google.com:oaud``) to be the one Glacier's runtime asks for. The role's policy
holds exactly the task's grants for those datasets (the same neutral grants a task on AWS
gets). The bucket names come from the data stack's ``buckets`` output through a Pulumi
``StackReference``: deploy the data stack first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

#: The audience the runtime requests its Google ID token for.
AUDIENCE = "sts.amazonaws.com"
#: Pulumi stack output of the data stack: {dataset: bucket name}.
BUCKETS_OUTPUT = "buckets"
#: Pulumi stack output of the AWS stack that runs next: its state machine's ARN.
STATE_MACHINE_OUTPUT = "state_machine_arn"


@dataclass(frozen=True)
class Peer:
    """The pipeline's AWS stack: its bucket names and region, and a provider for the role."""

    reference: pulumi.StackReference
    provider: aws.Provider

    def bucket(self, dataset: str) -> pulumi.Output[str]:
        return self.reference.get_output(BUCKETS_OUTPUT).apply(lambda b: str(b[dataset]))

    @property
    def region(self) -> pulumi.Output[str]:
        return self.reference.get_output("region").apply(str)

    @property
    def state_machine(self) -> pulumi.Output[str]:
        return self.reference.get_output(STATE_MACHINE_OUTPUT).apply(str)


def peer(pipeline: str, provider: str = "aws") -> Peer:
    """The data stack of ``pipeline`` on AWS: ``glacier:peer.aws`` config, else the stack of
    the same name in project ``<pipeline>-aws`` of this stack's organization."""
    config = pulumi.Config("glacier")
    # A self-managed backend (and Pulumi's mocks) has no organization: its stacks are
    # addressed as organization/<project>/<stack>.
    organization = pulumi.get_organization() or "organization"
    name = config.get(f"peer.{provider}") or (
        f"{organization}/{pipeline}-{provider}/{pulumi.get_stack()}"
    )
    reference = pulumi.StackReference(f"{provider}-peer", stack_name=name)
    region = reference.get_output("region").apply(str)
    return Peer(reference, aws.Provider(f"{provider}-peer", region=region))


def _statements(bucket: str, grants: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """IAM statements for ``[dataset, pattern, mode, folder]`` grants in ``bucket``."""
    statements = []
    for _, pattern, mode, folder in grants:
        if mode == "list":
            prefixes = [pattern, f"{pattern}/*"]
            statements.append({
                "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": prefixes}},
            })  # fmt: skip
            continue
        actions = ["s3:GetObject"]
        if mode == "write":
            actions = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
            if folder:
                actions.append("s3:DeleteObject")
        statements.append(
            {"Effect": "Allow", "Action": actions, "Resource": f"arn:aws:s3:::{bucket}/{pattern}"}
        )
    return statements


def policy(buckets: Mapping[str, str], grants: Sequence[Sequence[Any]]) -> str:
    """The role's policy: ``grants`` ([dataset, pattern, mode, folder]) in their datasets'
    ``buckets``."""
    statements = []
    for g in grants:
        statements += _statements(buckets[g[0]], [g])
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def trust(unique_id: str, audience: str = AUDIENCE) -> str:
    """Only the Google service account ``unique_id`` may assume the role, with its own token
    for ``audience``."""
    condition = {
        "accounts.google.com:aud": unique_id,
        "accounts.google.com:sub": unique_id,
        "accounts.google.com:oaud": audience,
    }
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": "accounts.google.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": condition},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


@dataclass(frozen=True)
class Access:
    """What a task needs for its AWS data: the role to assume and each dataset's URL."""

    role: aws.iam.Role
    locations: Mapping[str, pulumi.Output[str]]
    region: pulumi.Output[str]


def google_access(
    name: str, *, peer: Peer, account: Any, datasets: Mapping[str, str],
    grants: Sequence[Sequence[Any]],
) -> Access:  # fmt: skip
    """A role in the data stack's account that service account ``account`` assumes, allowed
    exactly ``grants``; ``datasets`` maps each dataset to its key."""
    names = sorted(datasets)
    buckets = pulumi.Output.all(*[peer.bucket(d) for d in names]).apply(
        lambda found: dict(zip(names, found, strict=True))
    )
    opts = pulumi.ResourceOptions(provider=peer.provider)
    role = aws.iam.Role(
        name,
        assume_role_policy=account.unique_id.apply(trust),
        description=f"Glacier: Google service account access for {name}",
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


def start_policy(state_machine: str) -> str:
    """The relay's policy: start executions of ``state_machine``, nothing else."""
    statement = {"Effect": "Allow", "Action": "states:StartExecution", "Resource": state_machine}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


@dataclass(frozen=True)
class Handoff:
    """What the relay needs to start the AWS stack's run: the role and the state machine."""

    role: aws.iam.Role
    state_machine: pulumi.Output[str]
    region: pulumi.Output[str]


def handoff_access(name: str, *, peer: Peer, account: Any) -> Handoff:
    """A role in the AWS stack's account that the relay's service account ``account``
    assumes, allowed only to start the state machine the AWS stack exports."""
    opts = pulumi.ResourceOptions(provider=peer.provider)
    role = aws.iam.Role(
        name,
        assume_role_policy=account.unique_id.apply(trust),
        description=f"Glacier: hand-off from Google Cloud to {name}",
        max_session_duration=3600,
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{name}-start", role=role.id, policy=peer.state_machine.apply(start_policy), opts=opts
    )
    return Handoff(role, peer.state_machine, peer.region)


def locations(local: pulumi.Output[str], remote: Mapping[str, pulumi.Output[str]]) -> Any:
    """``GLACIER_LOCATIONS`` with the remote datasets' URLs added to the local ones."""
    names = sorted(remote)

    def merge(args: list[Any]) -> str:
        found = dict(json.loads(args[0]))
        found.update(zip(names, args[1:], strict=True))
        return json.dumps(found, sort_keys=True)

    return pulumi.Output.all(local, *[remote[n] for n in names]).apply(merge)


__all__ = [
    "AUDIENCE",
    "Access",
    "Handoff",
    "Peer",
    "google_access",
    "handoff_access",
    "locations",
    "peer",
    "policy",
    "start_policy",
    "trust",
]
