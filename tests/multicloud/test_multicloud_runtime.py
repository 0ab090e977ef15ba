"""A pipeline spread over AWS and GCP, run task by task the way the clouds run it, against
the local storage stand-ins: moto's S3 and gcp-storage-emulator (through gcsfs).

Its stacks are compiled and run under Pulumi mocks (the GCP stack's StackReference answered
with the AWS stack's exports), so each task gets the environment its function is deployed
with: ``GLACIER_LOCATIONS`` with ``s3://`` and ``gs://`` URLs, and the AWS role to assume.
The tasks run in the order the orchestration prescribes (providers in hand-off order, each
provider's tasks in its workflow's order) through the GCP handler, which first trades the
task's Google identity for the AWS web identity (a stand-in metadata server answers the ID
token), and the data they write equals a local run's.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import mc_spread
import polars as pl
import pytest
from mc_mocks import run_aws, run_linked
from moto.server import ThreadedMotoServer

from glacier.compilation import MultiCloudCompiler, resolve
from glacier.compilation.handoff import run_order
from glacier_aws import AWSCompiler
from glacier_gcp import GCPCompiler, runtime

pytestmark = pytest.mark.slow

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
TOKEN = "header.google-id-token.signature"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Metadata(BaseHTTPRequestHandler):
    """The metadata server's identity endpoint: a token for the audience asked."""

    audiences: list[str] = []

    def do_GET(self) -> None:
        assert self.headers["Metadata-Flavor"] == "Google"
        self.audiences.append(self.path.split("audience=")[1].split("&")[0])
        body = TOKEN.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def clouds() -> Iterator[dict[str, Any]]:
    from gcp_storage_emulator.server import create_server

    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    moto_port, gcs_port = _free_port(), _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    gcs = create_server("127.0.0.1", gcs_port, in_memory=True, default_bucket="default")
    gcs.start()
    metadata = HTTPServer(("127.0.0.1", 0), _Metadata)
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", gcs_port)) == 0:
                    break
            time.sleep(0.05)
        yield {
            "aws": {"aws_endpoint_url": f"http://127.0.0.1:{moto_port}", "aws_region": "us-east-1",
                    "aws_allow_http": "true", **CREDENTIALS},
            "gcp": {"endpoint_url": f"http://127.0.0.1:{gcs_port}", "token": "anon",
                    "project": "test"},
            "metadata": f"127.0.0.1:{metadata.server_address[1]}",
        }  # fmt: skip
    finally:
        metadata.shutdown()
        gcs.stop()
        moto.stop()


class Request:
    def __init__(self, body: Any) -> None:
        self.body = body

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        return self.body


def _deployed(tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]], list[str]]:
    """(bundle root, task -> deployed environment, tasks in the orchestration's order)."""
    compiler = MultiCloudCompiler(
        providers={"aws": AWSCompiler(region="us-east-1"), "gcp": GCPCompiler("demo-project")},
        default_provider="gcp",
    )
    root = mc_spread.pipeline.compile(compiler).write(tmp_path)
    aws = run_aws(root / "aws")

    class Peers(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> Any:
            return aws.exports

    gcp, _ = run_linked(root / "gcp", Peers())
    envs = {}
    for fn in gcp.of("gcp:cloudfunctionsv2/function:Function"):
        env = fn.inputs["serviceConfig"]["environmentVariables"]
        envs[env["GLACIER_TASK"]] = env
    spec = mc_spread.pipeline.spec()
    placement = resolve(spec, "gcp", ("aws", "gcp"))
    order = [
        t.name
        for p in run_order(spec, placement)
        for t in spec.tasks
        if placement.tasks[t.name] == p
    ]
    return root / "gcp" / "app", envs, order


def test_a_spread_pipeline_runs_in_orchestration_order_as_it_runs_locally(
    clouds: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gcsfs

    app, envs, order = _deployed(tmp_path / "stacks")
    assert order == ["clean", "summarise", "publish"]
    urls = {
        ds: u for env in envs.values() for ds, u in json.loads(env["GLACIER_LOCATIONS"]).items()
    }
    assert urls["orders"] == "s3://legacy-orders/orders.parquet"
    s3 = boto3.client("s3", endpoint_url=clouds["aws"]["aws_endpoint_url"], region_name="us-east-1",
                      **CREDENTIALS)  # fmt: skip
    s3.create_bucket(Bucket="legacy-orders")
    fs = gcsfs.GCSFileSystem(**clouds["gcp"])
    for url in urls.values():
        if url.startswith("gs://") and not fs.exists(url[5:].split("/")[0]):
            fs.mkdir(url[5:].split("/")[0])
    orders = pl.DataFrame({"store": ["a", "b", "a", "c"], "amount": [5.0, -1.0, 7.5, 2.0]})
    buffer = io.BytesIO()
    orders.write_parquet(buffer)
    s3.put_object(Bucket="legacy-orders", Key="orders.parquet", Body=buffer.getvalue())

    options = {"aws": clouds["aws"], "gcp": clouds["gcp"]}
    for task in order:
        with monkeypatch.context() as m:
            for key, value in envs[task].items():
                m.setenv(key, value)
            m.setenv("GLACIER_BUNDLE_ROOT", str(app))
            m.setenv("GLACIER_STORAGE_OPTIONS", json.dumps(options))
            m.setenv("GCE_METADATA_HOST", clouds["metadata"])
            for set_by_the_handler in ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME"):
                m.delenv(set_by_the_handler, raising=False)  # undone when the context ends
            m.setattr(tempfile, "tempdir", str(tmp_path))  # the token file goes here
            body, status = runtime.handler(Request({"run_id": "run-1"}))
            assert status == 200, (task, body)
            if task == "clean":  # it traded its Google identity for the AWS role
                token_file = Path(os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"])
                assert token_file.parent == tmp_path and token_file.read_text() == TOKEN
                assert os.environ["AWS_ROLE_ARN"].endswith(":role/spread-clean-aws-1a2b3c4")
    assert _Metadata.audiences == ["sts.amazonaws.com"]  # only the task that reaches AWS

    local = mc_spread.pipeline.run(inputs={"orders": orders}, root=str(tmp_path / "local"))
    for name in ("totals", "report", "cleaned"):
        cloud = pl.read_parquet(io.BytesIO(fs.cat_file(urls[name])))
        here = local[name].collect()
        assert cloud.sort(pl.all()).equals(here.sort(pl.all())), name
