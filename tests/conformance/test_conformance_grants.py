"""Each identity reads only its task's inputs, writes only its outputs, reads only its secrets."""

from __future__ import annotations

import pytest

from glacier import Secret

from .cases import SAMPLES, Case, params
from .checks import (
    check_grants_follow_the_data_flow,
    check_locations_disjoint,
    check_secrets,
    dataset_locations,
)
from .conftest import Stacks


@pytest.mark.parametrize(("provider", "case"), params("locations", SAMPLES))
def test_each_task_is_told_exactly_its_datasets_at_distinct_keys(
    stacks: Stacks, provider: str, case: Case
) -> None:
    built = stacks.get(provider, case)
    check_locations_disjoint(dataset_locations(built.dag, built.deployed.locations()))


@pytest.mark.parametrize(("provider", "case"), params("grants", SAMPLES))
def test_each_identity_reads_its_inputs_and_writes_its_outputs_only(
    stacks: Stacks, provider: str, case: Case
) -> None:
    built = stacks.get(provider, case)
    locations = dataset_locations(built.dag, built.deployed.locations())
    check_grants_follow_the_data_flow(built.deployed.identities(), built.dag, locations)


@pytest.mark.parametrize(("provider", "case"), params("secrets", SAMPLES))
def test_each_identity_reads_exactly_its_tasks_secrets(
    stacks: Stacks, provider: str, case: Case
) -> None:
    built = stacks.get(provider, case)
    expected = {
        task.name: {
            v.name
            for v in (getattr(task.compute, "env", None) or {}).values()
            if isinstance(v, Secret)
        }
        for task in built.pipeline.tasks
    }
    check_secrets(built.deployed.identities(), expected)
