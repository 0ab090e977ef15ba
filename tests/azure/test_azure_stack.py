"""The generated orders stack, executed under Pulumi's mocks with the real pulumi_azure_native
SDK: assertions on the recorded resources."""

from __future__ import annotations

import json

import pytest
from azure_mocks import DEPLOYER, Run

pytestmark = pytest.mark.slow

READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
JOBS_OPERATOR = "b9a307c4-5aa3-4b52-ba60-2b17c136cd7b"
PATH = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"


def _env(run: Run, task: str) -> dict[str, str]:
    for r in run.of("WebApp"):
        settings = {s["name"]: s["value"] for s in r.inputs["siteConfig"]["appSettings"]}
        if settings.get("GLACIER_TASK") == task:
            return settings
    for r in run.of("app:Job"):
        (container,) = r.inputs["template"]["containers"]
        env = {e["name"]: e.get("value", e.get("secretRef")) for e in container["env"]}
        if env["GLACIER_TASK"] == task:
            return env
    raise AssertionError(f"no function or job runs {task}")


def _principal(run: Run, task: str) -> str:
    return f"principal-orders-{task}-identity"


def test_every_account_is_locked_down_and_named_deterministically(orders_run: Run) -> None:
    accounts = {r.name: r.inputs for r in orders_run.of("StorageAccount")}
    assert sorted(accounts) == ["data", "orders-enrich-storage", "orders-validate-storage", "work"]
    for name, inputs in accounts.items():
        assert inputs["enableHttpsTrafficOnly"] is True, name
        assert inputs["minimumTlsVersion"] == "TLS1_2", name
        assert inputs["allowBlobPublicAccess"] is False, name
        assert inputs["allowSharedKeyAccess"] is False, name
        assert 3 <= len(inputs["accountName"]) <= 24 and inputs["accountName"].isalnum(), name
        assert inputs["accountName"].islower()
    assert accounts["data"]["accountName"].startswith("glordersd")
    looked_up = [a for token, a in orders_run.mocks.calls if token.endswith("getStorageAccount")]
    assert [a["accountName"] for a in looked_up] == ["acmelanding"]  # never created
    for box in orders_run.of("BlobContainer"):
        assert box.inputs["publicAccess"] == "None", box.name


def test_versioning_and_lifecycle_follow_the_datasets(orders_run: Run) -> None:
    blobs = {r.name: r.inputs for r in orders_run.of("BlobServiceProperties")}
    assert blobs["data-blobs"]["isVersioningEnabled"] is True
    assert blobs["work-blobs"]["isVersioningEnabled"] is False
    policies = {r.name: r.inputs["policy"]["rules"] for r in orders_run.of("ManagementPolicy")}
    data = {r["name"]: r["definition"] for r in policies["data-lifecycle"]}
    assert data["noncurrent"]["actions"] == {
        "version": {"delete": {"daysAfterCreationGreaterThan": 30}}
    }
    cool = [d for d in data.values() if "tierToCool" in d["actions"].get("baseBlob", {})]
    assert [d["filters"]["prefixMatch"] for d in cool] == [["by-customer/by_customer.parquet"]]
    retain = [d for d in data.values() if "delete" in d["actions"].get("baseBlob", {})]
    assert retain[0]["actions"]["baseBlob"]["delete"] == {"daysAfterModificationGreaterThan": 365}
    cold = [d for d in data.values() if "tierToCold" in d["actions"].get("baseBlob", {})]
    assert [d["filters"]["prefixMatch"] for d in cold] == [["reports/report.delta"]]
    work = {r["name"]: r["definition"] for r in policies["work-lifecycle"]}
    assert work["expireRuns"]["filters"]["prefixMatch"] == ["work/runs/"]


