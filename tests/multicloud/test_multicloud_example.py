"""The checked-in example: compiled stacks up to date, and ``glacier plan --target multi``
printing its transfers and cost in under a second."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from glacier.cli import main
from glacier.compilation import MultiCloudCompiler
from glacier.loader import load_pipeline
from glacier_aws import AWSCompiler
from glacier_azure import AzureCompiler
from glacier_gcp import GCPCompiler

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "multicloud.py"
INFRA = ROOT / "examples" / "multicloud_infra"
VENDORED = ("app/glacier/", "app/glacier_aws/", "app/glacier_gcp/", "app/glacier_azure/")
REGENERATE = (
    "regenerate: glacier compile examples/multicloud.py --target multi --default gcp "
    "--out examples/multicloud_infra"
)


def test_example_stacks_are_up_to_date() -> None:
    compiler = MultiCloudCompiler(
        providers={
            "aws": AWSCompiler(region="us-east-1"),
            "gcp": GCPCompiler(project=None),
            "azure": AzureCompiler(),
        },
        default_provider="gcp",
    )
    infra = load_pipeline(str(EXAMPLE)).compile(compiler)
    for provider, stack in infra.stacks.items():
        for rel, text in stack.files.items():
            if rel.startswith(VENDORED) or (rel.endswith("requirements.txt") and "app/" in rel):
                continue  # vendored packages (git-ignored) and pins of this machine
            path = INFRA / provider / rel
            assert path.exists() and path.read_text(encoding="utf-8") == text, (rel, REGENERATE)
    assert (INFRA / "README.md").read_text(encoding="utf-8") == infra.readme(), REGENERATE


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def test_plan_prints_transfers_and_cost_in_under_a_second(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    started = _cpu_seconds()  # CPU, not wall time: the machine's load does not count
    assert main(["plan", str(EXAMPLE), "--target", "multi", "--default", "gcp"]) == 0
    spent = _cpu_seconds() - started
    out = capsys.readouterr().out
    assert (
        "CROSS-PROVIDER DATA TRANSFERS DETECTED\n"
        "  - orders: (source) (aws) -> validate (gcp), est. $0.09/GB egress\n"
        "  - ranking: rank (gcp) -> ranking storage (aws), est. $0.12/GB egress\n"
        "  - ranking: ranking storage (aws) -> publish (azure), est. $0.09/GB egress\n"
    ) in out
    # 20 GB x $0.09 + 0.01 GB x ($0.12 + $0.09), 30 runs a month
    assert "  transfers: $54.06 (3 transfer(s), 600.6 GB a month at 30 run(s) a month;" in out
    assert spent < 1.0, f"glacier plan --target multi took {spent:.2f} s of CPU"


def test_compile_points_at_the_multi_cloud_guide(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "infra"
    assert (
        main(
            [
                "compile",
                str(EXAMPLE),
                "--target",
                "multi",
                "--default",
                "gcp",
                "--out",
                str(out_dir),
            ]
        )
        == 0
    )
    assert f"deploy: follow {out_dir / 'README.md'} (the stacks' order" in capsys.readouterr().out
    assert (
        (out_dir / "README.md")
        .read_text()
        .startswith("# Pipeline `legacy_sales` across aws, azure, gcp")
    )
