"""Fixtures for the GCP compiler tests: compiled stacks and their runs under Pulumi mocks."""

from __future__ import annotations

import pytest
from gcp_compile import compile_ref
from gcp_mocks import Run, run_stack

from glacier.compilation import Infrastructure


@pytest.fixture(scope="module")
def orders_infra() -> Infrastructure:
    return compile_ref("gcp_orders")


@pytest.fixture(scope="module")
def orders_run(orders_infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = orders_infra.write(tmp_path_factory.mktemp("orders"))
    return run_stack(root / "gcp")
