"""Storage is locked down: no public access, no per-object ACLs, encrypted, TLS only."""

from __future__ import annotations

import pytest

from .cases import SAMPLES, Case, dag_of, params
from .checks import check_storage_locked_down, dataset_locations
from .conftest import Stacks


@pytest.mark.parametrize(("provider", "case"), params("storage", SAMPLES))
def test_every_container_is_locked_down(stacks: Stacks, provider: str, case: Case) -> None:
    built = stacks.get(provider, case)
    check_storage_locked_down(built.deployed.storage(), built.adapter)


@pytest.mark.parametrize(("provider", "case"), params("storage", SAMPLES))
def test_every_dataset_lives_in_a_container_the_stack_locks_down(
    stacks: Stacks, provider: str, case: Case
) -> None:
    built = stacks.get(provider, case)
    locations = dataset_locations(dag_of(built.pipeline), built.deployed.locations())
    created = {f.container for f in built.deployed.storage()}
    outside = {d: loc for d, loc in locations.items() if loc.container not in created}
    assert not outside, f"datasets outside the stack's locked-down containers: {outside}"
