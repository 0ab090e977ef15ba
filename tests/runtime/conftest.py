"""Fixtures for the cloud runtime tests: a moto S3 server on a free port, the shop pipeline."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest
from moto.server import ThreadedMotoServer
from runtime_support import CREDENTIALS, PIPELINES

from glacier.loader import load_pipeline


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server (S3, Secrets Manager...) for this test module, on a free port."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def storage_options(moto_endpoint: str) -> dict[str, str]:
    """Polars storage options pointing at the moto server."""
    return {
        "aws_endpoint_url": moto_endpoint,
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
        **CREDENTIALS,
    }


@pytest.fixture()
def s3(moto_endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", **CREDENTIALS)


@pytest.fixture()
def shop() -> ModuleType:
    """The shop pipeline module, imported by the REF loader (as ``glacier run`` would)."""
    load_pipeline(str(PIPELINES / "runtime_shop.py"))
    return sys.modules["runtime_shop"]
