"""The Azure runtime in a cloud-like environment: Blob storage through the managed identity,
secrets as the platform resolves Key Vault references.

Functions and Container Apps give a process ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``; a
stand-in server plays that endpoint and a storage account, and records what the task sent.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from azure_runtime_support import ACCOUNT, ROOT, azurite, bundle, locations, task_locations

from glacier.loader import load_pipeline
from glacier_azure import runtime

pytestmark = pytest.mark.slow

TOKEN = "token-of-the-task-identity"


class _Cloud(http.server.BaseHTTPRequestHandler):
    """The identity endpoint (``/msi/token``) and a storage account holding nothing."""

    seen: list[tuple[str, dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/msi/token"):
            body = json.dumps({"access_token": TOKEN, "expires_on": "4102444800",
                               "resource": "https://storage.azure.com", "token_type": "Bearer"})  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def cloud() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Cloud)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Cloud.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_blob_storage_is_reached_with_the_tasks_managed_identity_and_no_key(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_pipeline(str(ROOT / "tests" / "pipelines" / "azure_vault.py"))
    spec = sys.modules["azure_vault"].pipeline.spec()
    env = {
        "IDENTITY_ENDPOINT": f"{cloud}/msi/token",  # what the platform sets
        "IDENTITY_HEADER": "header-from-the-platform",
        "AZURE_CLIENT_ID": "client-id-of-check",  # what the stack sets
        "GLACIER_STORAGE_ACCOUNT": "shopdata",
        "GLACIER_STORAGE_OPTIONS": json.dumps(
            {"azure_storage_endpoint": f"{cloud}/shopdata", "azure_allow_http": "true"}
        ),
        "GLACIER_TASK": "check",
        "GLACIER_LOCATIONS": json.dumps(task_locations(spec.task("check"), locations(spec))),
        "GLACIER_BUNDLE_ROOT": str(bundle(tmp_path, spec, "azure_vault")),
        "API_TOKEN": "resolved",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    status, answer = runtime.respond(b'{"run_id": "run-1"}')
    assert (status, answer["error"]) == (422, "InputError")  # the account holds no orders

    tokens = [(urlsplit(p), h) for p, h in _Cloud.seen if p.startswith("/msi/token")]
    blobs = [h for p, h in _Cloud.seen if p.startswith("/shopdata/data/")]
    assert tokens and blobs
    for url, headers in tokens:
        query = parse_qs(url.query)
        assert query["client_id"] == ["client-id-of-check"]
        assert query["resource"] == ["https://storage.azure.com"]
        assert headers["x-identity-header"] == "header-from-the-platform"
    assert {h.get("authorization") for h in blobs} == {f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def blob() -> Iterator[dict[str, str]]:
    with azurite(("data",)) as options:
        yield options


def _vault_env(tmp_path: Path, blob: dict[str, str]) -> dict[str, str]:
    load_pipeline(str(ROOT / "tests" / "pipelines" / "azure_vault.py"))
    module = sys.modules["azure_vault"]
    spec = module.pipeline.spec()
    found = locations(spec)
    options = {**blob, "account_name": ACCOUNT}
    module.sample_orders().write_parquet(found["orders"], storage_options=options)
    return {
        "GLACIER_TASK": "check",
        "GLACIER_LOCATIONS": json.dumps(task_locations(spec.task("check"), found)),
        "GLACIER_BUNDLE_ROOT": str(bundle(tmp_path, spec, "azure_vault")),
        "GLACIER_STORAGE_ACCOUNT": ACCOUNT,
        "GLACIER_STORAGE_OPTIONS": json.dumps(blob),
    }


def _respond(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[int, Any]:
    with monkeypatch.context() as m:
        for key, value in env.items():
            m.setenv(key, value)
        return runtime.respond(b'{"run_id": "run-1"}')


def test_secrets_are_read_from_the_environment_the_key_vault_references_resolve_into(
    tmp_path: Path, blob: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _vault_env(tmp_path, blob)
    status, answer = _respond(monkeypatch, {**env, "API_TOKEN": "resolved-token"})
    assert status == 200, answer
    checked = pl.read_parquet(
        answer["outputs"]["checked"], storage_options={**blob, "account_name": ACCOUNT}
    )
    assert checked["token_length"].to_list() == [len("resolved-token")] * 3

    status, answer = _respond(monkeypatch, {**env, "API_TOKEN": "revoked-4f9a2c1d"})
    assert (status, answer["error"], answer["retryable"]) == (500, "PermissionError", True)
    assert answer["message"] == "the orders API refused token ***"  # the value is redacted

    reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/api-token/)"
    status, answer = _respond(monkeypatch, {**env, "API_TOKEN": reference})
    assert (status, answer["error"], answer["retryable"]) == (422, "KeyVaultReferenceError", False)
    assert answer["message"].startswith("environment variable API_TOKEN holds a Key Vault")
    with monkeypatch.context() as m:
        for key, value in {**env, "API_TOKEN": reference, "GLACIER_RUN_ID": "run-1"}.items():
            m.setenv(key, value)
        assert runtime.main([]) == runtime.EXIT_NOT_RETRYABLE
