"""Helpers the Azure runtime tests import: Azurite, a bundle as the compiler lays it out, and
each task's environment as the stack sets it (a unique module name: test folders share
``sys.path``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

from glacier.compilation.layout import cloud_key
from glacier.ir import PipelineIR, TaskIR, to_json

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "tests" / "pipelines"
ACCOUNT = "devstoreaccount1"
# The well-known Azurite development key (public, documented by Microsoft).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Azurite did not start listening on port {port} within {seconds}s")


def create_container(endpoint: str, name: str, account: str = ACCOUNT) -> None:
    """PUT a container with Shared Key auth (no Azure SDK needed for one call)."""
    date, version, ctype = formatdate(usegmt=True), "2021-08-06", "application/octet-stream"
    headers = f"x-ms-date:{date}\nx-ms-version:{version}"
    resource = f"/{account}/{account}/{name}\nrestype:container"
    to_sign = "\n".join(["PUT", "", "", "", "", ctype, "", "", "", "", "", "", headers, resource])
    digest = hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()
    request = urllib.request.Request(
        f"{endpoint}/{name}?restype=container",
        method="PUT",
        data=b"",
        headers={
            "Content-Type": ctype,
            "x-ms-date": date,
            "x-ms-version": version,
            "Authorization": f"SharedKey {account}:{base64.b64encode(digest).decode()}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, response.status


@contextmanager
def azurite(containers: tuple[str, ...],
            accounts: Mapping[str, Iterable[str]] | None = None) -> Iterator[dict[str, str]]:  # fmt: skip
    """Azurite (blob, in memory) with ``containers``; the Polars storage options reaching it
    (the account comes from ``GLACIER_STORAGE_ACCOUNT``, as in the cloud).

    With ``accounts`` ({account: containers}) Azurite serves those accounts instead (each
    with the well-known development key) and the options are the emulator's: a URL naming
    its account (``abfss://<container>@<account>.dfs.core.windows.net/<key>``) reaches it
    when ``AZURITE_BLOB_STORAGE_URL`` (in the options as ``blob_url``) is in the environment.
    """
    port = free_port()
    binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
    env = dict(os.environ)
    if accounts:
        env["AZURITE_ACCOUNTS"] = ";".join(f"{a}:{KEY}" for a in sorted(accounts))
    proc = subprocess.Popen(
        [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--loose"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        if accounts:
            for account, names in accounts.items():
                for name in sorted(set(names)):
                    create_container(f"http://127.0.0.1:{port}/{account}", name, account)
            yield {"use_emulator": "true", "blob_url": f"http://127.0.0.1:{port}"}
            return
        endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
        for name in containers:
            create_container(endpoint, name)
        yield {"account_key": KEY, "azure_storage_endpoint": endpoint, "azure_allow_http": "true"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: Azurite ignores SIGTERM for long
            proc.kill()
            proc.wait()


def bundle(tmp_path: Path, spec: PipelineIR, module: str) -> Path:
    """A bundle root as the compiler lays it out: manifest.json and the pipeline's module."""
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(PIPELINES / f"{module}.py", root / f"{module}.py")
    (root / "manifest.json").write_text(to_json(replace(spec, source=f"{module}.py:pipeline")))
    return root


def locations(spec: PipelineIR, prefix: str = "") -> dict[str, str]:
    """Dataset -> ``az://<container>/<key>`` with the core's key layout: stored datasets in
    ``<prefix>data``, ephemeral ones in ``<prefix>work`` (``{run_id}`` in their keys)."""
    return {
        ds.name: f"az://{prefix}{'work' if ds.ephemeral else 'data'}/{cloud_key(ds)}"
        for ds in spec.datasets
    }


def task_locations(task: TaskIR, found: dict[str, str]) -> dict[str, str]:
    """The locations one task's ``GLACIER_LOCATIONS`` holds: its inputs' and outputs'."""
    return {n: found[n] for n in sorted({*task.input_datasets, *task.outputs})}
