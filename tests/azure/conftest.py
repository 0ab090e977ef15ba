"""Fixtures for the Azure compiler tests: compiled stacks and their runs under Pulumi mocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure_compile import compile_ref
from azure_mocks import Run, run_stack

from glacier.compilation import Infrastructure


@pytest.fixture(scope="module")
def orders_infra() -> Infrastructure:
    return compile_ref("azure_orders")


@pytest.fixture(scope="module")
def orders_run(orders_infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = orders_infra.write(tmp_path_factory.mktemp("orders"))
    return run_stack(Path(root) / "azure")
