"""``glacier compile`` and ``glacier plan``."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_compile import PIPELINES

from glacier.cli import main

REF = str(PIPELINES / "aws_orders.py")


def test_plan_prints_packaging_and_permissions_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plan", REF, "--target", "aws"]) == 0
    out = capsys.readouterr().out
    assert "publish (aws): ECS Fargate task - container compute runs as an ECS Fargate task" in out
    assert (
        "task role: s3:GetObject on arn:aws:s3:::<acme_orders_landing_bucket>/incoming/orders.parquet"
        in out
    )
    assert "Estimated monthly cost: $" in out
    assert list(tmp_path.iterdir()) == []


def test_compile_writes_the_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", REF, "--target", "aws", "--out", str(tmp_path / "infra")]) == 0
    assert (tmp_path / "infra" / "aws" / "__main__.py").is_file()
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'infra' / 'aws'}" in out
    readme = tmp_path / "infra" / "aws" / "README.md"
    assert readme.is_file()
    assert f"deploy: follow {readme} (prerequisites first), then cd" in out


def test_multi_needs_a_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", REF, "--target", "multi"]) == 1
    assert "--target multi needs --default PROVIDER" in capsys.readouterr().err
    assert main(["plan", REF, "--target", "multi", "--default", "aws"]) == 0


def test_unwritable_out_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file where the output folder goes was an "internal error" asking for --debug."""
    taken = tmp_path / "infra"
    taken.write_text("not a folder")
    assert main(["compile", REF, "--target", "aws", "--out", str(taken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write the stacks to {str(taken)!r}: ")
    assert err.endswith("; choose another --out DIR\n") and err.count("\n") == 1
    assert "internal error" not in err


def test_compile_region_chooses_the_region_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # the flag wins over the environment
    out_dir = tmp_path / "infra"
    assert (
        main(["compile", REF, "--target", "aws", "--region", "eu-west-1", "--out", str(out_dir)])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("aws: region eu-west-1 (from --region)\n")
    assert "priced as us-east-1 (no price table for eu-west-1)" in out
    project = (out_dir / "aws" / "Pulumi.yaml").read_text()
    assert "  aws:region:\n    value: eu-west-1\n" in project
    assert "default_region='eu-west-1'" in (out_dir / "aws" / "__main__.py").read_text()


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"AWS_REGION": "eu-west-2"}, "aws: region eu-west-2 (from AWS_REGION)"),
        ({}, "aws: region us-east-1 (from the default; AWS_REGION and AWS_DEFAULT_REGION are not set)"),
    ],
)  # fmt: skip
def test_plan_says_which_region_it_compiled_for_and_why(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    said: str,
) -> None:
    """A region taken from the environment is printed, never silent."""
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert main(["plan", REF, "--target", "aws"]) == 0
    assert capsys.readouterr().out.startswith(said + "\n")
    assert main(["plan", REF, "--target", "multi", "--default", "aws"]) == 0
    assert said in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--target", "aws", "--region", "mars"],
         "error: AWSCompiler: region must look like 'us-east-1', found 'mars'\n"),
        (["--target", "multi", "--default", "aws", "--region", "eu-west-1"],
         "error: --region applies to a single --target; for --target multi give each "
         "provider's compiler its region in Python (MultiCloudCompiler(providers={...}))\n"),
    ],
)  # fmt: skip
def test_a_wrong_region_flag_is_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    assert main(["plan", REF, *args]) == 1
    assert capsys.readouterr().err == error
