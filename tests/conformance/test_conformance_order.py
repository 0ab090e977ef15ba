"""The orchestrator's definition, read back, runs the DAG: producers first, siblings parallel."""

from __future__ import annotations

import pytest

from .cases import SAMPLES, Case, n_free, params
from .checks import check_order
from .conftest import Stacks


@pytest.mark.parametrize(("provider", "case"), params("order", SAMPLES))
def test_orchestration_order_equals_the_dag(stacks: Stacks, provider: str, case: Case) -> None:
    built = stacks.get(provider, case)
    assert n_free(built.dag) == case.series_parallel  # the case's label is right
    check_order(built.deployed.order(), built.dag, case.series_parallel)
