"""Run a generated Azure stack's ``__main__.py`` under Pulumi's mocks, recording every resource.

The real ``pulumi_azure_native`` SDK runs the program (so an unknown argument is a TypeError);
the mocks play Azure, returning the computed outputs dependents consume (an identity's
``principal_id`` and ``client_id``, an account's ``primary_endpoints``, a Function App's
``default_host_name``, every resource's ``id``), and answer only the data-source calls a
stack may make: any other invoke token raises. ``identity.user_assigned_identities`` is a
list as an input and a map as an output, as in Azure: the mocks convert it. The deployer's
ACR token exchange is answered without a network.
"""

from __future__ import annotations

import io
import json
import os
import runpy
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SUBSCRIPTION = "00000000-0000-0000-0000-00000000abcd"
TENANT = "11111111-1111-1111-1111-111111111111"
DEPLOYER = "22222222-2222-2222-2222-222222222222"
GROUP = "orders-rg"
STACK_MODULES = ("glacier_infra", "glacier_compute", "glacier_bundle")


@dataclass(frozen=True)
class Recorded:
    type: str
    name: str
    inputs: dict[str, Any]


def _short(typ: str) -> str:
    return typ.split(":")[-1]


def resource_id(typ: str, name: str, inputs: dict[str, Any]) -> str:
    """The ARM id Azure would give the resource (what scopes and references use)."""
    group = inputs.get("resourceGroupName", GROUP)
    base = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers"
    kind = _short(typ)
    if kind == "StorageAccount":
        return f"{base}/Microsoft.Storage/storageAccounts/{inputs['accountName']}"
    if kind == "BlobContainer":
        box = inputs.get("containerName") or name
        return (f"{base}/Microsoft.Storage/storageAccounts/{inputs['accountName']}"
                f"/blobServices/default/containers/{box}")  # fmt: skip
    if kind == "Secret":
        return (
            f"{base}/Microsoft.KeyVault/vaults/{inputs['vaultName']}/secrets/{inputs['secretName']}"
        )
    if kind == "ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"
    return f"{base}/{kind}/{inputs.get('jobName') or name}"


def _outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    kind = _short(typ)
    found: dict[str, Any] = {"name": name, "id": resource_id(typ, name, inputs)}
    identity = inputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        found["identity"] = {**identity, "userAssignedIdentities": {
            i: {"principalId": f"principal-{i.rsplit('/', 1)[-1]}",
                "clientId": f"client-{i.rsplit('/', 1)[-1]}"}
            for i in identity["userAssignedIdentities"]}}  # fmt: skip
    if kind == "UserAssignedIdentity":
        found.update(principalId=f"principal-{name}", clientId=f"client-{name}", tenantId=TENANT)
    elif kind == "StorageAccount":
        account = inputs["accountName"]
        found.update(name=account, primaryEndpoints={
            "blob": f"https://{account}.blob.core.windows.net/",
            "dfs": f"https://{account}.dfs.core.windows.net/"})  # fmt: skip
    elif kind == "BlobContainer":
        found["name"] = inputs.get("containerName") or name
    elif kind == "WebApp":
        found["defaultHostName"] = f"{name}-abc123.azurewebsites.net"
    elif kind == "Job":
        found["name"] = inputs.get("jobName") or name
    elif kind == "Registry":
        found["loginServer"] = f"{name}registry.azurecr.io"
    elif kind == "Vault":
        found.update(name=inputs["vaultName"],
                     properties={**inputs.get("properties", {}),
                                 "vaultUri": f"https://{inputs['vaultName']}.vault.azure.net/"})  # fmt: skip
    elif kind == "Image":
        found["digest"] = "sha256:" + "0" * 64
    return found


def _existing_account(a: dict[str, Any]) -> dict[str, Any]:
    name = a["accountName"]
    return {"name": name, "id": resource_id("x:StorageAccount", name, {"accountName": name,
            "resourceGroupName": a["resourceGroupName"]}),
            "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"}}  # fmt: skip


_CALLS = {
    "azure-native:authorization:getClientConfig": lambda a: {
        "subscriptionId": SUBSCRIPTION, "tenantId": TENANT, "objectId": DEPLOYER,
        "clientId": "deployer-client"},
    "azure-native:authorization:getClientToken": lambda a: {"token": "entra-token"},
    "azure-native:storage:getStorageAccount": _existing_account,
}  # fmt: skip


@dataclass
class StackMocks(pulumi.runtime.Mocks):
    """Records every resource and answers the data-source calls the program makes."""

    resources: list[Recorded] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    created: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append(Recorded(args.typ, args.name, inputs))
        outputs = {**inputs, **_outputs(args.typ, args.name, inputs)}
        answer = str(outputs["id"]), outputs
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

    def of(self, kind: str) -> list[Recorded]:
        """Resources whose type ends with ``kind`` (``StorageAccount``, ``web:WebApp``...)."""
        return [r for r in self.mocks.resources if r.type.endswith(f":{kind}")]

    def one(self, kind: str, name: str) -> Recorded:
        found = [r for r in self.of(kind) if r.name == name]
        assert len(found) == 1, f"{kind} {name}: {[r.name for r in self.of(kind)]}"
        return found[0]

    def outputs(self, r: Recorded) -> dict[str, Any]:
        return self.mocks.created[(r.type, r.name)][1]


@contextmanager
def _no_network() -> Iterator[None]:
    """The ACR token exchange answered locally; any other URL is an error."""
    real = urllib.request.urlopen

    def fake(request: Any, *args: Any, **kwargs: Any) -> Any:
        url = request.full_url if hasattr(request, "full_url") else str(request)
        assert url.endswith(".azurecr.io/oauth2/exchange"), f"unexpected request to {url}"
        return io.BytesIO(json.dumps({"refresh_token": "acr-token"}).encode())

    urllib.request.urlopen = fake  # type: ignore[assignment]
    try:
        yield
    finally:
        urllib.request.urlopen = real


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

        with _no_network():
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
