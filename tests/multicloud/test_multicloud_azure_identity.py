"""The Azure runtime's side of reaching AWS: the token file, the refusals, and storage
options split per provider so the Azure identity never reaches the S3 client."""

from __future__ import annotations

import json
import stat
import tempfile
from pathlib import Path

import pytest

from glacier.runtime.adapter import ConfigurationError
from glacier_azure import federation
from glacier_azure.runtime import storage_options as azure_options

REACHING = {
    "GLACIER_WEB_IDENTITY": "azure",
    "GLACIER_WEB_IDENTITY_AUDIENCE": "api://glacier-orders-aws",
    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/orders-clean-aws",
    "GLACIER_TASK": "clean",
}


def test_the_token_goes_to_a_private_file_aws_clients_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    env = dict(REACHING)
    asked: list[str] = []
    path = federation.web_identity(env, fetch=lambda aud: asked.append(aud) or "the-token")
    assert asked == ["api://glacier-orders-aws"]
    assert (
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] == path == str(tmp_path / "glacier-web-identity-token")
    )
    assert Path(path).read_text() == "the-token"
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    assert env["AWS_ROLE_SESSION_NAME"] == "glacier-clean"


def test_nothing_happens_for_a_task_that_reaches_no_other_cloud() -> None:
    env = {"GLACIER_TASK": "clean"}
    assert federation.web_identity(env, fetch=lambda aud: pytest.fail("no token")) is None
    assert env == {"GLACIER_TASK": "clean"}


def test_a_half_configured_task_is_refused_naming_the_fix() -> None:
    env = {**REACHING, "AWS_ROLE_ARN": ""}
    with pytest.raises(
        ConfigurationError, match=r"needs AWS_ROLE_ARN and GLACIER_WEB_IDENTITY_AUDIENCE.*redeploy"
    ):
        federation.web_identity(env, fetch=lambda aud: "t")


def test_without_the_identity_endpoint_the_token_cannot_be_had() -> None:
    with pytest.raises(
        ConfigurationError, match=r"IDENTITY_ENDPOINT and IDENTITY_HEADER are not set"
    ):
        federation.managed_identity_token("api://x", {})


def test_options_stay_flat_for_a_task_on_azure_only() -> None:
    env = {"AZURE_CLIENT_ID": "client-1", "GLACIER_STORAGE_OPTIONS": "{}"}
    assert federation.storage_options(env, azure_options) == {"azure_client_id": "client-1"}


def test_a_task_reaching_aws_gets_its_azure_identity_for_azure_urls_only() -> None:
    env = {**REACHING, "AZURE_CLIENT_ID": "client-1",
           "GLACIER_STORAGE_OPTIONS": json.dumps({"azure_client_id": "client-1"})}  # fmt: skip
    assert federation.storage_options(env, azure_options) == {
        "azure": {"azure_client_id": "client-1"}
    }
    given = {"azure": {"account_key": "k"}, "aws": {"aws_region": "us-east-1"}}
    env["GLACIER_STORAGE_OPTIONS"] = json.dumps(given)
    env["GLACIER_STORAGE_ACCOUNT"] = "acct"
    assert federation.storage_options(env, azure_options) == {
        "aws": {"aws_region": "us-east-1"},
        "azure": {"account_key": "k", "account_name": "acct"},
    }
