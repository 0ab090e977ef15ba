"""How the Azure runtime reaches Blob storage: the account and the task's managed identity
from the environment the stack sets, never an account key unless one is given."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from glacier.runtime.adapter import ConfigurationError
from glacier_azure import runtime
from glacier_azure.provider import AzureProvider


def test_the_cloud_options_name_the_account_and_the_tasks_identity() -> None:
    env = {"GLACIER_STORAGE_ACCOUNT": "shopdata1a2b", "AZURE_CLIENT_ID": "cid-1"}
    assert runtime.storage_options(env) == {
        "account_name": "shopdata1a2b",
        "azure_client_id": "cid-1",
    }


@pytest.mark.parametrize(
    "given",
    [
        {"account_key": "k"},
        {"azure_storage_account_key": "k"},
        {"azure_storage_sas_token": "sv=1"},
        {"use_azure_cli": "true"},
        {"azure_storage_use_emulator": "true"},
        {"AZURE_CLIENT_ID": "other"},
    ],
)
def test_a_credential_given_in_the_options_wins_over_the_identity(given: dict[str, str]) -> None:
    env = {"GLACIER_STORAGE_OPTIONS": json.dumps(given), "GLACIER_STORAGE_ACCOUNT": "acct"}
    assert runtime.storage_options(env) == {**given, "account_name": "acct"}


def test_an_account_in_the_options_wins_over_the_stacks() -> None:
    env = {
        "GLACIER_STORAGE_OPTIONS": json.dumps({"azure_storage_account_name": "mine"}),
        "GLACIER_STORAGE_ACCOUNT": "stack",
        "AZURE_CLIENT_ID": "cid",
    }
    assert runtime.storage_options(env) == {
        "azure_storage_account_name": "mine",
        "azure_client_id": "cid",
    }


def test_without_an_identity_or_a_credential_the_error_says_what_to_set() -> None:
    with pytest.raises(ConfigurationError, match=r"AZURE_CLIENT_ID is not set; .*managed identity"):
        runtime.storage_options({"GLACIER_STORAGE_ACCOUNT": "acct"})
    with pytest.raises(ConfigurationError, match=r"GLACIER_STORAGE_OPTIONS must hold JSON"):
        runtime.storage_options({"GLACIER_STORAGE_OPTIONS": "{account"})
    with pytest.raises(ConfigurationError, match=r"must hold a JSON object, found '\[\]'"):
        runtime.storage_options({"GLACIER_STORAGE_OPTIONS": "[]"})


def test_an_unresolved_key_vault_reference_is_named_and_not_retried() -> None:
    reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/api-token/)"
    with pytest.raises(
        runtime.KeyVaultReferenceError, match=r"variable API_TOKEN holds a Key"
    ) as e:
        runtime.check_key_vault_references({"API_TOKEN": reference, "PLAIN": "x"})
    assert runtime.exit_code(e.value) == runtime.EXIT_NOT_RETRYABLE
    runtime.check_key_vault_references({"API_TOKEN": "resolved-value"})


def test_the_provider_names_the_runtime_entry_point() -> None:
    module, function = AzureProvider.runtime.split(":")
    assert getattr(__import__(module, fromlist=[function]), function) is runtime.respond


def test_a_jobs_outcome_lies_beside_the_runs_ephemeral_data() -> None:
    assert runtime.outcome_key("by_country") == "runs/{run_id}/_outcomes/by_country.json"


def test_invocations_in_one_process_run_one_after_the_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Functions worker may call the function on several threads; they share os.environ."""
    running, most = [0], [0]
    lock = threading.Lock()

    def execute(task: str | None, event: Any) -> dict[str, Any]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return {"status": "succeeded"}

    monkeypatch.setattr(runtime, "execute", execute)
    monkeypatch.setenv("AZURE_CLIENT_ID", "cid")
    answers: list[tuple[int, Any]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(runtime.respond(b'{"run_id": "r"}')))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, {"status": "succeeded"})] * 4
    assert most == [1]
