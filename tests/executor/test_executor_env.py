"""A task's ``compute.*(env=...)`` is in effect while it runs locally: plain values as given,
secrets from the environment or the project's ``.env``; one error for every missing secret.

Secret values here are unusual strings: a value once resolved is redacted (``***``) from every
error for the rest of the process, the other tests' included."""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path

import polars as pl
import pytest

from glacier import LocalExecutor
from glacier.cli import main
from glacier.errors import MissingSecretError
from glacier.loader import load_pipeline

PIPELINE = """
import os
import threading
import time
from typing import Annotated

import polars as pl
from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import LocalFS

orders = Dataset("orders")
seen = Dataset("seen", storage=LocalFS("out"))
pipeline = Pipeline(name="{name}")
SEEN = {{}}

def look(task, *names):
    SEEN[task] = {{n: os.environ.get(n) for n in names}}

@pipeline.task(compute=compute.serverless(env={{"STAGE": "dev", "API_TOKEN": Secret("shop/api")}}))
def fetch(o: orders) -> seen:
    look("fetch", "STAGE", "API_TOKEN", "DB_URL")
    return o.with_columns(pl.lit(os.environ["STAGE"]).alias("stage"))
"""

TWO_SECRETS = """
@pipeline.task(compute=compute.container(env={{"DB_URL": Secret("db/url"), "API_TOKEN": Secret("shop/api")}}))
def load(o: orders) -> Dataset("loaded"):
    look("load", "DB_URL", "API_TOKEN")
    return o
"""


