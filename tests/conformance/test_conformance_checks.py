"""The suite's checks are sharp: each one fails on the defect it exists to catch.

Facts are made by hand here (no compiler, no mocks), so a check that silently accepts
everything, or a reader that finds nothing, shows up as a failure of this module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from .adapter import LIST, READ, WRITE, Grant, Identity, Location, StorageFacts
from .cases import Dag, n_free
from .checks import (
    check_grants_follow_the_data_flow,
    check_locations_disjoint,
    check_order,
    check_secrets,
    check_storage_locked_down,
)
from .providers import aws_asl
from .test_conformance_hostile import _shape

# extract -> raw -> clean -> tidy ; report (independent) -> summary
DAG = Dag(
    tasks=("extract", "clean", "report"),
    reads={"extract": frozenset(), "clean": frozenset({"raw"}), "report": frozenset({"src"})},
    writes={
        "extract": frozenset({"raw"}),
        "clean": frozenset({"tidy"}),
        "report": frozenset({"summary"}),
    },
    ancestors={"extract": frozenset(), "clean": frozenset({"extract"}), "report": frozenset()},
)
LOCATIONS = {
    "raw": Location("work", "runs/*/raw.parquet"),
    "tidy": Location("tidy-bucket", "tidy.delta"),
    "src": Location("src-bucket", "src.csv"),
    "summary": Location("summary-bucket", "summary.parquet"),
}
GOOD_ORDER = [("extract", frozenset()), ("clean", frozenset({"extract"})), ("report", frozenset())]


def _identity(task: str, *grants: Grant, secrets: frozenset[str] = frozenset()) -> Identity:
    return Identity(f"role-{task}", frozenset({task}), frozenset(grants), secrets)


GOOD_IDENTITIES = [
    _identity("extract", Grant("work", "runs/*/raw.parquet", WRITE)),
    _identity(
        "clean",
        Grant("work", "runs/*/raw.parquet", READ),
        Grant("work", "runs/*/raw.parquet", LIST),
        Grant("tidy-bucket", "tidy.delta/*", WRITE),
        Grant("tidy-bucket", "tidy.delta", LIST),
    ),
    _identity(
        "report",
        Grant("src-bucket", "src.csv", READ),
        Grant("summary-bucket", "summary.parquet", WRITE),
        secrets=frozenset({"api"}),
    ),
    Identity("orchestrator", frozenset(), frozenset(), frozenset()),
]


class _Adapter:
    platform_guarantees = {"tls_only": "the platform refuses plain HTTP"}


def test_good_facts_pass() -> None:
    check_order(GOOD_ORDER, DAG, series_parallel=True)
    check_grants_follow_the_data_flow(GOOD_IDENTITIES, DAG, LOCATIONS)
    check_locations_disjoint(LOCATIONS)
    check_secrets(GOOD_IDENTITIES, {"extract": set(), "clean": set(), "report": {"api"}})
    check_storage_locked_down([StorageFacts("b", True, True, True, None)], _Adapter())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("order", "series_parallel", "match"),
    [
        ([("clean", frozenset()), *GOOD_ORDER[::2]], True, "upstream tasks"),
        ([*GOOD_ORDER[:2], ("report", frozenset({"clean"}))], True, "needlessly waits"),
        ([*GOOD_ORDER[:2], ("report", frozenset({"clean"}))], False, "needlessly waits"),
        ([*GOOD_ORDER, ("clean", frozenset({"extract"}))], True, "exactly once"),
        (GOOD_ORDER[:2], True, "exactly once"),
    ],
)
def test_order_check_catches(order: Any, series_parallel: bool, match: str) -> None:
    with pytest.raises(AssertionError, match=match):
        check_order(order, DAG, series_parallel)


def _swap(task: str, *grants: Grant) -> list[Identity]:
    return [replace(i, grants=frozenset(grants)) if task in i.tasks else i for i in GOOD_IDENTITIES]


@pytest.mark.parametrize(
    ("identities", "match"),
    [
        (_swap("extract", Grant("work", "runs/*/raw.parquet", READ)), "needs"),
        (
            _swap("extract", Grant("work", "runs/*/raw.parquet", WRITE), Grant("work", "*", READ)),
            "beyond",
        ),
        (_swap("extract", Grant("work", "runs/*", WRITE)), "beyond"),
        (
            _swap("extract", Grant("work", "runs/*/raw.parquet", WRITE), Grant("*", "*", "s3:*")),
            "beyond",
        ),
        (
            _swap(
                "extract",
                Grant("work", "runs/*/raw.parquet", WRITE),
                Grant("src-bucket", "src.csv", READ),
            ),
            "granted",
        ),
        (
            _swap(
                "extract", Grant("work", "runs/*/raw.parquet", WRITE), Grant("src-bucket", "", LIST)
            ),
            "beyond",
        ),
        (
            [
                *GOOD_IDENTITIES[:3],
                Identity("o", frozenset(), frozenset({Grant("work", "x", READ)}), frozenset()),
            ],
            "no task",
        ),
        (
            [
                *GOOD_IDENTITIES[1:],
                Identity("shared", frozenset({"extract", "report"}), frozenset(), frozenset()),
            ],
            "serves",
        ),
    ],
)
def test_grant_check_catches(identities: list[Identity], match: str) -> None:
    with pytest.raises(AssertionError, match=match):
        check_grants_follow_the_data_flow(identities, DAG, LOCATIONS)


def test_grant_check_accepts_prefix_grants_and_listing_a_container_of_own_datasets() -> None:
    identities = _swap(
        "report",
        Grant("src-bucket", "src.csv*", READ),
        Grant("src-bucket", "*", LIST),  # the bucket holds only the task's own input
        Grant("summary-bucket", "summary.parquet", WRITE),
    )
    check_grants_follow_the_data_flow(identities, DAG, LOCATIONS)
    shared = _swap("clean", *GOOD_IDENTITIES[1].grants, Grant("work", "*", LIST))
    with pytest.raises(AssertionError, match="beyond"):  # the work bucket holds others' data
        check_grants_follow_the_data_flow(shared, DAG, {**LOCATIONS, "x": Location("work", "x")})


def test_secret_and_location_checks_catch() -> None:
    with pytest.raises(AssertionError):
        check_secrets(GOOD_IDENTITIES, {"extract": {"api"}, "clean": set(), "report": {"api"}})
    for key in ("tidy.delta/p.parquet", "tidy.delta.old"):
        with pytest.raises(AssertionError, match="covers"):
            check_locations_disjoint({**LOCATIONS, "part": Location("tidy-bucket", key)})


@pytest.mark.parametrize(
    "facts",
    [
        StorageFacts("b", False, True, True, True),
        StorageFacts("b", True, False, True, True),
        StorageFacts("b", True, True, False, True),
        StorageFacts("b", True, True, None, True),  # None only where the platform guarantees it
    ],
)
def test_storage_check_catches(facts: StorageFacts) -> None:
    with pytest.raises(AssertionError):
        check_storage_locked_down([facts], _Adapter())  # type: ignore[arg-type]


def test_series_parallel_detection() -> None:
    assert n_free(DAG)
    crossed = Dag(
        tasks=("a", "b", "c", "d"),
        reads={},
        writes={},
        ancestors={"a": frozenset(), "b": frozenset(), "c": frozenset("ab"), "d": frozenset("b")},
    )
    assert not n_free(crossed)


def _task(name: str, **more: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": name,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
        **more,
    }


def test_step_functions_reader_follows_sequences_branches_and_choices() -> None:
    machine = {
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "A"}],
                "Default": "B",
            },
            "A": _task("a", Next="Both"),
            "B": _task("b", Next="Both"),
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {"C": _task("c", Next="D"), "D": _task("d", End=True)},
                    },
                    {"StartAt": "E", "States": {"E": _task("e", End=True)}},
                ],
                "Next": "F",
            },
            "F": _task("f", Next="Done"),
            "Done": {"Type": "Succeed"},
            "Failed": _task("never", Next="Stop"),  # reached only through Catch: not run
            "Stop": {"Type": "Fail"},
        },
    }
    found = dict(aws_asl.finished_before(machine, lambda s: s["Resource"]))
    assert found == {
        "a": frozenset(),
        "b": frozenset(),
        "c": frozenset(),  # a or b ran, but neither on every path
        "d": frozenset("c"),
        "e": frozenset(),
        "f": frozenset("cde"),
    }
    assert aws_asl.expressions(machine) == ["Variable=$.x"]


def test_hostile_shape_catches_text_that_became_code() -> None:
    inert = _shape("p.py", b"x = 'plain'\n")
    assert inert == _shape("p.py", b"x = 'other text'\n")
    assert inert != _shape("p.py", b"x = f'{__import__(\"os\").getcwd()}'\n")
    data = _shape("d.json", b'{"k": "plain", "n": 1}')
    assert data == _shape("d.json", b'{"k": "other", "n": 1}')
    assert data != _shape("d.json", b'{"k": "plain", "n": 1, "k.$": "$.secret"}')
