"""Bucket policies within IAM's limits at any fan-in: run data spread over work buckets, a
named bucket over the limits refused at compile time."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from gcp_mocks import run_stack

from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier_gcp import GCPCompiler

pytestmark = pytest.mark.slow  # compiles, and runs the program under Pulumi's mocks

MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET = "gcp:storage/bucket:Bucket"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
JOB = "gcp:cloudrunv2/job:Job"
#: Per-run inputs of one task: three fit one binding, so 70 need 24 bindings in one bucket.
RUN_INPUTS = 70
#: Stored inputs in one named bucket: about six fit one binding, so 140 need over 20.
STORED_INPUTS = 140


def _fan_in(folder: Path, inputs: int, storage: str | None) -> Path:
    lines = [
        "from glacier import Dataset, Pipeline",
        "from glacier.storage import ObjectStorage",
        "from glacier_gcp import GCS",
        'pipeline = Pipeline(name="fanin")',
        'src = Dataset("src", storage=ObjectStorage())',
        'out = Dataset("out", storage=ObjectStorage())',
    ]
    for i in range(inputs):
        if storage is None:
            lines += [f'p{i} = Dataset("p{i}")', "@pipeline.task()",
                      f"def make{i}(x: src) -> p{i}:", "    return x"]  # fmt: skip
        else:
            lines.append(f'p{i} = Dataset("p{i}", storage={storage})')
    args = ", ".join(f"x{i}: p{i}" for i in range(inputs))
    lines += ["@pipeline.task()", f"def join({args}) -> out:", "    return x0"]
    path = folder / "fanin.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def _env(r: object) -> dict[str, str]:
    inputs = r.inputs  # type: ignore[attr-defined]
    if r.type == FUNCTION:  # type: ignore[attr-defined]
        return dict(inputs["serviceConfig"]["environmentVariables"])
    (container,) = inputs["template"]["template"]["containers"]
    return {e["name"]: e["value"] for e in container.get("envs", ()) if "value" in e}


def test_run_data_of_a_wide_fan_in_is_spread_over_work_buckets_within_iam_limits(
    tmp_path: Path,
) -> None:
    infra = load_pipeline(str(_fan_in(tmp_path, RUN_INPUTS, None))).compile(
        GCPCompiler("demo-project")
    )
    run = run_stack(infra.write(tmp_path / "infra") / "gcp")
    same = Counter(
        (m.inputs["bucket"], m.inputs["role"], m.inputs["member"]) for m in run.of(MEMBER)
    )
    assert max(same.values()) <= 20, same.most_common(3)
    per_bucket = Counter(m.inputs["bucket"] for m in run.of(MEMBER))
    assert max(per_bucket.values()) <= 100, per_bucket  # Google's advice for conditional ones
    work = [b for b in run.of(BUCKET) if "-work" in run.outputs(b)["name"]]
    assert len(work) >= 2
    (join,) = [r for r in run.of(FUNCTION) + run.of(JOB) if _env(r)["GLACIER_TASK"] == "join"]
    where = {
        ds: url.removeprefix("gs://").split("/", 1)[0]
        for ds, url in json.loads(_env(join)["GLACIER_LOCATIONS"]).items()
    }
    granted: dict[str, str] = {}
    for m in run.of(MEMBER):
        if m.inputs["member"].startswith("serviceAccount:fanin-join@") and m.inputs[
            "role"
        ].endswith("objectViewer"):
            expression = m.inputs["condition"]["expression"]
            assert len(re.findall(r"&&|\|\|", expression)) <= 12, expression
            for key in re.findall(r'endsWith\("/(p\d+)\.parquet"\)', expression):
                granted[key] = m.inputs["bucket"]
    assert granted == {f"p{i}": where[f"p{i}"] for i in range(RUN_INPUTS)}


def test_a_named_bucket_whose_policy_would_exceed_iam_limits_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    pipeline = load_pipeline(str(_fan_in(tmp_path, STORED_INPUTS, 'GCS("fanin-shared")')))
    with pytest.raises(CompilationError, match=r"task 'join' reads .*'fanin-shared'.* over the 20"):
        pipeline.compile(GCPCompiler("demo-project"))
