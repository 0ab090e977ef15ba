"""A cron step of 0 never advances: refused when the pipeline is declared, naming the field."""

from __future__ import annotations

import re

import pytest

from glacier import Pipeline
from glacier.errors import CompilationError, DefinitionError
from glacier_aws.stepfunctions import schedule_expression


@pytest.mark.parametrize(
    ("schedule", "field", "part"),
    [
        ("*/0 * * * *", "minute", "*/0"),
        ("0/0 * * * *", "minute", "0/0"),
        ("1-5/0 * * * *", "minute", "1-5/0"),
        ("0 */00 * * *", "hour", "*/00"),
        ("0 0 1,10-20/0 * *", "day-of-month", "10-20/0"),
        ("0 0 * */0 *", "month", "*/0"),
        ("0 0 * * MON-FRI/0", "day-of-week", "MON-FRI/0"),
    ],
)
def test_a_zero_step_is_refused_naming_the_field(schedule: str, field: str, part: str) -> None:
    pattern = (
        rf"pipeline 'nightly': schedule '{re.escape(schedule)}' is not a cron expression "
        rf"\({field} step 0 in '{re.escape(part)}' never advances; a step must be 1 or more\)"
    )
    with pytest.raises(DefinitionError, match=pattern):
        Pipeline(name="nightly", schedule=schedule)


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("*/ * * * *", r"minute field '\*/' may only use digits"),
        ("0 0 * */JAN *", r"month field '\*/JAN' may only use digits or JAN-DEC"),
        ("1/2/3 * * * *", r"minute field '1/2/3' may only use digits"),
        ("0 /5 * * *", r"hour field '/5' may only use digits"),
    ],
)
def test_a_step_that_is_not_a_number_is_refused(schedule: str, problem: str) -> None:
    with pytest.raises(DefinitionError, match=problem):
        Pipeline(schedule=schedule)


def test_steps_of_one_or_more_are_kept() -> None:
    for schedule in ("*/1 * * * *", "0-30/15 */2 1-31/10 */3 1-5/2", "5/10 * * * *"):
        assert Pipeline(schedule=schedule).schedule == schedule


@pytest.mark.parametrize(
    ("cron", "field"),
    [("*/0 * * * *", "minute"), ("0 1-5/00 * * *", "hour"), ("0 0 */0 * *", "day-of-month")],
)
def test_the_eventbridge_converter_refuses_a_zero_step_too(cron: str, field: str) -> None:
    with pytest.raises(CompilationError, match=rf"{field} step 0 in .* never advances"):
        schedule_expression(cron)
