"""The AWS adapter: reads a generated AWS stack's recorded resources as neutral facts.

Everything here comes from generated output: the resources ``__main__.py`` created under
Pulumi's mocks with the real ``pulumi_aws`` SDK (their inputs, and the ids and ARNs the mocks
answered, which is how one resource refers to another), the Step Functions definition the
state machine was given, and the files of the bundle.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from glacier.compilation import Compiler
from glacier_aws import AWSCompiler

from ..adapter import LIST, READ, WRITE, Bundle, Grant, Identity, LimitFact, Location, StorageFacts
from . import aws_asl
from .aws_limits import limit_facts

_AWS_TESTS = str(Path(__file__).resolve().parents[2] / "aws")  # the AWS tests' Pulumi mocks
if _AWS_TESTS not in sys.path:
    sys.path.append(_AWS_TESTS)
from aws_mocks import Recorded, Run, run_stack  # noqa: E402

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ROLE = "aws:iam/role:Role"
FUNCTION = "aws:lambda/function:Function"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"

_OBJECT_MODES = {
    "s3:getobject": READ,
    "s3:putobject": WRITE,
    "s3:deleteobject": WRITE,
    "s3:abortmultipartupload": WRITE,
    "s3:listbucket": LIST,
}
#: What the Lambda Python runtime provides without installing it (AWS documents boto3 and
#: its dependencies as included) and what the container image installs beside the bundle.
PLATFORM_PACKAGES = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
_PARTITION = re.compile(r"^arn:aws[a-z-]*:")  # aws, aws-cn, aws-us-gov


def _parse_json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _env_of(resource: Recorded) -> dict[str, str]:
    """A task's environment: its Lambda function's variables, or its container's."""
    if resource.type == FUNCTION:
        return dict((resource.inputs.get("environment") or {}).get("variables") or {})
    (container,) = json.loads(resource.inputs["containerDefinitions"])
    return {e["name"]: e["value"] for e in container.get("environment", ())}


def _key_pattern(key: str) -> str:
    """A location template's per-run parts (``{run_id}``) as the wildcard they match."""
    return re.sub(r"\{[a-z_]+\}", "*", key)


