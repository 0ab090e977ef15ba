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
    assert f"wrote {tmp_path / 'infra' / 'aws'}" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["azure"])
def test_unbuilt_provider_is_one_line_saying_so(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", REF, "--target", target]) == 1
    assert capsys.readouterr().err == (
        f"error: provider {target!r} is not built yet in this Glacier version "
        f"(glacier_{target} declares its storage and compute, usable in local and remote runs, "
        "but has no compiler); use a built provider: aws, gcp\n"
    )


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