def test_one_identity_per_task_with_conditioned_container_roles(orders_run: Run) -> None:
    identities = sorted(r.name for r in orders_run.of("UserAssignedIdentity"))
    assert identities == [
        "orders-audit-identity", "orders-enrich-identity", "orders-publish-identity",
        "orders-validate-identity", "orders-workflow-identity",
    ]  # fmt: skip
    blob_roles = [
        r for r in orders_run.of("RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith((READER, CONTRIBUTOR))
        and r.inputs["principalId"] != DEPLOYER
    ]  # fmt: skip
    for r in blob_roles:
        assert r.inputs["conditionVersion"] == "2.0", r.name
        assert "/blobServices/default/containers/" in r.inputs["scope"], r.name
        assert r.inputs["principalType"] == "ServicePrincipal"
    validate = {
        r.name: r.inputs
        for r in blob_roles
        if r.inputs["principalId"] == _principal(orders_run, "validate")
    }
    reads = [i for i in validate.values() if i["roleDefinitionId"].endswith(READER)]
    writes = [i for i in validate.values() if i["roleDefinitionId"].endswith(CONTRIBUTOR)]
    (read,) = reads
    assert read["scope"].endswith(
        "/storageAccounts/acmelanding/blobServices/default/containers/landing"
    )
    assert f"{PATH} StringEquals 'incoming/orders.parquet'" in read["condition"]
    (write,) = writes
    assert f"{PATH} StringLike 'runs/*/valid.parquet'" in write["condition"]
    assert "Blob.List" in write["condition"] and "StringStartsWith" not in write["condition"]
    publish = [i for i in (r.inputs for r in blob_roles) if i["principalId"] == _principal(orders_run, "publish")
               and i["roleDefinitionId"].endswith(CONTRIBUTOR)]  # fmt: skip
    assert f"{PATH} StringStartsWith 'report.delta/'" in publish[0]["condition"]


def test_secrets_are_readable_by_exactly_the_tasks_naming_them(orders_run: Run) -> None:
    (vault,) = orders_run.of("Vault")
    assert vault.inputs["properties"]["enableRbacAuthorization"] is True
    users = [
        r.inputs
        for r in orders_run.of("RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith(SECRETS_USER)
    ]
    by_secret = {u["scope"].rsplit("/", 1)[-1]: u["principalId"] for u in users}
    assert by_secret == {"orders-api-key": _principal(orders_run, "enrich"),
                         "orders-token": _principal(orders_run, "publish")}  # fmt: skip
    assert _env(orders_run, "enrich")["API_KEY"].startswith("@Microsoft.KeyVault(VaultName=")
    assert _env(orders_run, "publish")["TOKEN"] == "s0"  # a secret ref, never the value
    (job,) = [r for r in orders_run.of("app:Job") if r.name == "orders-publish"]
    (ref,) = job.inputs["configuration"]["secrets"]
    assert ref["keyVaultUrl"].endswith("/secrets/orders-token")


def test_functions_and_jobs_run_the_shared_runtime_as_their_identity(orders_run: Run) -> None:
    apps = {r.name: r.inputs for r in orders_run.of("WebApp")}
    assert sorted(apps) == ["orders-enrich", "orders-validate"]
    for _name, app in apps.items():
        assert app["httpsOnly"] is True and app["kind"] == "functionapp,linux"
        config = app["functionAppConfig"]
        assert config["runtime"] == {"name": "python", "version": "3.12"}
        storage = config["deployment"]["storage"]
        assert storage["authentication"]["type"] == "UserAssignedIdentity"
        assert list(app["identity"]["userAssignedIdentities"]) == [
            storage["authentication"]["userAssignedIdentityResourceId"]
        ]
    plans = [r.inputs["sku"] for r in orders_run.of("AppServicePlan")]
    assert plans == [{"name": "FC1", "tier": "FlexConsumption"}] * 2
    env = _env(orders_run, "validate")
    assert json.loads(env["GLACIER_LOCATIONS"]) == {
        "orders": "abfss://landing@acmelanding.dfs.core.windows.net/incoming/orders.parquet",
        "valid": f"abfss://work@{orders_run.exports['accounts']['work']}.dfs.core.windows.net/runs/{{run_id}}/valid.parquet",
    }
    assert env["MODE"] == "prod" and env["GLACIER_MANIFEST"] == "manifest.json"
    assert env["GLACIER_HTTP_AUTH_LEVEL"] == "anonymous"  # App Service authentication guards it
    auth = {r.name: r.inputs for r in orders_run.of("WebAppAuthSettingsV2")}
    aad = auth["orders-validate-auth"]["identityProviders"]["azureActiveDirectory"]
    assert aad["validation"]["defaultAuthorizationPolicy"]["allowedPrincipals"]["identities"] == [
        "principal-orders-workflow-identity"]  # fmt: skip
    assert (
        auth["orders-validate-auth"]["globalValidation"]["unauthenticatedClientAction"]
        == "Return401"
    )
    jobs = {r.name: r.inputs for r in orders_run.of("app:Job")}
    assert sorted(jobs) == ["orders-audit", "orders-publish"]
    for job in jobs.values():
        assert job["configuration"]["triggerType"] == "Manual"
        assert job["configuration"]["replicaRetryLimit"] == 0
        (container,) = job["template"]["containers"]
        assert container["command"] == ["python", "-m", "glacier_azure.runtime"]
    runners = [
        r.inputs
        for r in orders_run.of("RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith(JOBS_OPERATOR)
    ]
    assert sorted(r["scope"].rsplit("/", 1)[-1] for r in runners) == [
        "orders-audit",
        "orders-publish",
    ]
    assert {r["principalId"] for r in runners} == {"principal-orders-workflow-identity"}


def test_the_logic_app_runs_as_its_identity_with_every_placeholder_filled(orders_run: Run) -> None:
    (workflow,) = orders_run.of("Workflow")
    text = json.dumps(workflow.inputs["definition"])
    assert "<<" not in text
    assert workflow.inputs["identity"]["type"] == "UserAssigned"
    definition = workflow.inputs["definition"]
    assert definition["triggers"]["schedule"]["recurrence"]["timeZone"] == "UTC"
    start = definition["actions"]["task_publish_run"]["actions"]["task_publish_start"]["inputs"]
    assert start["authentication"]["audience"] == "https://management.azure.com/"
    assert start["uri"].startswith("https://management.azure.com/subscriptions/")
    (container,) = start["body"]["containers"]
    assert container["image"].endswith("@sha256:" + "0" * 64)
    assert {"name": "TOKEN", "secretRef": "s0"} in container["env"]
    call = definition["actions"]["task_validate"]["inputs"]
    assert call["uri"] == "https://orders-validate-abc123.azurewebsites.net/api/run"
    assert call["authentication"]["audience"] == "client-orders-validate-identity"