@pytest.fixture
def project(workdir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A pipeline file in its own folder (a unique module name per test); no secret set."""
    for name in ("STAGE", "API_TOKEN", "DB_URL"):
        monkeypatch.delenv(name, raising=False)
    name = f"envp_{uuid.uuid4().hex[:10]}"
    folder = workdir / "proj"
    folder.mkdir()
    pl.DataFrame({"a": [1, 2]}).write_parquet(folder / "orders.parquet")

    def write(extra: str = "") -> Path:
        path = folder / f"{name}.py"
        path.write_text(PIPELINE.format(name=name.replace("_", "-")) + extra.format())
        return path

    yield folder, write
    sys.modules.pop(name, None)


def _run(path: Path, **options):  # type: ignore[no-untyped-def]
    pipeline = load_pipeline(str(path))
    result = pipeline.run(inputs={"orders": str(path.parent / "orders.parquet")}, **options)
    return result, sys.modules[pipeline.module].SEEN


def test_plain_values_and_secrets_from_the_environment_are_in_effect_and_restored(
    project, monkeypatch
):  # type: ignore[no-untyped-def]
    _, write = project
    monkeypatch.setenv("STAGE", "prod")  # the shell's value: the task's own env wins
    monkeypatch.setenv("API_TOKEN", "tok-from-shell-7Qx2")
    result, seen = _run(write())
    assert seen["fetch"] == {"STAGE": "dev", "API_TOKEN": "tok-from-shell-7Qx2", "DB_URL": None}
    assert pl.read_parquet("out/seen.parquet")["stage"].to_list() == ["dev", "dev"]
    assert os.environ["STAGE"] == "prod"  # put back as it was
    assert result.tasks["fetch"].status == "succeeded"


def test_a_secret_comes_from_the_dotenv_next_to_the_pipeline(project):  # type: ignore[no-untyped-def]
    folder, write = project
    (folder / ".env").write_text('export API_TOKEN="tok from dotenv 7Qx2"\nOTHER=1\n')
    _, seen = _run(write())
    assert seen["fetch"]["API_TOKEN"] == "tok from dotenv 7Qx2"
    # nothing leaks into the process after the run, not even .env lines no task declared
    assert {"STAGE", "API_TOKEN", "OTHER"}.isdisjoint(os.environ)


def test_the_environment_wins_over_dotenv(project, monkeypatch):  # type: ignore[no-untyped-def]
    folder, write = project
    (folder / ".env").write_text("API_TOKEN=from-file-7Qx2\n")
    monkeypatch.setenv("API_TOKEN", "from-env-7Qx2")
    _, seen = _run(write())
    assert seen["fetch"]["API_TOKEN"] == "from-env-7Qx2"


def test_dotenv_is_found_up_to_the_project_root_and_not_beyond(workdir, project):  # type: ignore[no-untyped-def]
    folder, write = project
    path = write()
    (workdir / ".env").write_text("API_TOKEN=outside-the-project-7Qx2\n")
    (folder / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    sub = folder / "pipelines"
    sub.mkdir()
    moved = sub / path.name
    path.rename(moved)
    (sub / "orders.parquet").write_bytes((folder / "orders.parquet").read_bytes())
    with pytest.raises(MissingSecretError, match=rf"to {folder / '.env'} \(create it\)"):
        _run(moved)  # the .env above the project root is not this project's
    (folder / ".env").write_text("API_TOKEN=project-root-7Qx2\n")
    _, seen = _run(moved)
    assert seen["fetch"]["API_TOKEN"] == "project-root-7Qx2"


def test_every_missing_secret_is_one_error_before_any_task_runs(project):  # type: ignore[no-untyped-def]
    folder, write = project
    (folder / ".env").write_text("API_TOKEN=\n")  # empty counts as missing
    with pytest.raises(MissingSecretError) as caught:
        _run(write(TWO_SECRETS))
    message = str(caught.value)
    assert message == (
        "2 secrets have no local value: "
        "API_TOKEN (Secret('shop/api') of task 'fetch', Secret('shop/api') of task 'load'); "
        "DB_URL (Secret('db/url') of task 'load'). A local run takes a Secret's value from the "
        "environment variable named by its env key, else from the project's .env file: "
        f"export API_TOKEN=... DB_URL=... or add a line NAME=... for each to {folder / '.env'}"
    )
    assert not Path("out").exists()  # no task ran


def test_a_skipped_task_does_not_need_its_secret(project, monkeypatch):  # type: ignore[no-untyped-def]
    _, write = project
    path = write()
    monkeypatch.setenv("API_TOKEN", "tok-skipped-7Qx2")
    _, seen = _run(path)
    seen.clear()  # the task reads SEEN (through look): as it was, or the task would rerun
    monkeypatch.delenv("API_TOKEN")
    result, _ = _run(path)
    assert result.tasks["fetch"].status == "skipped"
    with pytest.raises(MissingSecretError, match=r"API_TOKEN \(Secret\('shop/api'\) of task"):
        _run(path, force=True)


def test_the_cli_prints_the_missing_secret_in_one_line(project, capsys):  # type: ignore[no-untyped-def]
    folder, write = project
    path = write()
    code = main(["run", str(path), "--input", f"orders={folder / 'orders.parquet'}"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.splitlines() == [err]
    assert err.startswith("error: a secret has no local value: API_TOKEN (Secret('shop/api')")
    assert "export API_TOKEN=... or add the line API_TOKEN=... to" in err


PARALLEL = """
import os
import threading
import time
from typing import Annotated

import polars as pl
from glacier import Dataset, Pipeline, compute

src = Dataset("src")
pipeline = Pipeline(name="parallel-env")
SEEN = {}
LOCK = threading.Lock()

def make(name, env):
    @pipeline.task(name=name, compute=compute.container(env=env) if env else None)
    def body(s: Annotated[pl.DataFrame, src]) -> Annotated[pl.DataFrame, Dataset(f"out_{name}")]:
        first = os.environ.get("MODE")
        time.sleep(0.05)  # overlap with the others, were they allowed to run meanwhile
        with LOCK:
            SEEN[name] = (first, os.environ.get("MODE"))
        return s
    return body

for i in range(4):
    make(f"a{i}", {"MODE": f"a{i}"})
    make(f"plain{i}", None)
"""


def test_tasks_in_parallel_threads_each_see_only_their_own_env(workdir, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MODE", raising=False)
    name = f"envpar_{uuid.uuid4().hex[:10]}"
    (workdir / f"{name}.py").write_text(PARALLEL)
    pipeline = load_pipeline(str(workdir / f"{name}.py"))
    try:
        LocalExecutor(max_workers=8).run(pipeline, inputs={"src": pl.DataFrame({"x": [1]})})
        seen = sys.modules[name].SEEN
    finally:
        sys.modules.pop(name, None)
    assert seen == {
        **{f"a{i}": (f"a{i}", f"a{i}") for i in range(4)},
        **{f"plain{i}": (None, None) for i in range(4)},
    }
    assert "MODE" not in os.environ
    assert threading.active_count() < 20  # the pool was shut down


PROVIDERS = """
import os

from glacier import Dataset, Pipeline, Secret
from glacier_aws.compute import Fargate, Lambda
from glacier_azure.compute import AzureFunction
from glacier_gcp.compute import CloudRun

src = Dataset("src")
pipeline = Pipeline(name="provider-env")
SEEN = {}

for n, compute in enumerate([
    Lambda(env={"REGION_NAME": "eu", "TOKEN": Secret("t")}),
    Fargate(env={"REGION_NAME": "us", "TOKEN": Secret("t")}),
    CloudRun(env={"REGION_NAME": "asia", "TOKEN": Secret("t")}),
    AzureFunction(env={"REGION_NAME": "uk", "TOKEN": Secret("t")}),
]):
    def body(s: src, n: int = n) -> Dataset(f"out{n}"):
        SEEN[n] = (os.environ.get("REGION_NAME"), os.environ.get("TOKEN"))
        return s
    body.__name__ = f"t{n}"
    pipeline.task(compute=compute)(body)
"""


def test_provider_compute_env_is_in_effect_locally_too(workdir, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REGION_NAME", raising=False)
    monkeypatch.setenv("TOKEN", "provider-token-7Qx2")
    name = f"envprov_{uuid.uuid4().hex[:10]}"
    (workdir / f"{name}.py").write_text(PROVIDERS)
    try:
        load_pipeline(str(workdir / f"{name}.py")).run(inputs={"src": pl.DataFrame({"x": [1]})})
        seen = sys.modules[name].SEEN
    finally:
        sys.modules.pop(name, None)
    token = "provider-token-7Qx2"
    assert seen == {0: ("eu", token), 1: ("us", token), 2: ("asia", token), 3: ("uk", token)}
    assert "REGION_NAME" not in os.environ
