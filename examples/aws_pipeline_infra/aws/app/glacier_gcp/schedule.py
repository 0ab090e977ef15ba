"""Five-field cron schedules as Cloud Scheduler's unix-cron.

The schedule is parsed once by :class:`glacier.compilation.cron.Cron`; Cloud Scheduler reads
the classic five fields itself (with cron's meaning when both day fields are restricted: a day
matching either), so a schedule passes through unchanged, except that ``?`` (any) becomes
``*``. The day specials some schedulers accept (``L``, ``W``, ``#``) are not unix-cron: a
schedule using one is a CompilationError. The time zone is the stack's ``glacier:timeZone``
config (default ``Etc/UTC``).
"""

from __future__ import annotations

from glacier.compilation.cron import Cron, CronError
from glacier.errors import CompilationError

DEFAULT_TIME_ZONE = "Etc/UTC"


def scheduler_expression(cron: str | Cron) -> str:
    """``cron`` as Cloud Scheduler's unix-cron (``0 2 * * *`` stays ``0 2 * * *``)."""
    try:
        parsed = cron if isinstance(cron, Cron) else Cron.parse(cron)
    except CronError as exc:
        msg = f"schedule {cron!r} cannot be expressed for Cloud Scheduler: {exc.problem}"
        raise CompilationError(msg) from None
    for field in (parsed.day_of_month, parsed.day_of_week):
        if field.special is not None:
            msg = (
                f"schedule {parsed.text!r} cannot be expressed for Cloud Scheduler: its "
                f"{field.name} {field.special!r} is not unix-cron (no L, W or #); list the days "
                "instead, e.g. '0 2 28-31 * *' with a check in the task"
            )
            raise CompilationError(msg)
    fields = [f.text for f in (parsed.minute, parsed.hour, parsed.day_of_month, parsed.month,
                               parsed.day_of_week)]  # fmt: skip
    return " ".join("*" if f == "?" else f for f in fields)


__all__ = ["DEFAULT_TIME_ZONE", "scheduler_expression"]
