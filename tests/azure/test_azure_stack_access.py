"""What the orders stack's identities may reach beyond the data flow, read back from the
resources recorded under Pulumi's mocks: each function's own Functions host account
(decision 146) and each job's outcome object (decision 145)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure_mocks import Run
from test_azure_stack import _env

pytestmark = pytest.mark.slow

READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
PATH = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
WORKFLOW = "principal-orders-workflow-identity"


def _roles(run: Run, principal: str) -> list[dict[str, Any]]:
    return [r.inputs for r in run.of("RoleAssignment") if r.inputs["principalId"] == principal]


def _account_id(run: Run, account: str) -> str:
    (found,) = [r for r in run.of("StorageAccount") if r.inputs["accountName"] == account]
    return str(run.outputs(found)["id"])


def test_each_function_has_blob_data_owner_on_its_own_host_account_only(orders_run: Run) -> None:
    hosts: dict[str, str] = {}
    for task in ("validate", "enrich"):
        env = _env(orders_run, task)
        account = env["AzureWebJobsStorage__accountName"]
        hosts[task] = account
        owners = [r for r in orders_run.of("RoleAssignment")
                  if r.inputs["roleDefinitionId"].endswith(OWNER)
                  and r.inputs["principalId"] == f"principal-orders-{task}-identity"]  # fmt: skip
        assert [r.inputs["scope"] for r in owners] == [_account_id(orders_run, account)]
        (app,) = [r for r in orders_run.of("WebApp") if r.name == f"orders-{task}"]
        storage = app.inputs["functionAppConfig"]["deployment"]["storage"]
        assert storage["value"].startswith(f"https://{account}.blob.core.windows.net/")
        (package,) = [
            b for b in orders_run.of("storage:Blob") if b.name == f"orders-{task}-package"
        ]
        assert package.inputs["accountName"] == account
    assert len(set(hosts.values())) == 2  # no function reaches another's host state or package
    owners = {r.inputs["principalId"] for r in orders_run.of("RoleAssignment")
              if r.inputs["roleDefinitionId"].endswith(OWNER)}  # fmt: skip
    assert owners == {f"principal-orders-{t}-identity" for t in hosts}
    data = {orders_run.exports["accounts"][a] for a in ("data", "work")} | {"acmelanding"}
    assert not data & set(hosts.values())


def test_a_job_writes_only_its_own_outcome_and_the_logic_app_reads_only_outcomes(
    orders_run: Run,
) -> None:
    work = orders_run.exports["accounts"]["work"]
    box = f"{_account_id(orders_run, work)}/blobServices/default/containers/work"
    for task in ("audit", "publish"):
        outcome = f"runs/{{run_id}}/_outcomes/{task}.json"
        assert _env(orders_run, task)["GLACIER_OUTCOME"] == (
            f"abfss://work@{work}.dfs.core.windows.net/{outcome}"
        )
        mine = [r for r in _roles(orders_run, f"principal-orders-{task}-identity")
                if f"_outcomes/{task}.json" in (r.get("condition") or "")]  # fmt: skip
        (written,) = mine
        assert written["roleDefinitionId"].endswith(CONTRIBUTOR) and written["scope"] == box
        assert f"{PATH} StringLike 'runs/*/_outcomes/{task}.json'" in written["condition"]
        assert "_outcomes/*" not in written["condition"]
    for task in ("validate", "enrich"):  # functions answer over HTTP: no outcome object
        assert "GLACIER_OUTCOME" not in _env(orders_run, task)
    storage = [r for r in _roles(orders_run, WORKFLOW) if "/Microsoft.Storage/" in r["scope"]]
    (read,) = storage
    assert read["roleDefinitionId"].endswith(READER) and read["scope"] == box
    assert read["conditionVersion"] == "2.0"
    assert f"{PATH} StringLike 'runs/*/_outcomes/*'" in read["condition"]
    (workflow,) = orders_run.of("Workflow")
    loop = workflow.inputs["definition"]["actions"]["task_publish_run"]["actions"]
    uri = loop["task_publish_outcome"]["inputs"]["uri"]
    assert uri == (
        f"https://{work}.blob.core.windows.net/work/runs/@{{variables('run_id')}}"
        "/_outcomes/publish.json"
    )
    assert json.dumps(workflow.inputs["definition"]).count("https://storage.azure.com/") == 2
