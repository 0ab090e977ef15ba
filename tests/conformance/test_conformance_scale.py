"""Limits respected at scale: pipelines of 10, 100 and 1,000 tasks (a tree and a wide fan-in),
and the shapes that once exceeded a limit (80 tasks; one task reading 30 stored datasets).

Each limit the adapter measures is one test per size, so a known gap (a strict xfail naming
its issue) covers exactly the limit that is exceeded, and every other limit keeps being
checked at that size. The same stacks are also checked for order and grants.
"""

from __future__ import annotations

import pytest

from glacier.errors import CompilationError

from .cases import LONG_NAMES, SCALES, WIDE, Case, params
from .checks import check_grants_follow_the_data_flow, check_order, dataset_locations
from .conftest import Stacks
from .providers import PROVIDERS, load

LIMITS = sorted({limit for p in PROVIDERS for limit in load(p).limits})


def _limit_params() -> list[object]:
    """(provider, case, limit) for the limits each provider measures."""
    return [
        p
        for p in params("limits", SCALES + WIDE, LIMITS)
        if p.values[2] in load(str(p.values[0])).limits  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(("provider", "case", "limit"), _limit_params())
def test_limit_respected_at_scale(stacks: Stacks, provider: str, case: Case, limit: str) -> None:
    built = stacks.get(provider, case)
    facts = [f for f in built.deployed.limits() if f.limit == limit]
    if limit not in built.adapter.optional_limits:
        assert facts, f"{limit}: nothing measured"
    over = sorted((f for f in facts if f.measured > f.maximum), key=lambda f: -f.measured)
    shown = [f"{f.subject}: {f.measured:,} > {f.maximum:,}" for f in over[:5]]
    assert not over, f"{limit}: {len(over)} over the limit, e.g. {shown}"


@pytest.mark.parametrize(("provider", "case"), params("order", SCALES))
def test_orchestration_order_equals_the_dag_at_scale(
    stacks: Stacks, provider: str, case: Case
) -> None:
    built = stacks.get(provider, case)
    assert len(built.dag.tasks) == case.size
    check_order(built.deployed.order(), built.dag, series_parallel=True)


@pytest.mark.parametrize(("provider", "case"), params("grants", SCALES))
def test_grants_follow_the_data_flow_at_scale(stacks: Stacks, provider: str, case: Case) -> None:
    built = stacks.get(provider, case)
    locations = dataset_locations(built.dag, built.deployed.locations())
    check_grants_follow_the_data_flow(built.deployed.identities(), built.dag, locations)


@pytest.mark.parametrize(("provider", "case"), params("names", [LONG_NAMES]))
def test_longest_names_fit_every_limit_or_are_refused_naming_the_object(
    stacks: Stacks, provider: str, case: Case
) -> None:
    try:
        built = stacks.get(provider, case)
    except CompilationError as exc:
        pipeline = stacks.pipeline(case)
        names = [t.name for t in pipeline.tasks] + [d.name for d in pipeline.datasets]
        message = str(exc)
        assert "\n" not in message and any(f"'{n}'" in message for n in names), message
        return
    over = [f for f in built.deployed.limits() if f.measured > f.maximum]
    assert not over, over
