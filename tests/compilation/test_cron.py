"""One parsed ``Cron``: pipeline validation, the EventBridge schedule and the cost estimate
all read the same parse, so a schedule the pipeline accepts means the same everywhere."""

from __future__ import annotations

import re

import pytest

from glacier import Pipeline
from glacier.compilation.cron import Cron, CronError
from glacier.errors import CompilationError, DefinitionError
from glacier_aws.cost import runs_per_month
from glacier_aws.schedule import schedule_expression


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ("*/0 * * * *", "minute"),
        ("0 */0 * * *", "hour"),
        ("0 0 1-31/0 * *", "day-of-month"),
        ("0 0 * 0/0 *", "month"),
        ("0 0 * * MON-FRI/0", "day-of-week"),
    ],
)
def test_a_zero_step_is_refused_naming_its_field(schedule: str, field: str) -> None:
    """``*/0`` was accepted, and divided by zero when the cost estimate counted runs."""
    quoted = re.escape(repr(schedule))
    with pytest.raises(
        DefinitionError,
        match=rf"^pipeline 'p': schedule {quoted} is not a cron "
        rf"expression \({field} step 0 in '.*' never advances; a step must be 1 or more\); expected five",
    ):
        Pipeline(name="p", schedule=schedule)


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("0 L * * *", r"hour field 'L' may only use digits"),
        ("0 0 * * L", r"day-of-week 'L' is not 0-7 or SUN-SAT"),
        ("0 0 1#2 * *", r"day-of-month field '1#2' may only use digits"),
        ("0 0 * * 5-1", r"day-of-week range '5-1' runs backwards"),
        ("0 0 32W * *", r"day-of-month 32 is out of range \(1-31\)"),
    ],
)
def test_what_no_scheduler_runs_is_refused_when_the_pipeline_is_declared(
    schedule: str, problem: str
) -> None:
    """These passed ``Pipeline(...)`` and failed only at ``glacier compile``."""
    with pytest.raises(DefinitionError, match=rf"is not a cron expression \({problem}"):
        Pipeline(name="p", schedule=schedule)


def test_the_fields_parse_into_the_values_they_select() -> None:
    cron = Cron.parse("*/20 9-17/4 ? jan,Jun mon-fri")
    assert cron.minute.values == {0, 20, 40} and cron.hour.values == {9, 13, 17}
    assert cron.month.values == {1, 6} and cron.day_of_week.values == {1, 2, 3, 4, 5}
    assert not cron.day_of_month.restricted and cron.day_of_week.restricted
    assert Cron.parse("0 0 * * 5-7").day_of_week.values == {0, 5, 6}  # 7 is Sunday too
    assert Cron.parse("5/15 * * * *").minute.values == {5, 20, 35, 50}
    last_friday = Cron.parse("0 0 * * 5L").day_of_week
    assert last_friday.special == "5L" and last_friday.count() == 1
    assert Cron.parse("0 2 * * *") is Cron.parse("0 2 * * *")  # parsed once


def test_not_a_string_is_refused() -> None:
    with pytest.raises(CronError, match=r"schedule 5 is not a cron expression \(expected a str"):
        Cron.parse(5)


def test_every_consumer_reads_the_same_parse() -> None:
    """The EventBridge translation reports the parser's own problem; the cost estimate counts
    the values the parser selected (``*/7`` fires 9 times an hour, not 60/7)."""
    with pytest.raises(
        CompilationError,
        match=r"schedule '\*/0 \* \* \* \*' cannot be expressed as an EventBridge cron "
        r"expression: minute step 0 in '\*/0' never advances; a step must be 1 or more",
    ):
        schedule_expression("*/0 * * * *")
    assert schedule_expression(Cron.parse("0 9 * * mon-fri")) == "cron(0 9 ? * 2-6 *)"
    assert runs_per_month("*/7 * * * *") == pytest.approx(9 * 24 * 30)
    assert runs_per_month("0 0 * JAN,JUL *") == pytest.approx(30 * 2 / 12)
