"""``glacier plan`` and ``glacier compile`` with ``--target gcp``."""

from __future__ import annotations

from pathlib import Path

import pytest
from gcp_compile import PIPELINES

from glacier.cli import main

pytestmark = pytest.mark.slow  # each compile checks the bundle in a fresh interpreter

REF = str(PIPELINES / "gcp_orders.py")


def test_plan_prints_packaging_permissions_and_cost_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-project")
    assert main(["plan", REF, "--target", "gcp"]) == 0
    out = capsys.readouterr().out
    assert "Cloud Function (2nd gen)" in out and "Cloud Run job" in out
    assert "roles/storage.objectViewer on gs://<" in out
    assert "Estimated monthly cost: $" in out and "gcp: $" in out
    assert "gcp workflow orders" in out
    assert list(tmp_path.iterdir()) == []


def test_compile_writes_a_complete_stack_with_its_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", REF, "--target", "gcp", "--out", str(tmp_path / "infra")]) == 0
    stack = tmp_path / "infra" / "gcp"
    for name in ("__main__.py", "Pulumi.yaml", "requirements.txt", "workflow.yaml", "app/main.py"):
        assert (stack / name).is_file(), name
    readme = (stack / "README.md").read_text()
    for heading in ("## Prerequisites", "## Configure", "## Deploy", "## Run", "## Tear down"):
        assert heading in readme, heading
    for command in ("pulumi config set gcp:project", "pulumi config set gcp:region", "pulumi up",
                    "$(pulumi stack output start_run)", "pulumi destroy"):  # fmt: skip
        assert command in readme, command
    assert f"wrote {stack}" in capsys.readouterr().out
