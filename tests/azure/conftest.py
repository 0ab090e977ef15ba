"""Fixtures for the Azure compiler tests: compiled stacks and their runs under Pulumi mocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure_mocks import Run, run_stack

from glacier.compilation import Infrastructure
from glacier.loader import load_pipeline
from glacier_azure import AzureCompiler

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"


def compile_ref(name: str, **options: object) -> Infrastructure:
    """Compile ``tests/pipelines/<name>.py`` (``name`` may end ``:attr``) for Azure."""
    module, _, attr = name.partition(":")
    ref = str(PIPELINES / f"{module}.py") + (f":{attr}" if attr else "")
    return load_pipeline(ref).compile(AzureCompiler(**options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def orders_infra() -> Infrastructure:
    return compile_ref("azure_orders")


@pytest.fixture(scope="module")
def orders_run(orders_infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = orders_infra.write(tmp_path_factory.mktemp("orders"))
    return run_stack(Path(root) / "azure")
