"""The compiled stack and the runtime agree on locations: a pipeline of functions and a job run
against Azurite with exactly the environment the stack gives each task.

The stack is compiled and its program run under Pulumi's mocks; each task then runs with the
``GLACIER_LOCATIONS`` (``abfss://<container>@<account>.dfs.core.windows.net/<key>``, the
account in every URL) and ``GLACIER_OUTCOME`` its recorded Function App or job holds. Azurite
serves the stack's own account names (the emulator standing in for the identity's token is
the only substitution), so a location the runtime could not read, or a task reaching the
wrong account, fails here. The outputs equal a local run's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from azure_mocks import Run, run_stack
from azure_runtime_support import ROOT, azurite
from polars.testing import assert_frame_equal

from glacier.io import scan_dataset
from glacier.loader import load_pipeline
from glacier_azure import AzureCompiler, runtime

pytestmark = pytest.mark.slow

PIPELINE = ROOT / "tests" / "pipelines" / "conformance_functions.py"
RUN_ID = "run-2026-12-07-stack"


def _settings(run: Run) -> dict[str, dict[str, str]]:
    """Each task's environment as its Function App or job was given it."""
    found: dict[str, dict[str, str]] = {}
    for app in run.of("WebApp"):
        env = {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}
        found[env["GLACIER_TASK"]] = env | {"kind": "function"}
    for job in run.of("app:Job"):
        (container,) = job.inputs["template"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        found[env["GLACIER_TASK"]] = env | {"kind": "job"}
    return found


def _account(url: str) -> tuple[str, str]:
    """(account, container) of an ``abfss://`` URL; anything else fails the test."""
    assert url.startswith("abfss://") and ".dfs.core.windows.net/" in url, url
    box, _, _ = url.removeprefix("abfss://").partition("/")
    container, _, host = box.partition("@")
    return host.removesuffix(".dfs.core.windows.net"), container


def test_each_task_runs_with_the_stacks_locations_against_azurite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = load_pipeline(str(PIPELINE))
    module = sys.modules["conformance_functions"]
    root = Path(pipeline.compile(AzureCompiler()).write(tmp_path / "stack")) / "azure"
    settings = _settings(run_stack(root))
    assert {t: s["kind"] for t, s in settings.items()} == {
        "price": "function", "pick": "function", "summarise": "function", "total": "job"}  # fmt: skip
    found = {ds: url for s in settings.values()
             for ds, url in json.loads(s["GLACIER_LOCATIONS"]).items()}  # fmt: skip
    urls = [*found.values(), settings["total"]["GLACIER_OUTCOME"]]
    accounts: dict[str, set[str]] = {}
    for url in urls:
        account, container = _account(url)
        accounts.setdefault(account, set()).add(container)
    assert len(accounts) == 2  # the data account and the work account

    with azurite((), accounts) as emulator:
        monkeypatch.setenv("AZURITE_BLOB_STORAGE_URL", emulator.pop("blob_url"))
        options = emulator
        module.sample_orders().write_parquet(found["orders"], storage_options=options)
        module.sample_rates().write_csv(found["rates"], storage_options=options)
        common = {
            "GLACIER_BUNDLE_ROOT": str(root / "app"),
            "GLACIER_STORAGE_OPTIONS": json.dumps(options),
        }  # the identity's stand-in
        for task in [t.name for stage in pipeline.stages() for t in stage]:
            env = {k: v for k, v in settings[task].items() if k != "kind"} | common
            if settings[task]["kind"] == "function":
                _call_function(monkeypatch, env | {"TOKEN": "resolved-by-the-platform"})
            else:
                _start_job(env, options, task)
        monkeypatch.setenv("TOKEN", "resolved-by-the-platform")
        local = pipeline.run(
            inputs={"orders": module.sample_orders(), "rates": module.sample_rates()},
            root=str(tmp_path / "local"),
            force=True,
        )
        for ds in pipeline.spec().datasets:
            if ds.ephemeral or ds.is_source:
                continue
            cloud = scan_dataset(ds, found[ds.name], options).collect()
            assert_frame_equal(cloud, local[ds.name].collect(), check_row_order=False)


def _call_function(m: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    with m.context() as ctx:
        for key, value in env.items():
            ctx.setenv(key, value)
        status, answer = runtime.respond(json.dumps({"run_id": RUN_ID}).encode())
    assert (status, answer.get("status")) == (200, "succeeded"), answer


def _start_job(env: dict[str, str], options: dict[str, str], task: str) -> None:
    """``python -m glacier_azure.runtime`` as the job's container runs it; its outcome read
    back from the ``GLACIER_OUTCOME`` URL the stack gave it."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    full = {**os.environ, **env, "PYTHONPATH": path, "CONTAINER_APP_JOB_EXECUTION_NAME": "x-1"}
    done = subprocess.run(
        [sys.executable, "-m", "glacier_azure.runtime", "--task", task, "--run-id", RUN_ID],
        env=full, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    url = env["GLACIER_OUTCOME"].replace("{run_id}", RUN_ID)
    (outcome,) = pl.read_ndjson(url, storage_options=options).to_dicts()
    expected: dict[str, Any] = {"task": task, "execution": "x-1", "status": "succeeded"}
    assert outcome | expected == outcome
