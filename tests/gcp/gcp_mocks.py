"""Run a generated GCP stack's ``__main__.py`` under Pulumi's mocks, recording every resource.

The real ``pulumi_gcp`` SDK runs the program (so an unknown argument is a TypeError); the
mocks play Google Cloud, returning the computed outputs dependents consume (a service
account's ``email``, a bucket's ``name``, a function's ``url`` and ``service_config.service``,
a job's or workflow's ``id``), and answer only the data-source calls a stack may make: any
other invoke token raises.
"""

from __future__ import annotations

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

PROJECT = "demo-project"
REGION = "us-central1"
SUFFIX = "1a2b3c4"
STACK_MODULES = ("glacier_infra", "glacier_compute", "glacier_bundle")


@dataclass(frozen=True)
class Recorded:
    type: str
    name: str
    inputs: dict[str, Any]


def _outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What Google Cloud would answer for a created resource (the outputs others read)."""
    auto = inputs.get("name") or f"{name}-{SUFFIX}"
    region = inputs.get("location") or inputs.get("region") or REGION
    if typ == "gcp:storage/bucket:Bucket":
        return {"name": auto, "url": f"gs://{auto}", "selfLink": f"https://storage/{auto}"}
    if typ == "gcp:serviceaccount/account:Account":
        account = inputs["accountId"]
        email = f"{account}@{PROJECT}.iam.gserviceaccount.com"
        return {"email": email, "name": f"projects/{PROJECT}/serviceAccounts/{email}",
                "member": f"serviceAccount:{email}"}  # fmt: skip
    if typ == "gcp:cloudfunctionsv2/function:Function":
        service = f"projects/{PROJECT}/locations/{region}/services/{auto}"
        config = {**inputs.get("serviceConfig", {}), "service": service,
                  "uri": f"https://{auto}-abc123-uc.a.run.app"}  # fmt: skip
        return {"name": auto, "url": f"https://{region}-{PROJECT}.cloudfunctions.net/{auto}",
                "serviceConfig": config}  # fmt: skip
    if typ == "gcp:cloudrunv2/job:Job":
        return {"name": auto, "id": f"projects/{PROJECT}/locations/{region}/jobs/{auto}"}
    if typ == "gcp:workflows/workflow:Workflow":
        return {"name": auto, "id": f"projects/{PROJECT}/locations/{region}/workflows/{auto}"}
    if typ == "gcp:artifactregistry/repository:Repository":
        return {"name": inputs["repositoryId"]}
    if typ == "docker-build:index:Image":
        return {"digest": "sha256:" + "0" * 64}
    if typ == "gcp:storage/bucketObject:BucketObject":
        return {"outputName": inputs.get("name")}
    if typ == "gcp:cloudscheduler/job:Job":
        return {"name": auto}
    return {}


def _resource_id(typ: str, name: str, outputs: dict[str, Any]) -> str:
    return str(outputs.get("id") or f"{name}-id")


_CALLS = {
    "gcp:storage/getBucket:getBucket": lambda a: {"name": a["name"], "id": a["name"],
                                                  "url": f"gs://{a['name']}"},
    "gcp:secretmanager/getSecret:getSecret": lambda a: {
        "id": f"projects/{PROJECT}/secrets/{a['secretId']}",
        "name": f"projects/123456789/secrets/{a['secretId']}",
        "secretId": a["secretId"],
    },
    "gcp:organizations/getClientConfig:getClientConfig": lambda a: {
        "accessToken": "token", "project": PROJECT, "region": REGION, "id": "x"},
}  # fmt: skip


@dataclass
class StackMocks(pulumi.runtime.Mocks):
    """Records every resource and answers the data-source calls the program makes."""

    resources: list[Recorded] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: (type, name) -> (id, outputs) the mocks answered for each created resource.
    created: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs)))
        outputs = {**args.inputs, **_outputs(args.typ, args.name, dict(args.inputs))}
        answer = _resource_id(args.typ, args.name, outputs), outputs
        self.created[(args.typ, args.name)] = answer
        return answer

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        if args.token not in _CALLS:
            raise AssertionError(f"unexpected data source call {args.token}")
        return _CALLS[args.token](args.args)


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

    def outputs(self, r: Recorded) -> dict[str, Any]:
        return self.mocks.created[(r.type, r.name)][1]


def run_stack(stack_dir: Path, config: dict[str, str] | None = None) -> Run:
    """Execute ``stack_dir/__main__.py`` under mocks (the way ``pulumi up`` would run it)."""
    mocks = StackMocks()
    pulumi.runtime.set_mocks(
        mocks, project="glacier-test", stack="test", preview=False, monitor=MockMonitor(mocks)
    )
    exported: dict[str, pulumi.Output[Any]] = {}
    real_export = pulumi.export
    pulumi.export = lambda name, value: exported.__setitem__(name, pulumi.Output.from_input(value))  # type: ignore[assignment]
    old_cwd, old_path = os.getcwd(), list(sys.path)
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
        for name in STACK_MODULES:
            sys.modules.pop(name, None)
    return Run(mocks=mocks, exports=exports)
