"""Shortcuts taken for speed must give the same results as the slow, fully checked paths."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from glacier import Pipeline, compute
from glacier.errors import DefinitionError
from glacier.ir import from_json, to_json
from glacier.loader import _load_file
from glacier.task import Task, _code_hash

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "tests/pipelines/core_plain.py",
    "tests/pipelines/core_two.py",
    "tests/pipelines/core_future.py",
    "tests/pipelines/runtime_shop.py",
    "tests/pipelines/aws_orders.py",
    "examples/quickstart.py",
]


def _pipelines(path: str) -> list[Pipeline]:
    module = _load_file(str(ROOT / path), path)  # the loader's import, as `glacier run` does
    found = [v for v in vars(module).values() if isinstance(v, Pipeline)]
    return found or pytest.fail(f"{path} defines no Pipeline")


def _same_types(a: Any, b: Any, where: str) -> None:
    """Equal values can still differ in type (5 vs 5.0, list vs tuple): compare those too."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _same_types(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple | list):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_types(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        for k in a:
            _same_types(a[k], b[k], f"{where}[{k!r}]")


@pytest.mark.parametrize("module", MODULES)
def test_what_local_runs_read_is_what_the_cloud_runtime_reads_back(module: str) -> None:
    for pipeline in _pipelines(module):
        spec = pipeline.spec()
        read_back = from_json(to_json(spec))  # the manifest of a function bundle
        assert read_back == spec
        _same_types(spec, read_back, pipeline.name)
        assert to_json(read_back) == to_json(spec)


def test_spec_timeouts_are_floats_and_bad_param_defaults_still_fail() -> None:
    from glacier import Dataset, task

    src, dst = Dataset("fp_src"), Dataset("fp_dst")

    @task(timeout=5)
    def timed(data: src) -> dst:
        return data

    spec = Pipeline([timed], name="fp").spec()
    assert spec.tasks[0].timeout == 5.0 and isinstance(spec.tasks[0].timeout, float)

    def tupled(data: src, pair: tuple[int, int] = (1, 2)) -> dst:  # json.dumps accepts tuples
        return data

    # JSON would turn the tuple into a list: refused when the task is made, not at spec().
    with pytest.raises(
        DefinitionError, match=r"parameter 'pair' has default \(1, 2\); .*for a tuple use a list"
    ):
        task()(tupled)


def _old_hash(fn: Any) -> str:
    return hashlib.sha256(textwrap.dedent(inspect.getsource(fn)).encode()).hexdigest()


@pytest.mark.parametrize("module", MODULES)
def test_code_hash_is_the_hash_of_the_function_source(module: str) -> None:
    tasks = [t for p in _pipelines(module) for t in p.tasks]
    assert tasks
    for t in tasks:
        assert t.code_hash == _old_hash(t.fn), t.name


def _exec_task(body: str) -> Task:
    namespace: dict[str, Any] = {}
    source = (
        f"from glacier import Dataset, task\na = Dataset('a')\n@task\ndef t(x: a) -> None:\n{body}"
    )
    exec(compile(source, "<no file>", "exec"), namespace)
    return namespace["t"]


def test_code_hash_without_source_uses_the_code_object_deterministically() -> None:
    nested = "    def inner(y):\n        return y + 1\n    inner(x)\n"
    first, again = _exec_task(nested), _exec_task(nested)
    assert first.code_hash == again.code_hash  # no memory addresses of nested code objects
    changed = _exec_task(nested.replace("y + 1", "y - 1"))
    assert changed.code_hash != first.code_hash  # a change inside a nested function counts
    assert _code_hash(first.fn) == first.code_hash


@pytest.mark.slow
def test_the_core_and_a_local_run_import_no_cloud_sdk(tmp_path: Path) -> None:
    # glacier and glacier_aws (its compiler included) run where no cloud SDK is installed:
    # importing them and declaring, running and graphing a pipeline import none.
    code = textwrap.dedent(
        """
        import sys
        import polars as pl
        from glacier import Dataset, Pipeline, Secret, compute, task
        from glacier.storage import LocalFS, ObjectStorage
        from glacier_aws import AWSCompiler
        from glacier_aws.compute import Fargate, Lambda
        from glacier_aws.storage import S3

        raw = Dataset("raw", ObjectStorage("infrequent", aws_storage_class="GLACIER_IR"))
        out = Dataset("out", LocalFS(sys.argv[1]), schema={"x": pl.Int64})
        fn = compute.serverless(memory=2048, env={"TOKEN": Secret("api/token"), "MODE": "x"})
        lake = Dataset("lake", S3("my-bucket", prefix="raw"))
        landing = Dataset("landing", S3("their-bucket", create=False))

        @task(compute=fn)
        def double(data: raw) -> out:
            return data.with_columns(pl.col("x") * 2)

        @task(compute=Lambda(memory=512, layers=["arn:aws:lambda:us-east-1:1:layer:x:1"]))
        def keep(data: out) -> lake:
            return data

        @task(compute=Fargate(cpu=2, memory=4096))
        def land(data: lake) -> landing:
            return data

        pipeline = Pipeline([double, keep, land], name="nocloudsdk")
        result = pipeline.run(inputs={"raw": pl.DataFrame({"x": [1, 2]})}, root=sys.argv[1])
        assert result["landing"].collect()["x"].to_list() == [2, 4]
        pipeline.visualize(format="text")
        sdks = ("pulumi", "pulumi_aws", "boto3", "botocore", "google", "azure")
        print(sorted(m for m in sys.modules if m.split(".")[0] in sdks))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, "TOKEN": "local-token-value"},  # a local run needs its secrets
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_default_compute_is_shared() -> None:
    from glacier import Dataset, task

    a, b = Dataset("fp_a"), Dataset("fp_b")

    @task
    def one(x: a) -> b:
        return x

    @task
    def two(x: b) -> None:
        return None

    assert one.compute is two.compute and one.compute == compute.local()
