"""A secret's value never shows: not in a task's error, the run result, a traceback, the state
files or the command line locally, nor in the cloud runtime's ``task_failed`` log line."""

from __future__ import annotations

import json
import logging
import sys
import traceback
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.cli import main
from glacier.errors import TaskFailedError
from glacier.ir import to_json
from glacier.loader import load_pipeline
from glacier.redact import register
from glacier.runtime import run_task
from glacier_aws import runtime

PIPELINE = """
import os

import polars as pl
from glacier import Dataset, Pipeline, Secret, compute
from glacier.storage import LocalFS

src = Dataset("src", storage=LocalFS("data"))
out = Dataset("out", storage=LocalFS("data"))
pipeline = Pipeline(name="{name}")

@pipeline.task(compute=compute.serverless(env={{"API_TOKEN": Secret("shop/api-token")}}))
def call_api(s: src, how: str = "raise") -> out:
    token = os.environ["API_TOKEN"]
    if how == "raise":
        raise PermissionError(f"the API refused token {{token}} (key {{token!r}})")
    if how == "keyerror":
        raise KeyError(token)
    if how == "oserror":
        raise FileNotFoundError(2, "no such file", f"/keys/{{token}}.pem")
    if how == "query":  # fails later, inside the fused Polars query, quoting the value
        return s.with_columns(pl.lit(token).cast(pl.Int64, strict=True).alias("n"))
    return s
"""


def _text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh value each test: redaction remembers values for the life of the process."""
    value = f"tok-{uuid.uuid4().hex}"
    monkeypatch.setenv("API_TOKEN", value)
    return value


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    name = f"redact_{uuid.uuid4().hex[:10]}"
    path = tmp_path / f"{name}.py"
    path.write_text(PIPELINE.format(name=name.replace("_", "-")))
    Path("data").mkdir()
    pl.DataFrame({"x": [1, 2]}).write_parquet("data/src.parquet")
    yield path
    sys.modules.pop(name, None)


@pytest.mark.parametrize("how", ["raise", "keyerror", "oserror", "query"])
def test_a_local_run_shows_the_secret_nowhere(project: Path, secret: str, how: str) -> None:
    pipeline = load_pipeline(str(project))
    with pytest.raises(TaskFailedError) as caught:
        pipeline.run(params={"call_api.how": how})
    failed = caught.value.result.tasks["call_api"]  # type: ignore[attr-defined]
    assert failed.status == "failed" and "***" in failed.error
    shown = [str(caught.value), _text(caught.value), failed.error, _text(failed.exception)]
    shown += [p.read_text(errors="replace") for p in Path(".glacier").rglob("*") if p.is_file()]
    assert not [text for text in shown if secret in text]


def test_the_command_line_shows_the_secret_nowhere(project: Path, secret: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["run", str(project), "--no-progress"]) == 1
    assert main(["run", str(project), "--no-progress", "--debug"]) == 1  # with the traceback
    captured = capsys.readouterr()
    assert "PermissionError: the API refused token *** (key '***')" in captured.err
    assert "Traceback" in captured.err and secret not in captured.out + captured.err


def test_the_cloud_runtime_raises_errors_without_the_secret(project: Path, secret: str) -> None:
    pipeline = load_pipeline(str(project))
    locations = {"src": str(Path("data/src.parquet").resolve()), "out": str(Path("o.parquet"))}
    for how in ("raise", "keyerror", "query"):
        with pytest.raises(Exception) as caught:  # the task's own error class
            run_task(pipeline.spec(), "call_api", locations, run_id="r1", params={"how": how})
        assert "***" in _text(caught.value) and secret not in _text(caught.value), how


def _log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_lambda_task_failed_line_shows_no_secret(
    project: Path, secret: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    spec = load_pipeline(str(project)).spec()
    (project.parent / "manifest.json").write_text(
        to_json(replace(spec, source=f"{project.name}:pipeline"))
    )
    locations = {"src": str(Path("data/src.parquet").resolve()), "out": str(Path("o.parquet"))}
    monkeypatch.setenv("GLACIER_BUNDLE_ROOT", str(project.parent))
    monkeypatch.setenv("GLACIER_TASK", "call_api")
    monkeypatch.setenv("GLACIER_LOCATIONS", json.dumps(locations))
    with pytest.raises(PermissionError) as caught:  # the class is kept: Retry/Catch match it
        runtime.handler({"run_id": "r1"}, None)
    failed = [line for line in _log_lines(capsys) if line["event"] == "task_failed"]
    assert len(failed) == 1 and failed[0]["error"] == "PermissionError"
    assert failed[0]["message"] == "task failed: the API refused token *** (key '***')"
    assert "Traceback" in failed[0]["traceback"] and secret not in json.dumps(failed[0])
    assert secret not in _text(caught.value)


@pytest.mark.slow  # a moto server
def test_a_secret_fetched_by_the_lambda_adapter_is_redacted_from_log_lines(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    import boto3

    for key, value in {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    value = f'multi "line"\nsecret-{uuid.uuid4().hex}'
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"r/{uuid.uuid4().hex}", SecretString=value
    )["ARN"]
    monkeypatch.setenv("GLACIER_SECRET_ARN_DB_PASSWORD", arn)
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    assert runtime.load_secrets() == ["DB_PASSWORD"]
    monkeypatch.delenv("DB_PASSWORD")
    runtime._log(40, f"connect failed with {value!r} / {value.splitlines()[1]}", detail=value)
    (line,) = _log_lines(capsys)
    assert line["message"] == "connect failed with '***' / ***" and line["detail"] == "***"


def test_a_tasks_own_log_lines_are_redacted_in_the_cloud_runtime(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = list(root.handlers)
    handler = logging.StreamHandler(sys.stdout)  # stands in for Lambda's root handler
    root.handlers = [handler]
    try:
        register([secret])
        runtime._logger()
        logging.getLogger("my_project.tasks").warning("calling the API with %s", secret)
    finally:
        root.handlers = saved
    out = capsys.readouterr().out
    assert secret not in out
    assert "calling the API with ***" in out
