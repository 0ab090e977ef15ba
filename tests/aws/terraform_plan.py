"""Render the resources a stack recorded under Pulumi's mocks as a Terraform plan (JSON).

pulumi-aws is bridged from the Terraform AWS provider, so a Pulumi resource is a Terraform
resource under another spelling: the type token ``aws:s3/bucketLifecycleConfiguration:...``
is ``aws_s3_bucket_lifecycle_configuration``, argument names are camelCase for snake_case,
and a block Terraform allows several of (``rule``) has a plural Pulumi name (``rules``).
Undoing that spelling gives a plan that Terraform scanners read: ``checkov --framework
terraform_plan`` runs its AWS policies over it (``tests/aws/test_aws_checkov.py``).

An input that is another resource's output (a bucket's id in its policy's ``bucket``) is
rendered as Terraform renders a value only known after apply: left out of the planned values,
with a reference in the configuration section, which is how scanners connect the two resources
(a bucket to its logging configuration).
"""

from __future__ import annotations

import re
from typing import Any

from aws_mocks import Run

#: Type tokens whose Terraform name is not ``aws_<module>_<resource>``.
TERRAFORM_TYPES = {
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
}
#: Arguments that are maps (their keys are data, never renamed).
MAP_ARGUMENTS = {"variables", "tags", "tagsAll", "defaultTags"}
_WORD = re.compile(r"(?<!^)(?=[A-Z])")
_NAME = re.compile(r"[^A-Za-z0-9_]")


def snake(name: str) -> str:
    return _WORD.sub("_", name).lower()


def terraform_type(token: str) -> str | None:
    """``aws:s3/bucketPolicy:BucketPolicy`` -> ``aws_s3_bucket_policy``; None: not AWS."""
    if token in TERRAFORM_TYPES:
        return TERRAFORM_TYPES[token]
    package, _, rest = token.partition(":")
    if package != "aws":
        return None
    module, _, name = rest.partition(":")
    return f"aws_{module.split('/')[0]}_{snake(name)}"


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return _arguments(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(getattr(value, "path", value))  # an asset: the file it uploads


def _arguments(inputs: dict[str, Any]) -> dict[str, Any]:
    """Pulumi inputs as Terraform arguments: snake_case, singular block names, map args kept."""
    found: dict[str, Any] = {}
    for key, value in inputs.items():
        name = snake(key)
        if key in MAP_ARGUMENTS:
            found[name] = value
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            found[_singular(name)] = [_arguments(v) for v in value]
        elif isinstance(value, dict):
            found[name] = [_arguments(value)]  # a single block: a list of one in a plan
        else:
            found[name] = _value(value)
    return found


def _address(tf_type: str, name: str) -> str:
    return f"{tf_type}.{_NAME.sub('_', name)}"


def terraform_plan(run: Run) -> dict[str, Any]:
    """The plan ``terraform show -json`` would print for the resources ``run`` created."""
    mocks = run.mocks
    planned, configured = [], []
    for r in mocks.resources:
        tf_type = terraform_type(r.type)
        if tf_type is None:
            continue
        address = _address(tf_type, r.name)
        values = _arguments(r.inputs)
        expressions: dict[str, Any] = {}
        for prop, sources in sorted(mocks.input_waits.get((r.type, r.name), {}).items()):
            for source in sorted(sources):
                source_type = terraform_type(source[0])
                if source_type is None or source not in mocks.created:
                    continue
                created_id, outputs = mocks.created[source]
                answered = {**outputs, "id": created_id}
                matching = [k for k, v in sorted(answered.items()) if v == r.inputs.get(prop)]
                if matching and matching[0] in ("id", "arn", "name", "bucket"):
                    target = _address(source_type, source[1])
                    values[snake(prop)] = None  # known after apply
                    references = [f"{target}.{snake(matching[0])}", target]
                    expressions[snake(prop)] = {"references": references}
        planned.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": address.split(".", 1)[1],
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "values": values,
            }
        )
        configured.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": address.split(".", 1)[1],
                "expressions": expressions,
            }
        )
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": planned}},
        "configuration": {"root_module": {"resources": configured}},
    }
