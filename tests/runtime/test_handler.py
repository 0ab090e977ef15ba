"""The Lambda handler and Fargate entry, run in-process against moto's S3 with the AWS layout."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from runtime_support import CREDENTIALS, PIPELINES, s3_locations, task_locations

from glacier.errors import InputError, TaskFailedError
from glacier.io import scan_dataset
from glacier.ir import PipelineIR, to_json
from glacier.runtime import InvalidRunIdError
from glacier_aws import runtime

pytestmark = pytest.mark.slow

RUN_ID = "run-2026-01-01"


def _buckets(spec: PipelineIR, tag: str) -> dict[str, str]:
    """One bucket per stored dataset, ephemeral datasets in the intermediate bucket."""
    return {
        ds.name: f"{tag}-{'intermediate' if ds.ephemeral else ds.name.replace('_', '-')}"
        for ds in spec.datasets
    }


def _bundle(tmp_path: Path, spec: PipelineIR, source: str | None) -> Path:
    """A bundle root as the compiler lays it out: manifest.json and the pipeline module."""
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(PIPELINES / "runtime_shop.py", root / "runtime_shop.py")
    (root / "manifest.json").write_text(to_json(replace(spec, source=source)))
    return root


def _upload_sources(s3: Any, shop: ModuleType, locations: dict[str, str]) -> None:
    for name, frame in (("orders", shop.sample_orders()), ("customers", shop.sample_customers())):
        buffer = io.BytesIO()
        frame.write_csv(buffer) if name == "customers" else frame.write_parquet(buffer)
        bucket, key = locations[name].removeprefix("s3://").split("/", 1)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


@pytest.fixture()
def deployed(tmp_path, s3, shop, storage_options, monkeypatch, request):  # type: ignore[no-untyped-def]
    """Buckets, sources and a bundle for the shop pipeline; the handler's common environment."""
    spec = shop.pipeline.spec()
    tag = f"t{abs(hash(request.node.nodeid)) % 10**8}"
    buckets = _buckets(spec, tag)
    for bucket in sorted(set(buckets.values())):
        s3.create_bucket(Bucket=bucket)
    locations = s3_locations(spec, buckets)
    _upload_sources(s3, shop, locations)
    source = getattr(request, "param", "runtime_shop.py:pipeline")
    root = _bundle(tmp_path, spec, source)
    monkeypatch.setenv("GLACIER_BUNDLE_ROOT", str(root))
    monkeypatch.setenv("GLACIER_MANIFEST", "manifest.json")
    monkeypatch.setenv("GLACIER_STORAGE_OPTIONS", json.dumps(storage_options))
    return {"spec": spec, "buckets": buckets, "locations": locations, "root": root}


def _invoke(monkeypatch: pytest.MonkeyPatch, spec: PipelineIR, locs: dict, task: str) -> dict:
    monkeypatch.setenv("GLACIER_TASK", task)
    monkeypatch.setenv("GLACIER_LOCATIONS", json.dumps(task_locations(spec.task(task), locs)))
    return runtime.handler({"run_id": RUN_ID}, None)


@pytest.mark.parametrize("deployed", ["runtime_shop.py:pipeline", None], indirect=True)
def test_handler_runs_the_dag_like_a_local_run(
    deployed, monkeypatch, shop, s3, storage_options, tmp_path
):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    reports = [_invoke(monkeypatch, spec, locations, t.name) for t in spec.tasks]

    assert [r["task"] for r in reports] == ["enrich", "by_country", "split", "summarize"]
    assert {r["status"] for r in reports} == {"succeeded"}
    assert reports[2]["outputs"] == {"big": locations["big"], "small": locations["small"]}
    assert reports[2]["rows"] == 12
    enriched_key = f"runs/{RUN_ID}/enriched.parquet"
    assert reports[0]["outputs"] == {
        "enriched": f"s3://{deployed['buckets']['enriched']}/{enriched_key}"
    }
    listed = s3.list_objects_v2(Bucket=deployed["buckets"]["enriched"])["Contents"]
    assert [o["Key"] for o in listed] == [enriched_key]

    local = shop.pipeline.run(
        inputs={"orders": shop.sample_orders(), "customers": shop.sample_customers()},
        root=str(tmp_path / "local"),
        force=True,
    )
    for ds in spec.datasets:
        if ds.ephemeral or ds.is_source:
            continue
        cloud = scan_dataset(ds, locations[ds.name], storage_options).collect()
        assert_frame_equal(cloud, local[ds.name].collect(), check_row_order=False)
    revenue = scan_dataset(spec.dataset("summary"), locations["summary"], storage_options)
    assert revenue.filter(pl.col("metric") == "revenue").collect()["value"].item() == 298.25