@dataclass
class AWSDeployed:
    """One AWS stack's program run under the mocks."""

    run: Run
    stack_dir: Path

    # -- indexes over the recorded resources ---------------------------------------------

    def outputs(self, r: Recorded) -> dict[str, Any]:
        return self.run.mocks.created[(r.type, r.name)][1]

    def resource_id(self, r: Recorded) -> str:
        return self.run.mocks.created[(r.type, r.name)][0]

    @cached_property
    def by_arn(self) -> dict[str, Recorded]:
        found: dict[str, Recorded] = {}
        for r in self.run.mocks.resources:
            out = self.outputs(r)
            for key in ("arn", "arnWithoutRevision"):
                if isinstance(out.get(key), str):
                    found[out[key]] = r
        return found

    @cached_property
    def task_resources(self) -> dict[str, Recorded]:
        """Task name -> the Lambda function or ECS task definition that runs it."""
        found: dict[str, Recorded] = {}
        for r in self.run.of(FUNCTION) + self.run.of(TASK_DEFINITION):
            task = _env_of(r)["GLACIER_TASK"]
            assert task not in found, f"task {task!r} has two functions or task definitions"
            found[task] = r
        return found

    def handles(self, target: Recorded) -> set[Any]:
        """What names ``target`` in another resource's inputs: its id, name or ARN."""
        out = self.outputs(target)
        return {self.resource_id(target), out.get("name"), out.get("arn")} - {None}

    @cached_property
    def _by_input(self) -> dict[tuple[str, str, Any], list[Recorded]]:
        """(type, input name, value) -> the resources of that type with that input value."""
        found: dict[tuple[str, str, Any], list[Recorded]] = {}
        for r in self.run.mocks.resources:
            for key in ("bucket", "role"):
                value = r.inputs.get(key)
                if isinstance(value, str):
                    found.setdefault((r.type, key, value), []).append(r)
        return found

    def referring(self, typ: str, key: str, target: Recorded) -> list[Recorded]:
        """The resources of type ``typ`` whose input ``key`` names ``target``."""
        return [r for h in self.handles(target) for r in self._by_input.get((typ, key, h), ())]

    # -- storage -------------------------------------------------------------------------

    def storage(self) -> list[StorageFacts]:
        return [self._bucket_facts(b) for t in BUCKET_TYPES for b in self.run.of(t)]

    def _attached(self, typ: str, bucket: Recorded) -> list[Recorded]:
        return self.referring(typ, "bucket", bucket)

    def _bucket_facts(self, bucket: Recorded) -> StorageFacts:
        arn = self.outputs(bucket)["arn"]
        blocks = self._attached("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        owner = self._attached("aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
        acls = self._attached("aws:s3/bucketAclV2:BucketAclV2", bucket)
        sse = self._attached(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            bucket,
        )
        algorithms = {
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            for config in sse
            for rule in config.inputs.get("rules", ())
        }
        policies = [
            json.loads(p.inputs["policy"])
            for p in self._attached("aws:s3/bucketPolicy:BucketPolicy", bucket)
        ]
        statements = [s for p in policies for s in _listed(p["Statement"])]
        return StorageFacts(
            container=self.outputs(bucket)["bucket"],
            public_access_blocked=len(blocks) == 1
            and all(blocks[0].inputs.get(f) is True for f in flags)
            and not any(_allows_everyone(s) for s in statements),
            uniform_access=len(owner) == 1
            and owner[0].inputs["rule"].get("objectOwnership") == "BucketOwnerEnforced"
            and not acls
            and not bucket.inputs.get("acl"),
            encrypted_at_rest=bool(algorithms)
            and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"},
            tls_only=any(_denies_plain_http(s, arn) for s in statements),
        )

    # -- identities ----------------------------------------------------------------------

    def identities(self) -> list[Identity]:
        return self._identities

    @cached_property
    def _identities(self) -> list[Identity]:
        runs_as: dict[str, set[str]] = {}
        for task, r in self.task_resources.items():
            for key in ("role", "taskRoleArn", "executionRoleArn"):
                if r.inputs.get(key):
                    runs_as.setdefault(r.inputs[key], set()).add(task)
        return [self._identity(role, runs_as) for role in self.run.of(ROLE)]

    def _identity(self, role: Recorded, runs_as: Mapping[str, set[str]]) -> Identity:
        tasks = runs_as.get(self.outputs(role)["arn"], set())
        statements = [s for doc in self.policy_documents(role) for s in _listed(doc["Statement"])]
        secrets = {
            _secret_name(resource)
            for s in statements
            if s.get("Effect") == "Allow"
            and any(a.lower() == "secretsmanager:getsecretvalue" for a in _listed(s.get("Action")))
            for resource in _listed(s.get("Resource"))
        }
        return Identity(
            name=self.outputs(role)["name"],
            tasks=frozenset(tasks),
            grants=frozenset(_merge_read_back(g for s in statements for g in _grants(s))),
            secrets=frozenset(secrets),
        )

    def inline_policies(self, role: Recorded) -> list[Any]:
        """The role's inline policy documents: its RolePolicy resources and ``inlinePolicies``."""
        attached = [
            _parse_json(p.inputs["policy"])
            for p in self.referring("aws:iam/rolePolicy:RolePolicy", "role", role)
        ]
        return attached + [_parse_json(p["policy"]) for p in role.inputs.get("inlinePolicies", ())]

    def managed_policy_arns(self, role: Recorded) -> list[str]:
        attachments = [
            a.inputs["policyArn"]
            for a in self.referring(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "role", role
            )
        ]
        return attachments + list(role.inputs.get("managedPolicyArns", ()))

    def policy_documents(self, role: Recorded) -> list[Any]:
        """Every policy document the role holds; one it cannot read allows everything."""
        docs = self.inline_policies(role)
        for policy_arn in self.managed_policy_arns(role):
            policy = self.by_arn.get(policy_arn)
            if policy is None:  # e.g. an AWS-managed policy: its contents are not in the stack
                opaque = {"Effect": "Allow", "Action": "*", "Resource": "*"}
                docs.append({"Statement": [{**opaque, "Sid": policy_arn}]})
            else:
                docs.append(_parse_json(policy.inputs["policy"]))
        return docs

    # -- data flow, orchestration, environment -------------------------------------------

    def locations(self) -> dict[str, dict[str, Location]]:
        found: dict[str, dict[str, Location]] = {}
        for task, r in self.task_resources.items():
            raw = json.loads(_env_of(r)["GLACIER_LOCATIONS"])
            found[task] = {}
            for dataset, url in raw.items():
                bucket, _, key = url.removeprefix("s3://").partition("/")
                found[task][dataset] = Location(bucket, _key_pattern(key))
        return found

    def order(self) -> list[tuple[str, frozenset[str]]]:
        (machine,) = self.run.of(STATE_MACHINE)
        return aws_asl.finished_before(json.loads(machine.inputs["definition"]), self._task_of)

    def _task_of(self, state: dict[str, Any]) -> str | None:
        """The task a Task state runs: through the function or task definition it names."""
        resource = _PARTITION.sub("arn:aws:", state.get("Resource", ""))
        params = state.get("Parameters") or {}
        if resource.startswith("arn:aws:states:::lambda:invoke"):
            target = str(params.get("FunctionName"))
        elif resource.startswith("arn:aws:lambda:"):
            target = state["Resource"]
        elif resource.startswith("arn:aws:states:::ecs:runTask"):
            target = str(params.get("TaskDefinition"))
        else:
            return None
        found = self.by_arn.get(target) or self.by_arn.get(target.rsplit(":", 1)[0])
        assert found is not None, f"state runs {target!r}, which no recorded resource is"
        return _env_of(found)["GLACIER_TASK"]

    def task_env(self) -> dict[str, dict[str, str]]:
        return {
            task: {k: v for k, v in _env_of(r).items() if not k.startswith("GLACIER_")}
            for task, r in self.task_resources.items()
        }

    def limits(self) -> list[LimitFact]:
        return self._limits

    @cached_property
    def _limits(self) -> list[LimitFact]:
        return limit_facts(self)

    def bundle(self) -> Bundle:
        entry_points = set()
        for r in self.run.of(FUNCTION):
            module, _, handler = r.inputs["handler"].rpartition(".")
            entry_points.add(f"{module}:{handler}")
        for r in self.run.of(TASK_DEFINITION):
            (container,) = json.loads(r.inputs["containerDefinitions"])
            command = container["command"]
            assert command[:2] == ["python", "-m"], command
            entry_points.add(command[2])
        root = self.stack_dir / "app"
        manifests = {_env_of(r)["GLACIER_MANIFEST"] for r in self.task_resources.values()}
        (manifest,) = manifests
        source = json.loads((root / manifest).read_text())["source"]
        return Bundle(root, frozenset(entry_points), source, _requirements(root))


def _allows_everyone(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, dict) and "*" in _listed(principal.get("AWS"))
    )
    return statement.get("Effect") == "Allow" and everyone


