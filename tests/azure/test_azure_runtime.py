"""The shared handler inside Azure: a multi-task pipeline against Azurite, in DAG order.

Each task runs the way Azure runs it, with the environment a compiled stack gives it
(``GLACIER_TASK``, ``GLACIER_LOCATIONS`` of ``az://`` URLs laid out by the core,
``GLACIER_STORAGE_ACCOUNT``, the bundle's manifest): a function's task through the HTTP
handler (``respond``, what ``function_app.py``'s function calls with the request body), the
container task through ``python -m glacier_azure.runtime`` as a Container Apps job runs it. The
outputs equal a local run's; a failure's answer says whether the Logic App may retry it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from azure_runtime_support import ACCOUNT, ROOT, azurite, bundle, locations, task_locations
from polars.testing import assert_frame_equal

from glacier.io import scan_dataset
from glacier.ir import PipelineIR
from glacier.loader import load_pipeline
from glacier_azure import runtime

pytestmark = pytest.mark.slow

RUN_ID = "run-2026-12-07"
#: Container name prefixes: each way of running the pipeline has its own containers.
PREFIXES = ("", "jobs-")


@pytest.fixture(scope="module")
def blob() -> Iterator[dict[str, str]]:
    with azurite(tuple(f"{p}{c}" for p in PREFIXES for c in ("data", "work"))) as options:
        yield options


@pytest.fixture()
def shop() -> ModuleType:
    load_pipeline(str(ROOT / "tests" / "pipelines" / "runtime_shop.py"))
    return sys.modules["runtime_shop"]


def _deploy(tmp_path: Path, shop: ModuleType, blob: dict[str, str], prefix: str) -> dict[str, Any]:
    """The shop's bundle, its locations and sources in Azurite, the environment every task
    shares (what the stack sets, the emulator's endpoint and key in place of the identity)."""
    spec = shop.pipeline.spec()
    found = locations(spec, prefix)
    options = {**blob, "account_name": ACCOUNT}
    shop.sample_orders().write_parquet(found["orders"], storage_options=options)
    shop.sample_customers().write_csv(found["customers"], storage_options=options)
    common = {
        "GLACIER_BUNDLE_ROOT": str(bundle(tmp_path, spec, "runtime_shop")),
        "GLACIER_MANIFEST": "manifest.json",
        "GLACIER_STORAGE_ACCOUNT": ACCOUNT,
        "GLACIER_STORAGE_OPTIONS": json.dumps(blob),
    }
    work = f"{prefix}work"
    return {"spec": spec, "locations": found, "options": options, "common": common, "work": work}


@pytest.fixture()
def deployed(tmp_path: Path, shop: ModuleType, blob: dict[str, str]) -> dict[str, Any]:
    return _deploy(tmp_path, shop, blob, "")


def _env(deployed: dict[str, Any], task: str) -> dict[str, str]:
    spec: PipelineIR = deployed["spec"]
    found = task_locations(spec.task(task), deployed["locations"])
    return {**deployed["common"], "GLACIER_TASK": task, "GLACIER_LOCATIONS": json.dumps(found)}


def _call_function(m: pytest.MonkeyPatch, env: dict[str, str], body: bytes) -> tuple[int, Any]:
    with m.context() as ctx:
        for key, value in env.items():
            ctx.setenv(key, value)
        return runtime.respond(body)


def _outcome_url(deployed: dict[str, Any], task: str) -> str:
    return f"az://{deployed['work']}/{runtime.outcome_key(task)}"


def _start_job(deployed: dict[str, Any], env: dict[str, str], *args: str) -> int:
    """``python -m glacier_azure.runtime`` in its own process, as the job's container runs it."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    outcome = _outcome_url(deployed, env["GLACIER_TASK"])
    full = {**os.environ, **env, "PYTHONPATH": path, "GLACIER_OUTCOME": outcome}
    done = subprocess.run(
        [sys.executable, "-m", "glacier_azure.runtime", *args], env=full, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode


def _outcome(deployed: dict[str, Any], task: str, run_id: str = RUN_ID) -> dict[str, Any]:
    url = _outcome_url(deployed, task).replace("{run_id}", run_id)
    (row,) = pl.read_ndjson(url, storage_options=deployed["options"]).to_dicts()
    return row


@pytest.mark.parametrize("packaging", ["as compiled", "every task a job"])
def test_a_pipeline_runs_task_by_task_in_dag_order_as_it_runs_locally(
    packaging: str,
    blob: dict[str, str],
    shop: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    deployed = _deploy(tmp_path, shop, blob, PREFIXES[packaging == "every task a job"])
    spec: PipelineIR = deployed["spec"]
    order = [t.name for stage in shop.pipeline.stages() for t in stage]
    assert order == ["enrich", "by_country", "split", "summarize"]
    body = json.dumps({"run_id": RUN_ID}).encode()
    for task in order:
        env = _env(deployed, task)
        if packaging == "every task a job" or spec.task(task).compute.type == "container":
            execution = {"CONTAINER_APP_JOB_EXECUTION_NAME": f"{task}-x7k2q"}
            assert _start_job(deployed, {**env, **execution, "GLACIER_RUN_ID": RUN_ID}) == 0, task
            outcome = _outcome(deployed, task)
            expected = {"status": "succeeded", "exit_code": 0, "task": task}
            assert outcome | expected | {"execution": f"{task}-x7k2q"} == outcome
        else:  # a function: the Logic App's HTTP action posts the run id
            status, answer = _call_function(monkeypatch, env, body)
            assert (status, answer["status"], answer["run_id"]) == (200, "succeeded", RUN_ID)
            assert set(answer["outputs"]) == set(spec.task(task).outputs)

    local = shop.pipeline.run(
        inputs={"orders": shop.sample_orders(), "customers": shop.sample_customers()},
        root=str(tmp_path / "local"),
        force=True,
    )
    for ds in spec.datasets:
        if ds.ephemeral or ds.is_source:
            continue
        cloud = scan_dataset(ds, deployed["locations"][ds.name], deployed["options"]).collect()
        assert_frame_equal(cloud, local[ds.name].collect(), check_row_order=False)
    enriched = deployed["locations"]["enriched"].replace("{run_id}", RUN_ID)
    assert pl.scan_parquet(enriched, storage_options=deployed["options"]).collect().height == 12


def test_a_failure_says_whether_the_logic_app_may_retry_it(
    deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    never = "run-never-enriched"  # no task ran for this run: split has no input
    body = json.dumps({"run_id": never}).encode()
    status, answer = _call_function(monkeypatch, _env(deployed, "split"), body)
    assert (status, answer["error"], answer["retryable"]) == (422, "InputError", False)
    assert "cannot read input dataset 'enriched'" in answer["message"]

    job = {**_env(deployed, "by_country"), "GLACIER_RUN_ID": RUN_ID}  # --run-id wins
    assert _start_job(deployed, job, "--run-id", never) == runtime.EXIT_NOT_RETRYABLE == 65
    outcome = _outcome(deployed, "by_country", never)
    assert outcome | {"exit_code": 65, "retryable": False, "error": "InputError"} == outcome

    def flaky(*args: object, **kwargs: object) -> None:
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr("glacier.runtime.adapter.run_task", flaky)
    status, answer = _call_function(monkeypatch, _env(deployed, "enrich"), body)
    assert (status, answer["error"], answer["retryable"]) == (500, "ConnectionResetError", True)
    with monkeypatch.context() as m:
        for key, value in {**job, "GLACIER_OUTCOME": _outcome_url(deployed, "by_country")}.items():
            m.setenv(key, value)
        assert runtime.main(["--run-id", never]) == runtime.EXIT_RETRYABLE == 75
    outcome = _outcome(deployed, "by_country", never)
    assert (
        outcome | {"exit_code": 75, "retryable": True, "error": "ConnectionResetError"} == outcome
    )

    status, answer = _call_function(monkeypatch, _env(deployed, "enrich"), b"run it")
    assert (status, answer["error"], answer["retryable"]) == (422, "ConfigurationError", False)
    assert answer["message"].startswith("the request body must be JSON such as")
    assert "found 'run it'" in answer["message"]
    logged = json.loads(capsys.readouterr().out.splitlines()[-1])  # logged like any failure
    assert (logged["event"], logged["error"], logged["task"]) == (
        "task_failed",
        "ConfigurationError",
        "enrich",
    )
