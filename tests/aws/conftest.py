"""Fixtures for the AWS compiler tests: compiled stacks and their runs under Pulumi mocks."""

from __future__ import annotations

import pytest
from aws_compile import compile_ref
from aws_mocks import Run, run_stack

from glacier.compilation import Infrastructure


@pytest.fixture(scope="module")
def orders_infra() -> Infrastructure:
    return compile_ref("aws_orders")


@pytest.fixture(scope="module")
def orders_run(orders_infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = orders_infra.write(tmp_path_factory.mktemp("orders"))
    return run_stack(root / "aws")
