"""Azure in the multi-cloud compiler: placement over AWS and Azure (and all three), a
transfer per crossing, the generated federation wiring (an Azure task's managed identity
assuming an AWS role through Entra ID), and the Azure program under Pulumi mocks with the
real SDKs, its StackReference answered with the AWS stack's own exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mc_azure_spread
import pytest
from mc_azure_mocks import azure_mocks, run_azure_linked
from mc_mocks import run_aws

from glacier.compilation import Infrastructure, MultiCloudCompiler, resolve
from glacier.compilation.infrastructure import CrossCloudTransfer
from glacier.errors import CompilationError
from glacier_aws import AWSCompiler
from glacier_azure import AzureCompiler
from glacier_gcp import GCPCompiler

ROLE = "aws:iam/role:Role"
TENANT = azure_mocks.TENANT


def _two() -> MultiCloudCompiler:
    return MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "azure": AzureCompiler("eastus")},
        default_provider="azure",
    )


def _three() -> MultiCloudCompiler:
    return MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "azure": AzureCompiler("eastus"),
                   "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )  # fmt: skip


@pytest.fixture(scope="module")
def infra() -> Infrastructure:
    return mc_azure_spread.pipeline.compile(_two())


def test_placement_over_aws_and_azure() -> None:
    placement = resolve(mc_azure_spread.pipeline.spec(), "azure", ("aws", "azure"))
    assert dict(placement.tasks) == {"clean": "azure", "summarise": "azure"}
    assert dict(placement.datasets) == {"orders": "aws", "cleaned": "azure", "totals": "azure"}


def test_one_transfer_for_the_one_crossing_with_its_price(infra: Infrastructure) -> None:
    assert [str(w) for w in infra.warnings if isinstance(w, CrossCloudTransfer)] == [
        "orders: (source) (aws) -> clean (azure), est. $0.09/GB egress"
    ]
    assert infra.transfer_cost_usd == pytest.approx(54.0)  # $0.09 x 20 GB x 30 runs


def test_all_three_clouds_each_crossing_priced_by_the_side_data_leaves() -> None:
    infra = mc_azure_spread.tri.compile(_three())
    assert sorted(infra.stacks) == ["aws", "azure", "gcp"]
    found = [(t.dataset, t.from_provider, t.to_provider, t.est_cost_per_gb_usd)
             for t in infra.warnings if isinstance(t, CrossCloudTransfer)]  # fmt: skip
    assert found == [
        ("orders", "aws", "gcp", 0.09),
        ("shared", "gcp", "aws", 0.12),
        ("shared", "aws", "azure", 0.09),
    ]
    assert [str(t) for t in infra.warnings if isinstance(t, CrossCloudTransfer)][1:] == [
        "shared: share (gcp) -> shared storage (aws), est. $0.12/GB egress",
        "shared: shared storage (aws) -> score (azure), est. $0.09/GB egress",
    ]  # the reader reads the storage: the writer runs on a third cloud
    text = infra.readme()
    assert "1. `cd aws && pulumi stack init <env> && pulumi up`: reads no other stack." in text
    (role,) = [
        r for r in infra.resources if r.kind == "federated_role" and r.name == "tri-score-aws"
    ]
    assert dict(role.properties) == {"task": "score", "created_by": "azure", "datasets": ["shared"]}


def test_an_azure_task_reaching_gcs_is_refused_naming_the_missing_federation() -> None:
    with pytest.raises(
        CompilationError,
        match=r"task 'copy' \(azure\) writes dataset 'kept', stored on 'gcp'; a azure task can "
        r"reach data on aws only \(no workload identity federation from azure to gcp",
    ):
        mc_azure_spread.azgcs.compile(_three())


def test_an_aws_task_reaching_blob_storage_is_refused() -> None:
    with pytest.raises(
        CompilationError,
        match=r"task 'keep' \(aws\) writes dataset 'archive', placed on 'azure'; an AWS task "
        r"can only read and write data stored on AWS",
    ):
        mc_azure_spread.toblob.compile(_two())


def test_a_gcp_task_reaching_blob_storage_is_refused_naming_the_missing_federation() -> None:
    with pytest.raises(
        CompilationError,
        match=r"task 'mirror' \(gcp\) writes dataset 'archive', stored on 'azure'; a gcp task "
        r"can reach data on aws only \(no workload identity federation from gcp to azure is "
        r"built yet\)",
    ):
        mc_azure_spread.gcpblob.compile(_three())


def test_the_azure_stack_carries_the_federation_helpers(infra: Infrastructure) -> None:
    files = infra.stacks["azure"].files
    assert files["Pulumi.yaml"].startswith("name: azspread-azure\n")
    assert "pulumi-aws>=6,<7" in files["requirements.txt"]
    assert {"glacier_aws_federation.py", "glacier_aws_entra.py"} <= set(files)
    assert "az ad app create --display-name glacier-azspread-aws --identifier-uris " \
        "api://glacier-azspread-aws" in files["README.md"]  # fmt: skip
    (clean,) = [t for t in infra.stacks["azure"].tasks if t.task == "clean"]
    assert clean.permissions[-2:] == (
        "federated role on aws (trusts only this task's identity): read orders objects orders.parquet",
        "federated role on aws (trusts only this task's identity): list orders objects orders.parquet",
    )
    assert mc_azure_spread.pipeline.compile(_two()).stacks["azure"].files == files


@pytest.fixture(scope="module")
def runs(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    root: Path = infra.write(tmp_path_factory.mktemp("azspread"))
    aws = run_aws(root / "aws")
    azure, mocks = run_azure_linked(root / "azure", {"organization/azspread-aws/test": aws.exports})
    return aws, azure, mocks


@pytest.mark.slow
def test_the_azure_stack_reads_the_aws_exports_by_reference(runs: tuple[Any, Any, Any]) -> None:
    aws, _, mocks = runs
    assert aws.exports["buckets"]["orders"] == "legacy-orders"
    (reference,) = mocks.references
    assert reference.name == "organization/azspread-aws/test"


@pytest.mark.slow
def test_the_azure_stack_exports_the_command_the_hand_off_starts(
    infra: Infrastructure, runs: tuple[Any, Any, Any]
) -> None:
    _, azure, _ = runs
    (workflow,) = azure.of("logic:Workflow")
    assert azure.exports["start_run"] == (
        "az rest --method post --url https://management.azure.com"
        f"{azure.outputs(workflow)['id']}/triggers/schedule/run?api-version=2019-05-01"
    )
    assert "1. `cd azure && $(pulumi stack output start_run)`" in infra.readme()


@pytest.mark.slow
def test_the_tenant_issuer_is_an_oidc_provider_for_the_audience(runs: tuple[Any, Any, Any]) -> None:
    _, azure, _ = runs
    (provider,) = azure.of("OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://sts.windows.net/{TENANT}/"
    assert provider.inputs["clientIdLists"] == ["api://glacier-azspread-aws"]


@pytest.mark.slow
def test_the_task_role_trusts_only_its_managed_identity(runs: tuple[Any, Any, Any]) -> None:
    _, azure, _ = runs
    (role,) = [r for r in azure.mocks.resources if r.type == ROLE]
    assert role.name == "azspread-clean-aws"
    issuer = f"sts.windows.net/{TENANT}/"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [{
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{issuer}:aud": "api://glacier-azspread-aws",
            f"{issuer}:sub": "principal-azspread-clean-identity",
        }},
    }]  # fmt: skip


@pytest.mark.slow
def test_the_task_role_may_read_exactly_its_dataset(runs: tuple[Any, Any, Any]) -> None:
    _, azure, _ = runs
    (policy,) = [r for r in azure.mocks.resources if r.type == "aws:iam/rolePolicy:RolePolicy"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": "arn:aws:s3:::legacy-orders/orders.parquet"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::legacy-orders",
         "Condition": {"StringLike": {"s3:prefix": ["orders.parquet", "orders.parquet/*"]}}},
    ]  # fmt: skip


@pytest.mark.slow
def test_the_function_gets_the_s3_address_and_the_role_to_assume(
    runs: tuple[Any, Any, Any],
) -> None:
    _, azure, _ = runs
    site = azure.one("WebApp", "azspread-clean")
    env = {s["name"]: s["value"] for s in site.inputs["siteConfig"]["appSettings"]}
    locations = json.loads(env["GLACIER_LOCATIONS"])
    assert locations["orders"] == "s3://legacy-orders/orders.parquet"
    assert locations["cleaned"].startswith("abfss://cleaned@")
    assert env["AWS_ROLE_ARN"] == "arn:aws:iam::123456789012:role/azspread-clean-aws-1a2b3c4"
    assert (env["AWS_REGION"], env["GLACIER_WEB_IDENTITY"]) == ("us-east-1", "azure")
    assert env["GLACIER_WEB_IDENTITY_AUDIENCE"] == "api://glacier-azspread-aws"
    (job,) = azure.of("app:Job")
    names = {e["name"] for e in job.inputs["template"]["containers"][0]["env"]}
    assert "AWS_ROLE_ARN" not in names  # summarise reaches no other cloud


@pytest.mark.slow
def test_an_existing_oidc_provider_and_a_v2_issuer_from_config(infra: Infrastructure,
                                                               tmp_path: Path) -> None:  # fmt: skip
    root = infra.write(tmp_path)
    aws = run_aws(root / "aws")
    arn = "arn:aws:iam::123456789012:oidc-provider/login.microsoftonline.com/t/v2.0"
    azure, _ = run_azure_linked(
        root / "azure", {"organization/azspread-aws/test": aws.exports},
        {"glacier:awsOidcProvider": arn, "glacier:entraTokenVersion": "2",
         "glacier:awsAudience": "api://orders-to-aws"},
    )  # fmt: skip
    assert azure.of("OpenIdConnectProvider") == []
    (role,) = [r for r in azure.mocks.resources if r.type == ROLE]
    statement = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    issuer = f"login.microsoftonline.com/{TENANT}/v2.0"
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Condition"]["StringEquals"][f"{issuer}:aud"] == "api://orders-to-aws"
