"""Fixtures for the executor tests: a scratch working folder, sample data, and the three
object-store stand-ins (moto S3, Azurite, gcp-storage-emulator), each started on a free port
by the test process itself and stopped when the session ends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "pipelines"))

import executor_pipelines as samples  # noqa: E402

AZURITE_ACCOUNT = "devstoreaccount1"
# The well-known Azurite development key (public, documented by Microsoft).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on port {port} within {seconds}s")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own empty folder (root=.glacier lands there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def orders() -> pl.DataFrame:
    return samples.orders_frame()


@pytest.fixture
def customers() -> pl.DataFrame:
    return samples.customers_frame()


@pytest.fixture(scope="session")
def s3_options() -> Iterator[dict[str, str]]:
    """A moto S3 server with bucket ``lake``; Polars storage options to reach it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {
        "aws_endpoint_url": f"http://127.0.0.1:{port}",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
    }
    client = boto3.client(
        "s3",
        endpoint_url=options["aws_endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="lake")
    yield options
    server.stop()


def _azurite_create_container(endpoint: str, name: str) -> None:
    """PUT a container with Shared Key auth (no Azure SDK needed for one call)."""
    date, version, ctype = formatdate(usegmt=True), "2021-08-06", "application/octet-stream"
    headers = f"x-ms-date:{date}\nx-ms-version:{version}"
    resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
    to_sign = "\n".join(["PUT", "", "", "", "", ctype, "", "", "", "", "", "", headers, resource])
    digest = hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(), hashlib.sha256).digest()
    request = urllib.request.Request(
        f"{endpoint}/{name}?restype=container",
        method="PUT",
        data=b"",
        headers={
            "Content-Type": ctype,
            "x-ms-date": date,
            "x-ms-version": version,
            "Authorization": f"SharedKey {AZURITE_ACCOUNT}:{base64.b64encode(digest).decode()}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, response.status


@pytest.fixture(scope="session")
def azure_options() -> Iterator[dict[str, str]]:
    """Azurite (blob) with container ``lake``; Polars storage options to reach it."""
    port = free_port()
    binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
    proc = subprocess.Popen(
        [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--loose"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, "Azurite")
        endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        _azurite_create_container(endpoint, "lake")
        yield {
            "account_key": AZURITE_KEY,
            "azure_storage_endpoint": endpoint,
            "azure_allow_http": "true",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: Azurite ignores SIGTERM for long
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def gcs_options() -> Iterator[dict[str, str]]:
    """gcp-storage-emulator (in memory) with bucket ``lake``; gcsfs options to reach it."""
    from gcp_storage_emulator.server import create_server

    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="lake")
    server.start()
    try:
        wait_for_port(port, "gcp-storage-emulator")
        yield {"endpoint_url": f"http://127.0.0.1:{port}", "token": "anon", "project": "test"}
    finally:
        server.stop()
