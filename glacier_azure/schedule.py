"""Five-field cron schedules as a Logic App's Recurrence trigger.

The schedule is parsed once by :class:`glacier.compilation.cron.Cron`. A Recurrence runs
every week on ``weekDays`` at every listed ``hours`` and ``minutes`` (or every day, when no
day of the week is restricted), or every month on ``monthDays``; it cannot restrict the month
of the year, nor both kinds of day at once, nor use the day specials (``L``, ``W``, ``#``):
such a schedule is a CompilationError with a fix. The time zone is the trigger's ``timeZone``
(a Windows time zone name; default ``UTC``), the stack's ``glacier:timeZone`` config.
"""

from __future__ import annotations

from typing import Any

from glacier.compilation.cron import Cron, CronError
from glacier.errors import CompilationError

DEFAULT_TIME_ZONE = "UTC"
WEEK_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _refuse(text: str, why: str) -> CompilationError:
    return CompilationError(
        f"schedule {text!r} cannot be expressed as a Logic App Recurrence: {why}; run more "
        "often and let the task decide, or choose a schedule without it"
    )


def recurrence(cron: str) -> dict[str, Any]:
    """``cron`` as a Recurrence (without its time zone, which the stack's config chooses)."""
    try:
        parsed = Cron.parse(cron)
    except CronError as exc:
        raise CompilationError(
            f"schedule {cron!r} is not a cron expression: {exc.problem}"
        ) from None
    for field in (parsed.day_of_month, parsed.day_of_week):
        if field.special is not None:
            raise _refuse(parsed.text, f"its {field.name} uses {field.special!r}")
    if parsed.month.restricted:
        raise _refuse(parsed.text, "it restricts the month of the year")
    schedule: dict[str, Any] = {
        "hours": sorted(parsed.hour.values),
        "minutes": sorted(parsed.minute.values),
    }
    if parsed.day_of_month.restricted and parsed.day_of_week.restricted:
        raise _refuse(parsed.text, "it restricts both the day of the month and of the week")
    if parsed.day_of_month.restricted:
        schedule["monthDays"] = sorted(parsed.day_of_month.values)
        return {"frequency": "Month", "interval": 1, "schedule": schedule}
    if parsed.day_of_week.restricted:
        schedule["weekDays"] = [WEEK_DAYS[d % 7] for d in sorted(parsed.day_of_week.values)]
    return {"frequency": "Week" if "weekDays" in schedule else "Day", "interval": 1,
            "schedule": schedule}  # fmt: skip


__all__ = ["DEFAULT_TIME_ZONE", "recurrence"]
