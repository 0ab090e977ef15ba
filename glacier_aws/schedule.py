"""Five-field cron schedules as EventBridge ``cron(...)`` expressions.

The schedule is parsed once by :class:`glacier.compilation.cron.Cron`; this module only
translates. EventBridge cron differs from the classic one: six fields (a year), days of the
week 1-7 from Sunday, exactly one of day-of-month / day-of-week set to ``?``, and no steps in
day-of-week. ``glacier_aws.stepfunctions`` re-exports :func:`schedule_expression` (the
compiler's contract).
"""

from __future__ import annotations

from glacier.compilation.cron import Cron, CronError, CronField
from glacier.errors import CompilationError

_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _schedule_error(cron: object, problem: str) -> CompilationError:
    msg = f"schedule {cron!r} cannot be expressed as an EventBridge cron expression: {problem}"
    return CompilationError(msg)


def _compact(numbers: list[int]) -> str:
    """Sorted day numbers as EventBridge writes them: runs of three or more as ranges."""
    parts: list[str] = []
    run = [numbers[0]]
    for n in [*numbers[1:], None]:
        if n is not None and n == run[-1] + 1:
            run.append(n)
            continue
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
        if n is not None:
            run = [n]
    return ",".join(parts)


def _day_of_week(field: CronField) -> str:
    """A cron day-of-week field in EventBridge numbering (1-7 from Sunday), or ``?``."""
    if field.special is not None:  # "5L" (last Friday), "5#3" (third Friday)
        day, mark = field.special[:-1], field.special[-1:]
        if "#" in field.special:
            day, _, nth = field.special.partition("#")
            mark = f"#{nth}"
        number = _DAY_NAMES.index(day) if day in _DAY_NAMES else int(day) % 7
        return f"{number + 1}{mark}"
    if not field.restricted or len(field.values) == 7:
        return "?"
    return _compact(sorted(d + 1 for d in field.values))


def schedule_expression(cron: str | Cron) -> str:
    """A five-field cron (min hour dom month dow) as EventBridge ``cron(min hour dom month dow year)``.

    EventBridge numbers days of the week 1-7 from Sunday (cron: 0-6, 7 also Sunday) and needs
    ``?`` in day-of-month or day-of-week. Cron runs when *either* a restricted day-of-month or
    a restricted day-of-week matches; EventBridge cannot express both at once, so that is an
    error. Day-of-week steps and ranges are expanded (``1-5`` -> ``2-6``, ``*/2`` ->
    ``1,3,5,7``) because EventBridge has no steps there.
    """
    try:
        parsed = cron if isinstance(cron, Cron) else Cron.parse(cron)
    except CronError as exc:
        raise _schedule_error(cron, exc.problem) from None
    dow = _day_of_week(parsed.day_of_week)
    dom = parsed.day_of_month.text
    if parsed.day_of_month.restricted and dow != "?":
        raise _schedule_error(
            parsed.text,
            "it restricts both day-of-month and day-of-week (cron runs when either matches; "
            "EventBridge needs '?' in one of them); use '*' for one of the two fields",
        )
    if dow != "?":
        dom = "?"
    elif dom == "?":
        dom = "*"  # neither day field restricts: EventBridge still wants '?' in exactly one
    minute, hour, month = parsed.minute.text, parsed.hour.text, parsed.month.text
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


__all__ = ["schedule_expression"]
