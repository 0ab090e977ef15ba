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
    """No dataset's key is a prefix of another dataset's key in the same container, so a
    grant on one key (or everything under it) never reaches another dataset."""
    for a, la in locations.items():
        for b, lb in locations.items():
            if a != b and la.container == lb.container:
                assert not fnmatch.fnmatchcase(lb.key, la.key + "*"), f"{a} {la} covers {b} {lb}"


def _dataset_of(grant: Grant, locations: Mapping[str, Location]) -> str | None:
    """The dataset a grant is exactly on: its key, everything under it as a folder (delta
    tables: ``key/*``) or as a prefix (``key*``: what a prefix condition grants)."""
    for dataset, location in locations.items():
        same = grant.container == location.container
        if same and grant.key in (location.key, location.key + "/*", location.key + "*"):
            return dataset
    return None


def _may_list(grant: Grant, own: frozenset[str], locations: Mapping[str, Location]) -> bool:
    """Listing reveals key names only: on the task's own datasets' keys, or on a whole
    container whose every dataset is the task's own (some clouds list per container only)."""
    dataset = _dataset_of(grant, locations)
    if dataset is not None:
        return dataset in own
    held = {d for d, loc in locations.items() if loc.container == grant.container}
    return grant.key == "*" and bool(held) and held <= own


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
        own = dag.reads[task] | dag.writes[task]
        expected = {(d, READ) for d in dag.reads[task]} | {(d, WRITE) for d in dag.writes[task]}
        granted, stray = set(), []
        for grant in grants:
            dataset = _dataset_of(grant, locations)
            if grant.mode in (READ, WRITE) and dataset is not None:
                granted.add((dataset, grant.mode))
            elif not (grant.mode == LIST and _may_list(grant, own, locations)):
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