def test_handler_logs_json_and_reraises_failures(deployed, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    with pytest.raises(
        InputError,
        match=r"task 'split': cannot read input dataset 'enriched' at s3://.*runs/run-2026-01-01/enriched\.parquet .*run task 'enrich' first",
    ):
        _invoke(monkeypatch, spec, locations, "split")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["task_started", "task_failed"]
    assert lines[1]["error"] == "InputError"
    assert lines[1]["task"] == "split" and lines[1]["run_id"] == RUN_ID
    assert "Traceback" in lines[1]["traceback"]

    _invoke(monkeypatch, spec, locations, "enrich")
    done = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert done["event"] == "task_succeeded"
    assert done["outputs"] == {"enriched": locations["enriched"].format(run_id=RUN_ID)}


def test_handler_needs_a_task_and_a_run_id(deployed, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GLACIER_TASK", raising=False)
    with pytest.raises(runtime.ConfigurationError, match="GLACIER_TASK is not set"):
        runtime.handler({"run_id": RUN_ID}, None)
    monkeypatch.setenv("GLACIER_TASK", "enrich")
    monkeypatch.delenv("GLACIER_RUN_ID", raising=False)
    with pytest.raises(runtime.ConfigurationError, match=r"task 'enrich': no run id"):
        runtime.handler({}, None)
    with pytest.raises(ValueError, match=r"run id '\.\./x' is invalid"):
        runtime.handler({"run_id": "../x"}, None)
    monkeypatch.setenv("GLACIER_LOCATIONS", "{not json")
    with pytest.raises(runtime.ConfigurationError, match="GLACIER_LOCATIONS must hold JSON"):
        runtime.handler({"run_id": RUN_ID}, None)


def test_fargate_entry_runs_a_task_and_exits_nonzero_on_failure(deployed, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    monkeypatch.setenv("GLACIER_RUN_ID", "fargate-run")
    monkeypatch.setenv(
        "GLACIER_LOCATIONS", json.dumps(task_locations(spec.task("by_country"), locations))
    )
    assert runtime.main(["--task", "by_country"]) == 65  # its input is not there: not retried
    monkeypatch.setenv(
        "GLACIER_LOCATIONS", json.dumps(task_locations(spec.task("enrich"), locations))
    )
    assert runtime.main(["--task", "enrich"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["run_id"] == "fargate-run" and last["event"] == "task_succeeded"


def test_fargate_command_runs_as_a_module(deployed, monkeypatch):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    env = {
        **runtime.os.environ,
        "GLACIER_RUN_ID": "module-run",
        "GLACIER_LOCATIONS": json.dumps(task_locations(spec.task("enrich"), locations)),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "glacier_aws.runtime", "--task", "enrich"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["event"] == "task_succeeded" and report["rows"] == 12
    assert report["outputs"]["enriched"].endswith("/runs/module-run/enriched.parquet")


def test_secrets_are_fetched_into_the_environment(moto_endpoint, monkeypatch):  # type: ignore[no-untyped-def]
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="shop/api-token", SecretString="s3cr3t")["ARN"]
    monkeypatch.setenv("GLACIER_SECRET_ARN_API_TOKEN", arn)
    monkeypatch.delenv("API_TOKEN", raising=False)
    assert runtime.load_secrets() == ["API_TOKEN"]
    assert runtime.os.environ["API_TOKEN"] == "s3cr3t"


# -- refusals, configuration errors, warm invocations ------------------------------------------


def _log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize(
    "run_id",
    [
        "../x",
        "a/../b",
        "a/b",
        "x" * 129,
        "\u00fcn\u00ef",
        ".hidden",
        "a\nb",
        5,
        {"x": 1},
        "a" * 10**6,
    ],
)
def test_hostile_run_ids_are_refused_before_the_task_starts(
    deployed, monkeypatch, capsys, s3, run_id
):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    with pytest.raises(InvalidRunIdError, match=r"run id .* is invalid: expected 1-128") as caught:
        _invoke_event(monkeypatch, spec, locations, "enrich", {"run_id": run_id})
    assert len(str(caught.value)) < 600  # a megabyte run id is not echoed back
    [line] = _log_lines(capsys)  # one line: the task never started
    assert line["event"] == "task_failed" and line["error"] == "InvalidRunIdError"
    assert len(json.dumps(line)) < 6000
    assert "Contents" not in s3.list_objects_v2(Bucket=deployed["buckets"]["enriched"])


def _invoke_event(
    monkeypatch: pytest.MonkeyPatch, spec: PipelineIR, locs: dict, task: str, event: Any
) -> dict:
    monkeypatch.setenv("GLACIER_TASK", task)
    monkeypatch.setenv("GLACIER_LOCATIONS", json.dumps(task_locations(spec.task(task), locs)))
    return runtime.handler(event, None)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GLACIER_LOCATIONS": None}, r"GLACIER_LOCATIONS is not set; .*redeploy"),
        ({"GLACIER_LOCATIONS": "[1, 2]"}, r"GLACIER_LOCATIONS must hold a JSON object .*list"),
        (
            {"GLACIER_LOCATIONS": '{"enriched": 5}'},
            r"GLACIER_LOCATIONS must map each dataset to a URI string .*'enriched' has 5",
        ),
        ({"GLACIER_MANIFEST": "."}, r"manifest .* cannot be read .*GLACIER_MANIFEST \(\.\)"),
        ({"GLACIER_MANIFEST": "runtime_shop.py"}, r"is not a Glacier manifest .*GLACIER_MANIFEST"),
        ({"GLACIER_MANIFEST": "absent.json"}, r"absent\.json not found; GLACIER_MANIFEST"),
        (
            {"GLACIER_BUNDLE_ROOT": "/nonexistent/app"},
            r"bundle root .* \(from GLACIER_BUNDLE_ROOT\)",
        ),
        ({"GLACIER_STORAGE_OPTIONS": "[1]"}, r"GLACIER_STORAGE_OPTIONS must hold a JSON object"),
        ({"GLACIER_PARAMS": '"x"'}, r"GLACIER_PARAMS must hold a JSON object"),
        ({"GLACIER_SECRET_ARN_": "arn:x"}, r"GLACIER_SECRET_ARN_ must name a variable"),
    ],
)
def test_a_broken_environment_is_one_configuration_error_naming_the_variable(
    deployed, monkeypatch, capsys, env, expected
):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    monkeypatch.setenv("GLACIER_TASK", "enrich")
    monkeypatch.setenv(
        "GLACIER_LOCATIONS", json.dumps(task_locations(spec.task("enrich"), locations))
    )
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(runtime.ConfigurationError, match=expected):
        runtime.handler({"run_id": RUN_ID}, None)
    failed = [line for line in _log_lines(capsys) if line["event"] == "task_failed"]
    assert [line["error"] for line in failed] == ["ConfigurationError"]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("run-1", r"the Lambda event must be a JSON object .* found a str"),
        (["run-1"], r"the Lambda event must be a JSON object .* found a list"),
        ({"run_id": RUN_ID, "params": [1]}, r"event's params must be a JSON object .* list"),
    ],
)
def test_a_malformed_lambda_event_is_a_configuration_error(
    deployed, monkeypatch, capsys, event, expected
):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    with pytest.raises(runtime.ConfigurationError, match=expected):
        _invoke_event(monkeypatch, spec, locations, "enrich", event)
    [line] = _log_lines(capsys)
    assert line["event"] == "task_failed" and line["error"] == "ConfigurationError"


def test_fargate_logs_a_missing_run_id_before_exiting_nonzero(deployed, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    spec, locations = deployed["spec"], deployed["locations"]
    monkeypatch.delenv("GLACIER_RUN_ID", raising=False)
    monkeypatch.setenv(
        "GLACIER_LOCATIONS", json.dumps(task_locations(spec.task("enrich"), locations))
    )
    assert runtime.main(["--task", "enrich"]) == 65  # a ConfigurationError is not retried
    [line] = _log_lines(capsys)  # the ECS task's log says why it exited
    assert line["event"] == "task_failed" and line["error"] == "ConfigurationError"
    assert "no run id" in line["message"] and line["task"] == "enrich"


def test_unfetchable_secrets_name_the_variable_and_change_nothing(moto_endpoint, monkeypatch):  # type: ignore[no-untyped-def]
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    client = boto3.client("secretsmanager")
    good = client.create_secret(Name="unfetchable/good", SecretString="fine")["ARN"]
    binary = client.create_secret(Name="unfetchable/binary", SecretBinary=b"\x00\x01")["ARN"]
    missing = good.replace("unfetchable/good", "unfetchable/absent")
    monkeypatch.setenv("GLACIER_SECRET_ARN_A_GOOD", good)
    monkeypatch.delenv("A_GOOD", raising=False)
    monkeypatch.setenv("GLACIER_SECRET_ARN_B_TOKEN", missing)
    with pytest.raises(
        runtime.SecretError,  # its own name: Step Functions may retry it (throttling...)
        match=r"cannot fetch secret .*unfetchable/absent.* \(environment variable "
        r"GLACIER_SECRET_ARN_B_TOKEN\) for B_TOKEN: ResourceNotFoundException.*GetSecretValue",
    ):
        runtime.load_secrets()
    assert "A_GOOD" not in runtime.os.environ  # all or nothing
    monkeypatch.setenv("GLACIER_SECRET_ARN_B_TOKEN", binary)
    with pytest.raises(runtime.ConfigurationError, match=r"holds a binary value; B_TOKEN"):
        runtime.load_secrets()


WARM_PIPELINE = """
import os
import sys

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

SEEN = []
src = Dataset("src", storage=ObjectStorage())
copied = Dataset("copied")
pipeline = Pipeline(name="{name}")


@pipeline.task()
def copy(data: src, mode: str = "ok") -> copied:
    SEEN.append({{"mode": mode, "leak": os.environ.get("RT_LEAK"), "token": os.environ.get("TOKEN")}})
    os.environ["RT_LEAK"] = mode
    if mode == "exit":
        sys.exit(0)
    return data
"""


@pytest.fixture()
def warm(tmp_path, s3, storage_options, monkeypatch, request):  # type: ignore[no-untyped-def]
    """A one-task bundle (its own module name) whose task records what it saw."""
    from glacier.loader import load_pipeline

    name = f"rt_warm_{abs(hash(request.node.nodeid)) % 10**8}"
    root = tmp_path / "app"
    root.mkdir()
    (root / f"{name}.py").write_text(WARM_PIPELINE.format(name=name.replace("_", "-")))
    spec = load_pipeline(str(root / f"{name}.py")).spec()
    (root / "manifest.json").write_text(to_json(replace(spec, source=f"{name}.py:pipeline")))
    bucket = name.replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    locations = s3_locations(spec, {"src": bucket, "copied": bucket})
    buffer = io.BytesIO()
    pl.DataFrame({"x": [1, 2, 3]}).write_parquet(buffer)
    s3.put_object(Bucket=bucket, Key=locations["src"].split("/", 3)[3], Body=buffer.getvalue())
    monkeypatch.setenv("GLACIER_BUNDLE_ROOT", str(root))
    monkeypatch.setenv("GLACIER_STORAGE_OPTIONS", json.dumps(storage_options))
    monkeypatch.setenv("GLACIER_TASK", "copy")
    monkeypatch.setenv("GLACIER_LOCATIONS", json.dumps(locations))
    monkeypatch.delenv("RT_LEAK", raising=False)
    yield {"module": name, "bucket": bucket}
    sys.modules.pop(name, None)


def test_a_warm_lambda_starts_each_invocation_from_the_same_environment(warm, s3):  # type: ignore[no-untyped-def]
    first = runtime.handler({"run_id": "warm-1", "params": {"mode": "one"}}, None)
    second = runtime.handler({"run_id": "warm-2"}, None)
    seen = sys.modules[warm["module"]].SEEN
    assert seen == [
        {"mode": "one", "leak": None, "token": None},
        {"mode": "ok", "leak": None, "token": None},  # neither params nor env carried over
    ]
    assert "RT_LEAK" not in runtime.os.environ
    assert first["outputs"]["copied"].endswith("/runs/warm-1/copied.parquet")
    assert second["outputs"]["copied"].endswith("/runs/warm-2/copied.parquet")
    assert first["rows"] == second["rows"] == 3
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=warm["bucket"])["Contents"])
    assert [k for k in keys if k.startswith("runs/")] == [
        "runs/warm-1/copied.parquet",
        "runs/warm-2/copied.parquet",
    ]


def test_a_task_calling_sys_exit_fails_instead_of_succeeding_silently(warm, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    with pytest.raises(TaskFailedError, match=r"task 'copy' called sys\.exit\(0\) before its"):
        runtime.handler({"run_id": "exit-1", "params": {"mode": "exit"}}, None)
    monkeypatch.setenv("GLACIER_PARAMS", '{"mode": "exit"}')
    assert runtime.main(["--task", "copy", "--run-id", "exit-2"]) == 65  # not 0: ECS must fail
    failed = [line for line in _log_lines(capsys) if line["event"] == "task_failed"]
    assert [line["error"] for line in failed] == ["TaskFailedError", "TaskFailedError"]
