"""Bucket access of a task with many inputs: every condition within IAM's 12 logical
operators, the bindings together granting exactly the task's keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gcp_mocks import run_stack

from glacier.loader import load_pipeline
from glacier_gcp import GCPCompiler

pytestmark = pytest.mark.slow  # a compile, and the program under Pulumi's mocks

MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
INPUTS = 9


def _fan_in(folder: Path) -> Path:
    lines = [
        "from glacier import Dataset, Pipeline",
        "from glacier.storage import ObjectStorage",
        'pipeline = Pipeline(name="fanin")',
        'src = Dataset("src", storage=ObjectStorage())',
        'out = Dataset("out", storage=ObjectStorage())',
    ]
    for i in range(INPUTS):
        lines += [f'p{i} = Dataset("p{i}")', "@pipeline.task()",
                  f"def make{i}(x: src) -> p{i}:", "    return x"]  # fmt: skip
    args = ", ".join(f"x{i}: p{i}" for i in range(INPUTS))
    lines += ["@pipeline.task()", f"def join({args}) -> out:", "    return x0"]
    path = folder / "fanin.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_many_inputs_get_several_bindings_each_within_the_operator_limit(tmp_path: Path) -> None:
    infra = load_pipeline(str(_fan_in(tmp_path))).compile(GCPCompiler("demo-project"))
    run = run_stack(infra.write(tmp_path / "infra") / "gcp")
    join = [
        m
        for m in run.of(MEMBER)
        if m.inputs["member"].startswith("serviceAccount:fanin-join@")
        and m.inputs["role"] == "roles/storage.objectViewer"
    ]
    assert len(join) > 1
    keys: set[str] = set()
    for binding in join:
        expression = binding.inputs["condition"]["expression"]
        assert len(re.findall(r"&&|\|\|", expression)) <= 12, expression
        keys |= set(re.findall(r'endsWith\("/(p\d+)\.parquet"\)', expression))
    titles = [b.inputs["condition"]["title"] for b in join]
    assert len(set(titles)) == len(titles)
    assert keys == {f"p{i}" for i in range(INPUTS)}
