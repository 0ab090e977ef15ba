"""The suite's checks, as functions over neutral facts (the test modules call them per case)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from .adapter import LIST, READ, WRITE, Grant, Identity, Location, ProviderAdapter, StorageFacts
from .cases import Dag


def check_storage_locked_down(facts: list[StorageFacts], adapter: ProviderAdapter) -> None:
    assert facts, "the stack creates no storage container"
    for f in facts:
        assert f.public_access_blocked, f"{f.container}: public access is not blocked"
        assert f.uniform_access, f"{f.container}: per-object ACLs are possible"
        for prop in ("encrypted_at_rest", "tls_only"):
            value = getattr(f, prop)
            if value is None:
                assert prop in adapter.platform_guarantees, f"{f.container}: {prop} unknown"
            else:
                assert value, f"{f.container}: not {prop}"


def dataset_locations(dag: Dag, told: Mapping[str, Mapping[str, Location]]) -> dict[str, Location]:
    """Dataset -> location, checking each task is told exactly its datasets, consistently."""
    found: dict[str, Location] = {}
    assert sorted(told) == sorted(dag.tasks), "tasks with locations differ from the DAG's"
    for task, locations in told.items():
        assert set(locations) == dag.reads[task] | dag.writes[task], f"task {task}: {locations}"
        for dataset, location in locations.items():
            assert found.setdefault(dataset, location) == location, f"{dataset}: two locations"
    return found


def check_locations_disjoint(locations: Mapping[str, Location]) -> None:
    """No dataset's key (or its folder) covers another dataset's key in the same container."""
    for a, la in locations.items():
        for b, lb in locations.items():
            if a != b and la.container == lb.container:
                for pattern in (la.key, la.key + "/*"):
                    assert not fnmatch.fnmatchcase(lb.key, pattern), f"{a} {la} covers {b} {lb}"


def _dataset_of(grant: Grant, locations: Mapping[str, Location]) -> str | None:
    """The dataset a grant is exactly on: its key, or the folder under it (delta tables)."""
    for dataset, location in locations.items():
        same = grant.container == location.container
        if same and grant.key in (location.key, location.key + "/*"):
            return dataset
    return None


def task_grants(identities: list[Identity], dag: Dag) -> dict[str, set[Grant]]:
    """Task -> the grants of the identities it runs as; each identity serves one task."""
    found: dict[str, set[Grant]] = {t: set() for t in dag.tasks}
    for identity in identities:
        assert len(identity.tasks) <= 1, f"identity {identity.name} serves {identity.tasks}"
        for task in identity.tasks:
            found[task] |= identity.grants
    return found


def check_grants_follow_the_data_flow(
    identities: list[Identity], dag: Dag, locations: Mapping[str, Location]
) -> None:
    """Each task reads exactly its inputs and writes exactly its outputs; lists only their
    keys; no identity without a task touches a dataset's container."""
    for task, grants in task_grants(identities, dag).items():
        expected = {(d, READ) for d in dag.reads[task]} | {(d, WRITE) for d in dag.writes[task]}
        granted, stray = set(), []
        for grant in grants:
            dataset = _dataset_of(grant, locations)
            if grant.mode in (READ, WRITE) and dataset is not None:
                granted.add((dataset, grant.mode))
            elif not (grant.mode == LIST and dataset in dag.reads[task] | dag.writes[task]):
                stray.append(grant)
        assert not stray, (
            f"task {task}: grants beyond its datasets' keys: {sorted(map(str, stray))}"
        )
        assert granted == expected, (
            f"task {task}: granted {sorted(granted)}, needs {sorted(expected)}"
        )
    containers = {loc.container for loc in locations.values()} | {"*"}
    for identity in identities:
        if not identity.tasks:
            touched = [g for g in identity.grants if g.container in containers]
            assert not touched, f"identity {identity.name} (no task) may touch data: {touched}"


def check_secrets(identities: list[Identity], expected: Mapping[str, set[str]]) -> None:
    """Each task's identities read exactly the secrets its environment references."""
    found: dict[str, set[str]] = {t: set() for t in expected}
    for identity in identities:
        for task in identity.tasks:
            found[task] |= identity.secrets
        if not identity.tasks:
            assert not identity.secrets, f"identity {identity.name} (no task) reads secrets"
    assert found == expected


def check_order(order: list[tuple[str, frozenset[str]]], dag: Dag, series_parallel: bool) -> None:
    """Each task runs once, after all its upstream tasks; for a series-parallel DAG after
    nothing else (independent tasks run in parallel); tasks with no upstream start at once."""
    names = [task for task, _ in order]
    assert sorted(names) == sorted(dag.tasks), "each task must appear exactly once"
    before = dict(order)
    for task in dag.tasks:
        missing = dag.ancestors[task] - before[task]
        assert not missing, f"task {task} may start before its upstream tasks {sorted(missing)}"
        needless = before[task] - dag.ancestors[task]
        if series_parallel or not dag.ancestors[task]:
            assert not needless, f"task {task} needlessly waits for {sorted(needless)}"
