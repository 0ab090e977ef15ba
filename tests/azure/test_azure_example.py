"""The checked-in Azure example stack: up to date with the compiler, and deployable under the
mocks; and ``glacier compile --target azure`` from the command line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from azure_mocks import run_stack

from glacier.cli import main
from glacier.loader import load_pipeline
from glacier_azure import AzureCompiler

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "azure_pipeline_infra"
VENDORED = ("app/glacier/", "app/glacier_aws/", "app/glacier_gcp/", "app/glacier_azure/")
REGENERATE = (
    "regenerate: glacier compile examples/azure_pipeline.py --target azure "
    "--out examples/azure_pipeline_infra"
)
_PIN = re.compile(r"==\S+")


def _checked_in(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(VENDORED) and "__pycache__" not in rel:
            found[rel] = path.read_text(encoding="utf-8")
    return found


@pytest.mark.slow
def test_example_stack_is_up_to_date() -> None:
    infra = load_pipeline(str(ROOT / "examples" / "azure_pipeline.py")).compile(AzureCompiler())
    files = {k: v for k, v in infra.stacks["azure"].files.items() if not k.startswith(VENDORED)}
    found = _checked_in(EXAMPLE / "azure")
    assert sorted(found) == sorted(files), REGENERATE
    for rel, text in files.items():
        if rel == "app/requirements.txt":
            text, found[rel] = _PIN.sub("==", text), _PIN.sub("==", found[rel])
        assert found[rel] == text, f"{rel} is stale; {REGENERATE}"
    assert (EXAMPLE / "README.md").read_text(encoding="utf-8") == infra.readme(), REGENERATE


@pytest.mark.slow
def test_example_stack_runs_under_the_mocks(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE / "azure", tmp_path / "azure")
    run = run_stack(tmp_path / "azure")
    (workflow,) = run.of("Workflow")
    assert sorted(workflow.inputs["definition"]["actions"]) == [
        "run_id", "task_clean", "task_rank", "task_rank_run", "task_summarise",
        "task_summarise_run",
    ]  # fmt: skip
    readme = (tmp_path / "azure" / "README.md").read_text(encoding="utf-8")
    for heading in ("Prerequisites", "Configure", "Deploy", "Run", "Tear down"):
        assert f"\n## {heading}\n" in readme, heading
    used = set(re.findall(r"pulumi stack output (\w+)", readme))
    assert used == {"vault", "resource_group", "workflow"} and used <= set(run.exports)
    assert workflow.inputs["definition"]["triggers"]["schedule"]["recurrence"]["schedule"] == {
        "hours": [4], "minutes": [30]}  # fmt: skip


@pytest.mark.slow
def test_compile_target_azure_writes_the_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = str(ROOT / "examples" / "azure_pipeline.py")
    assert main(["compile", ref, "--target", "azure", "--out", str(tmp_path / "infra")]) == 0
    stack = tmp_path / "infra" / "azure"
    assert (stack / "__main__.py").is_file() and (stack / "workflow.json").is_file()
    assert f"wrote {stack}" in capsys.readouterr().out
    assert main(["plan", ref, "--target", "azure"]) == 0
    out = capsys.readouterr().out
    assert "logic_app" in out and "Estimated monthly cost" in out
