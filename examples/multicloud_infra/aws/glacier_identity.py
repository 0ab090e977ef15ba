"""Identity for a Glacier AWS stack (copied into the stack as glacier_identity.py).

Every role is one only its service can assume, and only on behalf of this account's
resources where the service says on whose behalf it acts (:func:`trust_policy`), with
exactly the policies the compiler wrote for it in ``policies.json``: one inline policy, and
customer-managed policies only where IAM's 10,240-character inline limit per role makes
them necessary (the compiler measured them with every ARN at its longest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from glacier_infra import Context, Statement


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


def role(
    ctx: Context,
    name: str,
    *,
    service: str,
    policies: Mapping[str, Any],
    values: Mapping[str, Any],
    source_condition: bool = True,
) -> aws.iam.Role:
    """A role only ``service`` can assume (``source_condition``: see :func:`trust_policy`),
    with exactly its policies from ``policies.json`` (see :func:`role_with_policies`)."""
    return role_with_policies(
        ctx, name, service=service, policies=policies, values=values,
        source_condition=source_condition,
    )[0]  # fmt: skip


def role_with_policies(
    ctx: Context,
    name: str,
    *,
    service: str,
    policies: Mapping[str, Any],
    values: Mapping[str, Any],
    source_condition: bool = True,
) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
    """:func:`role` and the resources that give it its permissions: its inline policy, and
    each customer-managed policy (``<name>-<n>``, only past IAM's inline limit) with its
    attachment. A resource AWS checks the permissions of when it is created (a state
    machine's log delivery) must depend on these, not only on the role.

    ``values`` fills the documents' ``"${name}"`` placeholders (an ARN each, resolved at
    deploy time); they must match one to one, or the deploy stops before creating anything
    with a stale ``policies.json``.
    """
    if name not in policies:
        raise ValueError(
            f"policies.json has no policies for role {name!r}; compile the pipeline again"
        )
    inline, managed = policies[name]["inline"], list(policies[name].get("managed", ()))
    used = {p for doc in (inline, *managed) for p in PLACEHOLDER.findall(json.dumps(doc))}
    if used != set(values):
        missing, unused = sorted(used - set(values)), sorted(set(values) - used)
        msg = (
            f"role {name!r}: placeholders without a value {missing}, values without a "
            f"placeholder {unused}; compile the pipeline again so policies.json and __main__.py agree"
        )
        raise ValueError(msg)
    assume = trust_policy(ctx, service, None if source_condition else False)
    created = aws.iam.Role(
        name, assume_role_policy=pulumi.Output.json_dumps(assume), opts=ctx.opts()
    )
    child = pulumi.ResourceOptions(provider=ctx.provider, parent=created)
    found: list[pulumi.Resource] = []
    if inline["Statement"]:
        document = _filled(inline, values)
        found.append(aws.iam.RolePolicy(name, role=created.id, policy=document, opts=child))
    for n, doc in enumerate(managed, start=1):
        policy = aws.iam.Policy(f"{name}-{n}", policy=_filled(doc, values), opts=child)
        attached = aws.iam.RolePolicyAttachment(
            f"{name}-{n}", role=created.name, policy_arn=policy.arn, opts=child
        )
        found += [policy, attached]
    return created, found


def policies(path: str) -> dict[str, Any]:
    """The stack's IAM policy documents (``policies.json``): role name -> ``{"inline": ...,
    "managed": [...]}``, as IAM stores them, with ``"${name}"`` where an ARN goes."""
    with open(path, encoding="utf-8") as fh:
        found: dict[str, Any] = json.load(fh)
    return found


#: A placeholder for an ARN in ``policies.json``: ``${work_bucket.arn}``.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def _filled(document: Any, values: Mapping[str, Any]) -> pulumi.Output[str]:
    """``document`` as JSON with each placeholder replaced by its resolved value, inside the
    parsed document's strings, never in its text: no ARN can change its structure."""
    used = sorted(set(PLACEHOLDER.findall(json.dumps(document))))
    if not used:
        return pulumi.Output.from_input(json.dumps(document))

    def fill(found: Mapping[str, str]) -> str:
        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: walk(v) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v) for v in node]
            if isinstance(node, str) and "${" in node:
                return PLACEHOLDER.sub(lambda m: found[m.group(1)], node)
            return node

        return json.dumps(walk(document))

    return pulumi.Output.all(**{k: values[k] for k in used}).apply(fill)


def role_with_policy(
    ctx: Context,
    name: str,
    *,
    service: str,
    statements: Sequence[Statement],
    source_arn: Any = None,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role with exactly ``statements`` as its inline policy, and that policy (a schedule's
    role: a few fixed statements). A resource AWS checks the permissions of when it is
    created (a schedule's target) must depend on the policy, not only on the role.
    """
    assume = trust_policy(ctx, service, source_arn)
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


#: The resources of a service that may assume a role for it, in this region and account:
#: the services whose role assumption carries ``aws:SourceArn`` and ``aws:SourceAccount``
#: (AWS documents them for Step Functions and ECS task roles). Lambda's execution-role
#: assumption and ECS's task execution role carry no documented source: conditioning them
#: would make the role impossible to assume, so their roles get none.
SOURCE_ARNS = {
    "states.amazonaws.com": "states:{region}:{account}:stateMachine:*",
    "ecs-tasks.amazonaws.com": "ecs:{region}:{account}:*",
}


def trust_policy(ctx: Context, service: str, source_arn: Any = None) -> dict[str, Any]:
    """Who may assume a role: ``service``, and only on behalf of this account's resources
    (the confused-deputy guard), when the service says on whose behalf it acts.

    ``source_arn``: the one resource that may (an EventBridge rule's ARN); None: the
    service's pattern in :data:`SOURCE_ARNS`, if any; ``False``: no condition (the roles
    :func:`role` makes with ``source_condition=False``: an ECS task execution role).
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_arn is None and service in SOURCE_ARNS:
        pattern = SOURCE_ARNS[service]
        source_arn = pulumi.Output.all(ctx.partition, ctx.account).apply(
            lambda found: f"arn:{found[0]}:" + pattern.format(region=ctx.region, account=found[1])
        )
    if source_arn is not None and source_arn is not False:
        statement["Condition"] = {
            "ArnLike": {"aws:SourceArn": source_arn},
            "StringEquals": {"aws:SourceAccount": ctx.account},
        }
    return {"Version": "2012-10-17", "Statement": [statement]}
