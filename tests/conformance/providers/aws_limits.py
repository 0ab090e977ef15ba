"""AWS's hard limits, measured on the resources a generated stack created under the mocks.

Sizes are measured the way AWS counts them: IAM ignores whitespace in a policy; Lambda
counts the bytes of every variable's name and value; Step Functions and ECS the bytes of the
document. Names are measured as deployed: an explicit name as given, a ``name_prefix`` plus
the 26 characters AWS appends, a Pulumi auto-name as the logical name plus ``-`` and 7.

The mocks answer short ARNs (``arn:aws:...:us-east-1:...``, a log group with 7 characters
after its prefix); a real account may hand out longer ones. IAM policies and the state
machine definition, which hold ARNs, are measured with each ARN at its longest instead
(:func:`longest`): the partition ``aws-us-gov``, the region ``us-isof-south-1``, a log group's
26-character suffix. ECS names are exact under the mocks (a cluster's auto-name, a task
definition family of its task's name and the stack's hash), so they do not grow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..adapter import LimitFact

if TYPE_CHECKING:
    from .aws import AWSDeployed

STEP_FUNCTIONS_DEFINITION_BYTES = 1_048_576
IAM_ROLE_INLINE_CHARS = 10_240  # all of one role's inline policies together
IAM_MANAGED_POLICY_CHARS = 6_144
IAM_MANAGED_POLICIES_PER_ROLE = 10  # the default quota (adjustable to 20)
LAMBDA_ENVIRONMENT_BYTES = 4_096
ECS_TASK_DEFINITION_BYTES = 65_536

#: type -> (longest name AWS accepts, the input holding an explicit name, its prefix input)
NAME_RULES: dict[str, tuple[int, str, str]] = {
    "aws:iam/role:Role": (64, "name", "namePrefix"),
    "aws:iam/rolePolicy:RolePolicy": (128, "name", "namePrefix"),
    "aws:iam/policy:Policy": (128, "name", "namePrefix"),
    "aws:lambda/function:Function": (64, "name", ""),
    "aws:sfn/stateMachine:StateMachine": (80, "name", "namePrefix"),
    "aws:cloudwatch/logGroup:LogGroup": (512, "name", "namePrefix"),
    "aws:cloudwatch/eventRule:EventRule": (64, "name", "namePrefix"),
    "aws:s3/bucket:Bucket": (63, "bucket", "bucketPrefix"),
    "aws:s3/bucketV2:BucketV2": (63, "bucket", "bucketPrefix"),
    "aws:ecs/cluster:Cluster": (255, "name", ""),
    "aws:ecs/taskDefinition:TaskDefinition": (255, "family", ""),
    "aws:ecr/repository:Repository": (256, "name", ""),
    "aws:ec2/securityGroup:SecurityGroup": (255, "name", "namePrefix"),
}
PREFIX_SUFFIX = 26  # the unique id AWS (Terraform) appends to a name_prefix
AUTONAME_SUFFIX = 8  # Pulumi's "-" + 7 random characters


#: The longest partition and region AWS has today.
LONGEST_PARTITION, LONGEST_REGION = "aws-us-gov", "us-isof-south-1"
_ARN = re.compile(r"arn:aws:[^\s\"]*")


def longest(arn: str) -> int:
    """How much longer ``arn`` (as the mocks answered it) can be in a real account."""
    grows = len(LONGEST_PARTITION) - len("aws")
    if arn.split(":")[3] == "us-east-1":
        grows += len(LONGEST_REGION) - len("us-east-1")
    if ":log-group:" in arn:
        grows += PREFIX_SUFFIX - len("1a2b3c4")  # the mocks fill a name_prefix with 7
    return grows


def _minified(document: Any) -> int:
    """``document`` as AWS counts it, every ARN in it at its longest (see :func:`longest`)."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return len(text) + sum(longest(arn) for arn in _ARN.findall(text))


def _bytes(text: str) -> int:
    return len(text.encode())


def deployed_name_length(typ: str, name: str, inputs: dict[str, Any]) -> int:
    _, explicit, prefix = NAME_RULES[typ]
    if inputs.get(explicit):
        return len(inputs[explicit])
    if prefix and inputs.get(prefix):
        return len(inputs[prefix]) + PREFIX_SUFFIX
    return len(name) + AUTONAME_SUFFIX


def limit_facts(stack: AWSDeployed) -> list[LimitFact]:
    makers: list[Callable[[AWSDeployed], Iterator[LimitFact]]] = [
        _definitions,
        _roles,
        _managed_policies,
        _lambda_environments,
        _task_definitions,
        _names,
    ]
    return [fact for make in makers for fact in make(stack)]


def _definitions(stack: AWSDeployed) -> Iterator[LimitFact]:
    for machine in stack.run.of("aws:sfn/stateMachine:StateMachine"):
        definition = machine.inputs["definition"]
        size = _bytes(definition) + sum(longest(arn) for arn in _ARN.findall(definition))
        yield LimitFact(
            "stepfunctions-definition", machine.name, size, STEP_FUNCTIONS_DEFINITION_BYTES
        )


def _roles(stack: AWSDeployed) -> Iterator[LimitFact]:
    for role in stack.run.of("aws:iam/role:Role"):
        inline = sum(_minified(doc) for doc in stack.inline_policies(role))
        yield LimitFact("iam-role-inline-policies", role.name, inline, IAM_ROLE_INLINE_CHARS)
        attached = len(stack.managed_policy_arns(role))
        yield LimitFact(
            "iam-role-managed-policies", role.name, attached, IAM_MANAGED_POLICIES_PER_ROLE
        )


def _managed_policies(stack: AWSDeployed) -> Iterator[LimitFact]:
    for policy in stack.run.of("aws:iam/policy:Policy"):
        size = _minified(json.loads(policy.inputs["policy"]))
        yield LimitFact("iam-managed-policy", policy.name, size, IAM_MANAGED_POLICY_CHARS)


def _lambda_environments(stack: AWSDeployed) -> Iterator[LimitFact]:
    for fn in stack.run.of("aws:lambda/function:Function"):
        variables = (fn.inputs.get("environment") or {}).get("variables") or {}
        size = sum(_bytes(k) + _bytes(v) for k, v in variables.items())
        yield LimitFact("lambda-environment", fn.name, size, LAMBDA_ENVIRONMENT_BYTES)


def _task_definitions(stack: AWSDeployed) -> Iterator[LimitFact]:
    for definition in stack.run.of("aws:ecs/taskDefinition:TaskDefinition"):
        document = {**definition.inputs}
        document["containerDefinitions"] = json.loads(document["containerDefinitions"])
        size = _bytes(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        yield LimitFact("ecs-task-definition", definition.name, size, ECS_TASK_DEFINITION_BYTES)


def _names(stack: AWSDeployed) -> Iterator[LimitFact]:
    for r in stack.run.mocks.resources:
        if r.type in NAME_RULES:
            length = deployed_name_length(r.type, r.name, r.inputs)
            yield LimitFact("resource-names", f"{r.type} {r.name}", length, NAME_RULES[r.type][0])