def _denies_plain_http(statement: Mapping[str, Any], bucket_arn: str) -> bool:
    """A Deny of every S3 action on the bucket and its objects when the request is not TLS."""
    condition = statement.get("Condition", {}).get("Bool", {})
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and set(_listed(statement.get("Action"))) & {"s3:*", "*"} != set()
        and {bucket_arn, f"{bucket_arn}/*"} <= set(_listed(statement.get("Resource")))
        and str(condition.get("aws:SecureTransport")).lower() == "false"
    )


def _grants(statement: Mapping[str, Any]) -> Iterator[Grant]:
    """The storage grants of one policy statement (non-S3 actions are not storage)."""
    if statement.get("Effect") != "Allow":
        return
    if "NotAction" in statement or "NotResource" in statement:
        yield Grant("*", "*", "NotAction/NotResource")
        return
    resources = _listed(statement.get("Resource"))
    for action in _listed(statement.get("Action")):
        lowered = action.lower()
        if not (lowered.startswith("s3:") or lowered == "*"):
            continue
        mode = _OBJECT_MODES.get(lowered, action)
        for resource in resources:
            yield from _resource_grants(resource, mode, statement.get("Condition") or {})


def _resource_grants(resource: str, mode: str, condition: Mapping[str, Any]) -> Iterator[Grant]:
    if resource == "*":
        yield Grant("*", "*", mode)
        return
    bucket_arn = _PARTITION.sub("arn:aws:", resource)
    assert bucket_arn.startswith("arn:aws:s3:::"), f"S3 permission on {resource!r}"
    bucket, _, key = bucket_arn.removeprefix("arn:aws:s3:::").partition("/")
    if mode != LIST:
        yield Grant(bucket, key, mode)
        return
    prefixes = [
        p
        for test in ("StringLike", "StringEquals")
        for p in _listed(condition.get(test, {}).get("s3:prefix", []))
    ]
    for prefix in prefixes or ["*"]:
        yield Grant(bucket, prefix, LIST)


def _merge_read_back(grants: Iterator[Grant]) -> set[Grant]:
    """Reading back what an identity writes is part of ``write``, not a separate read."""
    found = set(grants)
    written = {(g.container, g.key) for g in found if g.mode == WRITE}
    return {g for g in found if not (g.mode == READ and (g.container, g.key) in written)}


def _secret_name(arn: str) -> str:
    """``arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`` -> name."""
    name = arn.split(":secret:", 1)[1]
    return name[:-7] if re.fullmatch(r".+-[A-Za-z0-9?]{6}", name) else name


def _requirements(root: Path) -> frozenset[str]:
    names = set(PLATFORM_PACKAGES)
    for path in root.glob("requirements*.txt"):
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                names.add(re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0])
    return frozenset(re.sub(r"[-_.]+", "-", n).lower() for n in names)


class AWSAdapter:
    """The AWS side of the conformance suite."""

    name = "aws"
    limits = (
        "stepfunctions-definition",
        "iam-role-inline-policies",
        "iam-role-managed-policies",
        "iam-managed-policy",
        "lambda-environment",
        "ecs-task-definition",
        "resource-names",
    )
    optional_limits = frozenset({"iam-managed-policy"})
    platform_guarantees: Mapping[str, str] = {}

    def compiler(self) -> Compiler:
        return AWSCompiler(region="us-east-1")

    def deploy(self, stack_dir: Path) -> AWSDeployed:
        return AWSDeployed(run_stack(stack_dir), stack_dir)

    def expressions(self, stack_dir: Path) -> list[str]:
        found: list[str] = []
        for path in sorted(stack_dir.glob("*.json")):
            document = json.loads(path.read_text())
            if isinstance(document, dict) and "States" in document:
                found += aws_asl.expressions(document)
        return found

    def known_gap(self, check: str, case: str) -> str | None:
        return None


ADAPTER = AWSAdapter()
