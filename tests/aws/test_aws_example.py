"""The checked-in example stack is what the compiler generates today."""

from __future__ import annotations

from pathlib import Path

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
