"""The shared handler inside Google Cloud: a multi-task pipeline against a GCS stand-in.

The shop pipeline is compiled for GCP and its program run under the mocks; each task is then
run the way the cloud runs it, with the environment the stack gives its function or job (its
``GLACIER_LOCATIONS`` as deployed, the bundle written by the compiler), in the DAG's order:
functions through ``handler`` with an HTTP request, the job through ``main``. Data moves
through gcp-storage-emulator (gcsfs: see ``GCPProvider.filesystem``), and the outputs equal a
local run's.
"""

from __future__ import annotations

import io
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from gcp_compile import compile_ref
from gcp_mocks import run_stack

from glacier.loader import load_pipeline
from glacier_gcp import runtime

pytestmark = pytest.mark.slow

SHOP = Path(__file__).resolve().parents[1] / "pipelines" / "runtime_shop.py"


class Request:
    """What functions-framework hands the handler: an object with ``get_json``."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        return self.body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gcs() -> Iterator[dict[str, str]]:
    from gcp_storage_emulator.server import create_server

    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="default")
    server.start()
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield {"endpoint_url": f"http://127.0.0.1:{port}", "token": "anon", "project": "test"}
    finally:
        server.stop()


def _deployed_env(tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]], list[str], set[str]]:
    """(bundle root, task -> its deployed environment, tasks in DAG order, the jobs)."""
    infra = compile_ref("runtime_shop")
    stack = infra.write(tmp_path) / "gcp"
    run = run_stack(stack)
    envs: dict[str, dict[str, str]] = {}
    jobs = set()
    for fn in run.of("gcp:cloudfunctionsv2/function:Function"):
        env = fn.inputs["serviceConfig"]["environmentVariables"]
        envs[env["GLACIER_TASK"]] = env
    for job in run.of("gcp:cloudrunv2/job:Job"):
        (container,) = job.inputs["template"]["template"]["containers"]
        env = {e["name"]: e["value"] for e in container["envs"]}
        envs[env["GLACIER_TASK"]] = env
        jobs.add(env["GLACIER_TASK"])
    order = [t["name"] for t in json.loads((stack / "app" / "manifest.json").read_text())["tasks"]]
    return stack / "app", envs, order, jobs


def _run_in_cloud(
    monkeypatch: pytest.MonkeyPatch, root: Path, env: dict[str, str], gcs: dict[str, str], job: bool
) -> tuple[Any, int]:
    with monkeypatch.context() as m:
        for key, value in env.items():
            m.setenv(key, value)
        m.setenv("GLACIER_BUNDLE_ROOT", str(root))
        m.setenv("GLACIER_STORAGE_OPTIONS", json.dumps(gcs))
        if job:
            m.setenv("GLACIER_RUN_ID", "run-1")
            return None, runtime.main([])
        return runtime.handler(Request({"run_id": "run-1"}))


def test_a_pipeline_runs_task_by_task_in_the_cloud_as_it_runs_locally(
    gcs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gcsfs

    root, envs, order, jobs = _deployed_env(tmp_path / "stack")
    fs = gcsfs.GCSFileSystem(**gcs)
    urls = {
        ds: url for env in envs.values() for ds, url in json.loads(env["GLACIER_LOCATIONS"]).items()
    }
    for url in urls.values():
        bucket = url.removeprefix("gs://").split("/")[0]
        if not fs.exists(bucket):
            fs.mkdir(bucket)
    shop = load_pipeline(str(SHOP))
    module = shop.tasks[0].fn.__globals__
    orders, customers = module["sample_orders"](), module["sample_customers"]()
    buffer = io.BytesIO()
    orders.write_parquet(buffer)
    fs.pipe_file(urls["orders"], buffer.getvalue())
    fs.pipe_file(urls["customers"], customers.write_csv().encode())

    assert jobs == {"by_country"}
    for task in order:
        body, status = _run_in_cloud(monkeypatch, root, envs[task], gcs, task in jobs)
        assert status in (0, 200), (task, body)
        if body is not None:
            assert body["status"] == "succeeded" and body["run_id"] == "run-1"

    local = shop.run(
        inputs={"orders": orders, "customers": customers}, root=str(tmp_path / "local")
    )
    for name in ("big", "country_totals", "summary"):
        data = fs.cat_file(urls[name])
        reader = pl.read_ndjson if urls[name].endswith(".ndjson") else pl.read_parquet
        cloud, here = reader(io.BytesIO(data)), local[name].collect()
        assert cloud.sort(pl.all()).equals(here.sort(pl.all())), name  # same rows, any order
    assert fs.exists(urls["enriched"].replace("{run_id}", "run-1"))  # ephemeral, per run


def test_a_failure_says_whether_trying_again_can_help(
    gcs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, envs, _, _ = _deployed_env(tmp_path / "stack")
    env = {**envs["enrich"], "GLACIER_LOCATIONS": json.dumps({
        "orders": "gs://nowhere-bucket/orders.parquet", "customers": "gs://nowhere-bucket/c.csv",
        "enriched": "gs://nowhere-bucket/runs/{run_id}/enriched.parquet",
    })}  # fmt: skip
    body, status = _run_in_cloud(monkeypatch, root, env, gcs, job=False)
    assert status == 500 and body["error"] == "InputError" and body["retryable"] is False
    assert "cannot read input dataset 'orders'" in body["message"]

    def flaky(*args: object, **kwargs: object) -> None:
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr("glacier.runtime.adapter.run_task", flaky)
    body, status = _run_in_cloud(monkeypatch, root, envs["enrich"], gcs, job=False)
    assert (status, body["error"], body["retryable"]) == (500, "ConnectionResetError", True)
    body, status = runtime.handler(Request(None))
    assert (status, body["error"], body["retryable"]) == (500, "ConfigurationError", False)
    _, code = _run_in_cloud(monkeypatch, root, envs["by_country"], gcs, job=True)
    assert code == 1
