"""The checked-in example stack is what the compiler generates today."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from aws_mocks import run_stack
from golden_files import check_golden

from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler

ROOT = Path(__file__).resolve().parents[2] / "examples"


def test_example_stack_is_up_to_date() -> None:
    infra = load_pipeline(str(ROOT / "aws_pipeline.py")).compile(AWSCompiler())
    # A user deploys this stack as is, so it keeps the helper files (pinned with the other
    # stacks' by test_stack_helpers_are_the_vendored_sources).
    check_golden(infra.stacks["aws"].files, ROOT / "aws_pipeline_infra" / "aws", helpers=True)
    readme = (ROOT / "aws_pipeline_infra" / "README.md").read_text(encoding="utf-8")
    assert readme == infra.readme(), (
        "regenerate: glacier compile examples/aws_pipeline.py --target aws --out examples/aws_pipeline_infra"
    )


@pytest.mark.slow
def test_a_fresh_clone_of_the_example_stack_refuses_to_deploy_and_says_how_to_fix_it(
    tmp_path: Path,
) -> None:
    """The vendored Glacier packages under ``app/`` are git-ignored (a copy of the library):
    ``pulumi up`` in a fresh clone must stop with the fix, not deploy functions that cannot
    import Glacier."""
    example = ROOT / "aws_pipeline_infra"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "aws"], cwd=example, capture_output=True, check=True
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(example / rel, tmp_path / rel)
    assert (tmp_path / "aws" / "__main__.py").is_file()
    assert not (tmp_path / "aws" / "app" / "glacier").exists()
    message = (
        r"has no glacier/__init__.py, so its functions could not start .* regenerate the stack "
        r"with `glacier compile <pipeline> --target aws --out <folder>`, then run pulumi up"
    )
    with pytest.raises(RuntimeError, match=message):
        run_stack(tmp_path / "aws")


_CONTAINER_ONLY = """\
from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

raw = Dataset("raw", storage=ObjectStorage())
out = Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="boxed")


@pipeline.task(compute=compute.container())
def work(rows: raw) -> out:
    return rows
"""


@pytest.mark.slow
def test_a_container_image_is_not_built_from_a_bundle_without_the_runtime(tmp_path: Path) -> None:
    (tmp_path / "boxed_pipeline.py").write_text(_CONTAINER_ONLY)
    infra = load_pipeline(str(tmp_path / "boxed_pipeline.py")).compile(AWSCompiler())
    stack = infra.write(tmp_path / "out") / "aws"
    assert "build_lambda_bundle" not in (stack / "__main__.py").read_text()
    shutil.rmtree(stack / "app" / "glacier")
    with pytest.raises(
        RuntimeError, match=r"has no glacier/__init__\.py, so its functions could not"
    ):
        run_stack(stack)
