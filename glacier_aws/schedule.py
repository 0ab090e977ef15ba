"""Five-field cron schedules as EventBridge ``cron(...)`` expressions.

EventBridge cron differs from the classic one: six fields (a year), days of the week 1-7 from
Sunday, exactly one of day-of-month / day-of-week set to ``?``, and no steps in day-of-week.
``glacier_aws.stepfunctions`` re-exports :func:`schedule_expression` (the compiler's contract).
"""

from __future__ import annotations

import re

from glacier.errors import CompilationError

_DOW_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_DOW_ITEM = re.compile(r"(\*|[0-7A-Z]{1,3})(?:-([0-7A-Z]{1,3}))?(?:/([1-9]\d*))?")
_DOW_SPECIAL = re.compile(r"([0-7]|[A-Z]{3})(L|#[1-5])")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_PLAIN_FIELDS = {
    "minute": re.compile(r"[0-9*/,-]+"),
    "hour": re.compile(r"[0-9*/,-]+"),
    "month": re.compile(rf"(?:[0-9*/,-]|{_MONTHS})+"),
}


_ZERO_STEP = re.compile(r"/0+(?:,|$)")


def _schedule_error(cron: str, problem: str) -> CompilationError:
    msg = f"schedule {cron!r} cannot be expressed as an EventBridge cron expression: {problem}"
    return CompilationError(msg)


def _day_number(token: str, cron: str) -> int:
    """A cron day-of-week (0-7 or SUN-SAT, 0 and 7 both Sunday) as 0-6."""
    if token in _DOW_NAMES:
        return _DOW_NAMES[token]
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    raise _schedule_error(cron, f"day-of-week {token!r} is not 0-7 or SUN-SAT")


def _days(field: str, cron: str) -> set[int]:
    """The set of cron days (0-6, Sunday = 0) a day-of-week field selects."""
    days: set[int] = set()
    for item in field.split(","):
        match = _DOW_ITEM.fullmatch(item)
        if not match:
            raise _schedule_error(cron, f"day-of-week item {item!r} is not understood")
        start, end, step = match.groups()
        if start == "*":
            first, last = 0, 6
        else:
            first = _day_number(start, cron)
            last = first if end is None else _day_number(end, cron)
            if end is not None and end == "7":
                last = 7  # "5-7" means Friday to Sunday
        if last < first:
            raise _schedule_error(cron, f"day-of-week range {item!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, int(step or 1)))
    return days


def _eventbridge_days(days: set[int]) -> str:
    """EventBridge day-of-week (1-7, Sunday = 1) for a set of cron days, as compact ranges."""
    numbers = sorted(d + 1 for d in days)
    parts: list[str] = []
    run = [numbers[0]]
    for n in numbers[1:]:
        if n == run[-1] + 1:
            run.append(n)
            continue
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
        run = [n]
    parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
    return ",".join(parts)


def _day_of_week(field: str, cron: str) -> str:
    """A cron day-of-week field in EventBridge numbering (or ``*``)."""
    special = _DOW_SPECIAL.fullmatch(field)
    if special:  # "5L" (last Friday), "5#3" (third Friday)
        return f"{_day_number(special.group(1), cron) + 1}{special.group(2)}"
    days = _days(field, cron)
    return "*" if len(days) == 7 else _eventbridge_days(days)


def schedule_expression(cron: str) -> str:
    """A five-field cron (min hour dom month dow) as EventBridge ``cron(min hour dom month dow year)``.

    EventBridge numbers days of the week 1-7 from Sunday (cron: 0-6, 7 also Sunday) and needs
    ``?`` in day-of-month or day-of-week. Cron runs when *either* a restricted day-of-month or
    a restricted day-of-week matches; EventBridge cannot express both at once, so that is an
    error, as are L/W/# outside the day fields. Day-of-week steps and ranges are expanded
    (``1-5`` -> ``2-6``, ``*/2`` -> ``1,3,5,7``) because EventBridge has no steps there.
    """
    fields = cron.upper().split() if isinstance(cron, str) else []
    if len(fields) != 5:
        raise _schedule_error(
            str(cron), "expected five fields (minute hour day-of-month month day-of-week)"
        )
    minute, hour, dom, month, dow = fields
    for label, value in (("minute", minute), ("hour", hour), ("month", month)):
        if not _PLAIN_FIELDS[label].fullmatch(value):
            names = " or JAN-DEC" if label == "month" else ""
            raise _schedule_error(
                cron, f"{label} field {value!r} may only use digits{names}, '*', ',', '-' and '/'"
            )
    for label, value in (
        ("minute", minute),
        ("hour", hour),
        ("day-of-month", dom),
        ("month", month),
    ):
        if _ZERO_STEP.search(value):
            raise _schedule_error(
                cron, f"{label} field {value!r} has a step of 0; a step must be 1 or more"
            )
    dow_value = "?" if dow in ("*", "?") else _day_of_week(dow, cron)
    if dow_value == "*":
        dow_value = "?"
    if dom not in ("*", "?") and dow_value != "?":
        raise _schedule_error(
            cron,
            "it restricts both day-of-month and day-of-week (cron runs when either matches; "
            "EventBridge needs '?' in one of them); use '*' for one of the two fields",
        )
    if dow_value != "?":
        dom = "?"
    elif dom == "?":
        dom = "*"  # neither day field restricts: EventBridge still wants '?' in exactly one
    return f"cron({minute} {hour} {dom} {month} {dow_value} *)"


__all__ = ["schedule_expression"]
