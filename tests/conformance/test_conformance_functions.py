"""A case of short tasks, so the function path runs through the suite on every provider: on
Azure the samples' serverless tasks (default timeout 300 s, over the 120 s a Logic App waits
for a function) all become Container Apps jobs, while these fit Function Apps. The stack runs
each check the samples run: storage, locations, grants, secrets, order, bundle.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .cases import PIPELINES, Case, params
from .checks import (
    check_grants_follow_the_data_flow,
    check_locations_disjoint,
    check_order,
    check_secrets,
    check_storage_locked_down,
    dataset_locations,
)
from .conftest import Stacks
from .test_conformance_bundle import _import_in_clean_interpreter

SHORT = Case("short", str(Path(PIPELINES) / "conformance_functions.py"))

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("provider", "case"), params("functions", [SHORT]))
def test_short_tasks_pass_every_check(stacks: Stacks, provider: str, case: Case) -> None:
    built = stacks.get(provider, case)
    deployed = built.deployed
    check_storage_locked_down(deployed.storage(), built.adapter)
    locations = dataset_locations(built.dag, deployed.locations())
    check_locations_disjoint(locations)
    check_grants_follow_the_data_flow(deployed.identities(), built.dag, locations)
    check_secrets(deployed.identities(), {"price": {"quick-token"}, "pick": set(),
                                          "total": set(), "summarise": set()})  # fmt: skip
    check_order(deployed.order(), built.dag, case.series_parallel)


@pytest.mark.parametrize(("provider", "case"), params("bundle", [SHORT]))
def test_the_short_tasks_bundle_imports_in_a_clean_interpreter(
    stacks: Stacks, provider: str, case: Case
) -> None:
    bundle = stacks.get(provider, case).deployed.bundle()
    assert bundle.entry_points
    result = _import_in_clean_interpreter(bundle)
    assert sorted(result["tasks"]) == ["pick", "price", "summarise", "total"]  # type: ignore[call-overload]


def test_on_azure_the_short_serverless_tasks_are_function_apps(stacks: Stacks) -> None:
    built = stacks.get("azure", SHORT)
    run = built.deployed.run  # type: ignore[attr-defined]
    apps = sorted(r.name for r in run.of("WebApp"))
    jobs = sorted(r.name for r in run.of("app:Job"))
    assert apps == ["quick-pick", "quick-price", "quick-summarise"] and jobs == ["quick-total"]
    assert "function_app:app" in built.deployed.bundle().entry_points
