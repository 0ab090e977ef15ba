"""A pipeline spread over AWS, GCP and Azure, run task by task the way the clouds run it,
against the three local storage stand-ins: moto's S3, gcp-storage-emulator (through gcsfs)
and Azurite.

The stacks are compiled and run under Pulumi mocks (the GCP and Azure stacks'
StackReferences answered with the AWS stack's exports), so each task gets the environment
it is deployed with. The tasks run in the order the orchestration prescribes (providers in
hand-off order, each provider's tasks in its workflow's order): the GCP ones through the GCP
handler, the Azure one through the Container Apps job command, which first trades its
managed identity's token for the AWS web identity (a stand-in identity endpoint answers).
Azure URLs are rewritten from ``abfss://<container>@<account>.dfs.core.windows.net/<key>`` to
``az://<container>/<key>`` (Azurite has one account, named by the options). The data equals
a local run's.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import mc_azure_spread
import polars as pl
import pytest
from mc_azure_mocks import run_azure_linked
from mc_mocks import _load, run_aws, run_linked
from test_multicloud_runtime import CREDENTIALS, Request, _Metadata, clouds  # noqa: F401 (a fixture)

from glacier.compilation import MultiCloudCompiler, resolve
from glacier.compilation.handoff import run_order
from glacier_aws import AWSCompiler
from glacier_azure import AzureCompiler
from glacier_azure import runtime as azure_runtime
from glacier_gcp import GCPCompiler
from glacier_gcp import runtime as gcp_runtime

pytestmark = pytest.mark.slow

support = _load("azure", "azure_runtime_support")
TOKEN = "header.entra-access-token.signature"
SECRET = "identity-header-secret"
_ABFSS = re.compile(r"abfss://([^@]+)@[^/]+\.dfs\.core\.windows\.net/(.*)")


class _Identity(BaseHTTPRequestHandler):
    """The managed identity endpoint: a token for the resource asked, with the right header."""

    asked: list[dict[str, str]] = []

    def do_GET(self) -> None:
        assert self.headers["X-IDENTITY-HEADER"] == SECRET
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        self.asked.append(query)
        body = json.dumps({"access_token": TOKEN, "expires_on": "1999999999"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def identity_endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Identity)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/msi/token"
    finally:
        server.shutdown()


def _az(url: str) -> str:
    found = _ABFSS.fullmatch(url)
    return f"az://{found.group(1)}/{found.group(2)}" if found else url


def _deployed(tmp_path: Path) -> tuple[Path, dict[str, tuple[str, dict[str, str]]], list[str]]:
    """(stacks root, task -> (provider, deployed environment), tasks in orchestration order)."""
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "azure": AzureCompiler("eastus"),
                   "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )  # fmt: skip
    root = mc_azure_spread.tri.compile(compiler).write(tmp_path)
    aws = run_aws(root / "aws")

    class Peers(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> Any:
            return aws.exports

    gcp, _ = run_linked(root / "gcp", Peers())
    azure, _ = run_azure_linked(root / "azure", {"organization/tri-aws/test": aws.exports})
    envs: dict[str, tuple[str, dict[str, str]]] = {}
    for fn in gcp.of("gcp:cloudfunctionsv2/function:Function"):
        env = fn.inputs["serviceConfig"]["environmentVariables"]
        envs[env["GLACIER_TASK"]] = ("gcp", env)
    for job in azure.of("app:Job"):
        env = {e["name"]: e["value"] for e in job.inputs["template"]["containers"][0]["env"]}
        envs[env["GLACIER_TASK"]] = ("azure", env)
    spec = mc_azure_spread.tri.spec()
    placement = resolve(spec, "gcp", ("aws", "azure", "gcp"))
    order = [t.name for p in run_order(spec, placement) for t in spec.tasks
             if placement.tasks[t.name] == p]  # fmt: skip
    return root, envs, order


def test_a_pipeline_over_three_clouds_runs_in_orchestration_order_as_it_runs_locally(
    clouds: dict[str, Any],  # noqa: F811
    identity_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gcsfs

    monkeypatch.setattr(_Metadata, "audiences", [])  # its own record: the other test's is kept
    root, envs, order = _deployed(tmp_path / "stacks")
    assert order == ["stage", "share", "score"]
    urls = {ds: _az(u) for _, env in envs.values()
            for ds, u in json.loads(env["GLACIER_LOCATIONS"]).items()}  # fmt: skip
    assert urls["orders"] == "s3://legacy-orders/orders.parquet"
    assert urls["scores"] == "az://team-scores/scores.parquet"
    s3 = boto3.client("s3", endpoint_url=clouds["aws"]["aws_endpoint_url"], region_name="us-east-1",
                      **CREDENTIALS)  # fmt: skip
    for bucket in ("legacy-orders", "team-shared"):
        s3.create_bucket(Bucket=bucket)
    fs = gcsfs.GCSFileSystem(**clouds["gcp"])
    if not fs.exists(urls["staged"][5:].split("/")[0]):
        fs.mkdir(urls["staged"][5:].split("/")[0])
    orders = pl.DataFrame({"store": ["a", "b", "a", "c"], "amount": [5.0, -1.0, 7.5, 2.0]})
    buffer = io.BytesIO()
    orders.write_parquet(buffer)
    s3.put_object(Bucket="legacy-orders", Key="orders.parquet", Body=buffer.getvalue())

    with support.azurite(("team-scores", "work")) as blob:
        options = {"aws": clouds["aws"], "gcp": clouds["gcp"], "azure": blob}
        for task in order:
            provider, env = envs[task]
            with monkeypatch.context() as m:
                for key, value in env.items():
                    m.setenv(key, value)
                m.setenv("GLACIER_LOCATIONS", json.dumps(
                    {d: _az(u) for d, u in json.loads(env["GLACIER_LOCATIONS"]).items()}))  # fmt: skip
                if "GLACIER_OUTCOME" in env:  # the job's verdict, in the work container on Azurite
                    m.setenv("GLACIER_OUTCOME", _az(env["GLACIER_OUTCOME"]))
                m.setenv("GLACIER_BUNDLE_ROOT", str(root / provider / "app"))
                m.setenv("GLACIER_STORAGE_OPTIONS", json.dumps(options))
                m.setenv("GCE_METADATA_HOST", clouds["metadata"])
                m.setenv("GLACIER_STORAGE_ACCOUNT", support.ACCOUNT)
                m.setenv("IDENTITY_ENDPOINT", identity_endpoint)
                m.setenv("IDENTITY_HEADER", SECRET)
                for set_by_the_handler in ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME"):
                    m.delenv(set_by_the_handler, raising=False)
                m.setattr(tempfile, "tempdir", str(tmp_path))  # the token file goes here
                if provider == "gcp":
                    body, status = gcp_runtime.handler(Request({"run_id": "run-1"}))
                    assert status == 200, (task, body)
                    continue
                assert azure_runtime.main(["--task", task, "--run-id", "run-1"]) == 0
                token_file = Path(os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"])
                assert token_file.parent == tmp_path and token_file.read_text() == TOKEN
                assert os.environ["AWS_ROLE_ARN"].endswith(":role/tri-score-aws-1a2b3c4")
        assert _Metadata.audiences == ["sts.amazonaws.com"] * 2  # stage and share reach S3
        assert _Identity.asked == [{"resource": "api://glacier-tri-aws", "api-version": "2019-08-01",
                                    "client_id": "client-tri-score-identity"}]  # fmt: skip
        scores = pl.read_parquet(urls["scores"], storage_options={**blob,
                                 "account_name": support.ACCOUNT})  # fmt: skip

    local = mc_azure_spread.tri.run(inputs={"orders": orders}, root=str(tmp_path / "local"))
    assert scores.sort(pl.all()).equals(local["scores"].collect().sort(pl.all()))
    staged = pl.read_parquet(io.BytesIO(fs.cat_file(urls["staged"])))
    assert staged.sort(pl.all()).equals(local["staged"].collect().sort(pl.all()))
    body = s3.get_object(Bucket="team-shared", Key="shared.parquet")["Body"].read()
    assert (
        pl.read_parquet(io.BytesIO(body))
        .sort(pl.all())
        .equals(local["shared"].collect().sort(pl.all()))
    )
