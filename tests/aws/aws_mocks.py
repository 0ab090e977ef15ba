"""Run a generated AWS stack's ``__main__.py`` under Pulumi's mocks, recording every resource.

The real ``pulumi_aws`` SDK runs the program (so an unknown argument is a TypeError); the
mocks play the cloud, returning the attributes dependents consume (``arn``, ``bucket``,
``name``, ``id``...), in the region and partition of the program's provider (``aws:region``
config moves them). ``GLACIER_BUNDLE_DEPS=skip`` keeps the deploy-time bundle build from
downloading anything: it zips ``app/`` without installing dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ACCOUNT = "123456789012"
REGION = "us-east-1"
#: Region prefixes outside the commercial partition, as AWS names them.
PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
              ("us-iso-", "aws-iso"))  # fmt: skip


def partition_of(region: str) -> str:
    return next((p for prefix, p in PARTITIONS if region.startswith(prefix)), "aws")


#: What ``glacier_compute.stack_hash`` gives under these mocks (no organization, project
#: glacier-test, stack test): the suffix of every task definition family.
STACK_HASH = hashlib.sha256(b"/glacier-test/test").hexdigest()[:8]
STACK_MODULES = ("glacier_infra", "glacier_identity", "glacier_compute", "glacier_bundle")


@dataclass(frozen=True)
class Recorded:
    type: str
    name: str
    inputs: dict[str, Any]
    read_id: str | None = None  # set for an existing resource the program looked up (.get)


def _urn_key(urn: str) -> tuple[str, str]:
    """``(type, name)`` of a resource URN (``urn:pulumi:stack::project::parent$type::name``)."""
    *_, qualified, name = urn.split("::")
    return qualified.split("$")[-1], name


class RecordingMonitor(MockMonitor):
    """The mock monitor, also recording what each resource waits for before it is created."""

    def __init__(self, mocks: StackMocks) -> None:
        super().__init__(mocks)
        self.recorder = mocks

    def RegisterResource(self, request: Any) -> Any:
        waits = {_urn_key(u) for u in request.dependencies}
        inputs: dict[str, set[tuple[str, str]]] = {}
        for prop, deps in request.propertyDependencies.items():
            inputs[prop] = {_urn_key(u) for u in deps.urns}
            waits |= inputs[prop]
        self.recorder.waits[(request.type, request.name)] = waits
        self.recorder.options[(request.type, request.name)] = {
            "protect": bool(request.protect),
            "retain_on_delete": bool(request.retainOnDelete),
        }
        self.recorder.input_waits[(request.type, request.name)] = inputs
        return super().RegisterResource(request)


def _outputs(typ: str, name: str, inputs: dict[str, Any], region: str = REGION) -> dict[str, Any]:
    part = f"arn:{partition_of(region)}"
    arn = f"{part}:{typ.split(':')[1].split('/')[0]}:{region}:{ACCOUNT}:{name}"
    out: dict[str, Any] = {"arn": arn}
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-1a2b3c4"
        out.update(bucket=bucket, arn=f"{part}:s3:::{bucket}")
    elif typ == "aws:iam/role:Role":
        out.update(arn=f"{part}:iam::{ACCOUNT}:role/{name}-1a2b3c4", name=f"{name}-1a2b3c4")
    elif typ == "aws:iam/policy:Policy":
        out.update(arn=f"{part}:iam::{ACCOUNT}:policy/{name}-1a2b3c4", name=f"{name}-1a2b3c4")
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        group = f"{inputs.get('namePrefix', name)}1a2b3c4"
        out.update(name=group, arn=f"{part}:logs:{region}:{ACCOUNT}:log-group:{group}")
    elif typ == "aws:lambda/function:Function":
        out.update(arn=f"{part}:lambda:{region}:{ACCOUNT}:function:{name}-1a2b3c4")
    elif typ == "aws:ecs/taskDefinition:TaskDefinition":
        base = f"{part}:ecs:{region}:{ACCOUNT}:task-definition/{inputs.get('family', name)}"
        out.update(arn=f"{base}:1", arnWithoutRevision=base)
    elif typ == "aws:ecs/cluster:Cluster":
        out.update(arn=f"{part}:ecs:{region}:{ACCOUNT}:cluster/{name}-1a2b3c4")
    elif typ == "aws:ecr/repository:Repository":
        out.update(
            arn=f"{part}:ecr:{region}:{ACCOUNT}:repository/{name}-1a2b3c4",
            repositoryUrl=f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{name}",
            registryId=ACCOUNT,
        )
    elif typ == "docker-build:index:Image":
        out.update(digest="sha256:" + "0" * 64, ref=f"{name}@sha256:" + "0" * 64)
    elif typ == "aws:sfn/stateMachine:StateMachine":
        out.update(arn=f"{part}:states:{region}:{ACCOUNT}:stateMachine:{name}-1a2b3c4")
    elif typ == "aws:cloudwatch/eventRule:EventRule":
        out.update(name=f"{name}-1a2b3c4")
    elif typ == "aws:s3/bucketObjectv2:BucketObjectv2":
        out.update(bucket=inputs.get("bucket"), key=inputs.get("key"))
    return out


_CALLS: dict[str, Any] = {
    "aws:s3/getBucket:getBucket": lambda a, r: {
        "id": a["bucket"],
        "bucket": a["bucket"],
        "arn": f"arn:{partition_of(r)}:s3:::{a['bucket']}",
    },
    "aws:secretsmanager/getSecret:getSecret": lambda a, r: {
        "arn": f"arn:{partition_of(r)}:secretsmanager:{r}:{ACCOUNT}:secret:{a['name']}-AbCdEf",
        "name": a["name"],
    },
    "aws:ec2/getVpc:getVpc": lambda a, r: {"id": "vpc-0default"},
    "aws:ec2/getSubnet:getSubnet": lambda a, r: {"id": a["id"], "vpcId": "vpc-0configured"},
    "aws:ec2/getSubnets:getSubnets": lambda a, r: {"ids": ["subnet-a", "subnet-b"], "id": "x"},
    "aws:index/getCallerIdentity:getCallerIdentity": lambda a, r: {
        "accountId": ACCOUNT,
        "arn": f"arn:{partition_of(r)}:iam::{ACCOUNT}:user/deployer",
        "userId": "AIDAEXAMPLE",
        "id": ACCOUNT,
    },
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda a, r: {
        "userName": "AWS",
        "password": "pw",
    },
    "aws:index/getPartition:getPartition": lambda a, r: {
        "partition": partition_of(r),
        "dnsSuffix": "amazonaws.com.cn" if r.startswith("cn-") else "amazonaws.com",
        "id": partition_of(r),
    },
}


@dataclass
class StackMocks(pulumi.runtime.Mocks):
    """Records every resource and answers the data-source calls the program makes."""

    resources: list[Recorded] = field(default_factory=list)
    reads: list[Recorded] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: (type, name) -> the (type, name) of every resource it depends on (explicitly or
    #: through an input), i.e. what Pulumi creates before it.
    waits: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)
    #: (type, name) -> {input name: the (type, name) of each resource that input came from}.
    input_waits: dict[tuple[str, str], dict[str, set[tuple[str, str]]]] = field(
        default_factory=dict
    )
    #: (type, name) -> (id, outputs) the mocks answered for each created resource: what other
    #: resources saw of it (a role's ARN in a function, a function's ARN in the state machine).
    created: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: (type, name) -> the resource options Pulumi keeps for a teardown (protect, retain).
    options: dict[tuple[str, str], dict[str, bool]] = field(default_factory=dict)
    #: The region of the program's AWS provider (its ``region`` input), which ARNs are in.
    region: str = REGION

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:  # Resource.get: the cloud answers with the existing one
            self.reads.append(Recorded(args.typ, args.name, dict(args.inputs), args.resource_id))
            state = {"bucket": args.resource_id} if args.typ == "aws:s3/bucket:Bucket" else {}
            return args.resource_id, {**state, **_outputs(args.typ, args.name, state, self.region)}
        if args.typ == "pulumi:providers:aws":
            self.region = args.inputs.get("region") or self.region
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs)))
        outputs = _outputs(args.typ, args.name, args.inputs, self.region)
        answer = f"{args.name}-id", {**args.inputs, **outputs}
        self.created[(args.typ, args.name)] = answer
        return answer

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        if args.token not in _CALLS:
            raise AssertionError(f"unexpected data source call {args.token}")
        return _CALLS[args.token](args.args, self.region)  # type: ignore[no-any-return]


@dataclass
class Run:
    """What a program created, with helpers to find resources."""

    mocks: StackMocks
    exports: dict[str, Any]

    def of(self, typ: str) -> list[Recorded]:
        return [r for r in self.mocks.resources if r.type == typ]

    def one(self, typ: str, name: str) -> Recorded:
        found = [r for r in self.of(typ) if r.name == name]
        assert len(found) == 1, f"{typ} {name}: {[r.name for r in self.of(typ)]}"
        return found[0]

    def waits_for(self, typ: str, name: str) -> set[tuple[str, str]]:
        """The ``(type, name)`` of every resource ``name`` is created after."""
        self.one(typ, name)
        return self.mocks.waits[(typ, name)]

    def policy(self, role_name: str) -> dict[str, Any]:
        return json.loads(self.one("aws:iam/rolePolicy:RolePolicy", role_name).inputs["policy"])


def run_stack(stack_dir: Path, config: dict[str, str] | None = None, stack: str = "test") -> Run:
    """Execute ``stack_dir/__main__.py`` under mocks (the way ``pulumi up`` would run it).

    ``config``: the stack's Pulumi config (``{"glacier:subnetIds": '["subnet-1"]'}``);
    ``stack``: the Pulumi stack's name (project ``glacier-test``).
    """
    mocks = StackMocks()
    pulumi.runtime.set_mocks(
        mocks, project="glacier-test", stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    exported: dict[str, pulumi.Output[Any]] = {}
    real_export = pulumi.export
    pulumi.export = lambda name, value: exported.__setitem__(name, pulumi.Output.from_input(value))  # type: ignore[assignment]
    old_cwd, old_path = os.getcwd(), list(sys.path)
    old_deps = os.environ.get("GLACIER_BUNDLE_DEPS")
    os.environ["GLACIER_BUNDLE_DEPS"] = "skip"
    pulumi.runtime.set_all_config(dict(config or {}))
    for name in STACK_MODULES:
        sys.modules.pop(name, None)
    try:
        os.chdir(stack_dir)
        sys.path.insert(0, str(stack_dir))

        def program() -> None:
            runpy.run_path(str(stack_dir / "__main__.py"), run_name="__main__")

        _sync_await(run_pulumi_func(program))
        exports = {k: _sync_await(v.future()) for k, v in exported.items()}
    finally:
        pulumi.export = real_export  # type: ignore[assignment]
        pulumi.runtime.set_all_config({})
        os.chdir(old_cwd)
        sys.path[:] = old_path
        if old_deps is None:
            os.environ.pop("GLACIER_BUNDLE_DEPS", None)
        else:
            os.environ["GLACIER_BUNDLE_DEPS"] = old_deps
        for name in STACK_MODULES:
            sys.modules.pop(name, None)
    return Run(mocks=mocks, exports=exports)
