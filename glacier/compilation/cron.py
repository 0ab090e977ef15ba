"""Five-field cron schedules, parsed once into a :class:`Cron` every consumer reads.

``Pipeline(schedule=...)`` validates with it, a provider translates it into its scheduler's
syntax, and cost estimates count its runs: one grammar, one set of error messages.

Grammar (classic cron, plus the day specials cloud schedulers accept): five space-separated
fields, minute (0-59), hour (0-23), day-of-month (1-31), month (1-12 or JAN-DEC) and
day-of-week (0-7 or SUN-SAT, 0 and 7 both Sunday). A field is a comma-separated list of
``*``, ``N``, ``N-M``, each optionally ``/S`` (a step of at least 1); ``?`` means "any" in the
two day fields. Standing alone, day-of-month may be ``L`` (last day), ``LW`` (last weekday)
or ``NW`` (weekday nearest day N), and day-of-week ``NL`` (last such day of the month) or
``N#K`` (the K-th such day, K 1-5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from glacier.errors import DefinitionError

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: (name, lowest, highest, names for 0.. or 1..) of the five fields, in order.
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"(\*|[0-9A-Z]+)(?:-([0-9A-Z]+))?(?:/([0-9]+))?")
_DOM_SPECIAL = re.compile(r"L|LW|([0-9]{1,2})W")
_DOW_SPECIAL = re.compile(r"([0-7]|[A-Z]{3})(L|#[1-5])")
#: What each field may hold, for messages.
_ALLOWED = {
    "minute": "digits, '*', ',', '-' and '/'",
    "hour": "digits, '*', ',', '-' and '/'",
    "day-of-month": "digits, '*', '?', ',', '-' and '/', or stand alone as 'L', 'LW' or 'NW'",
    "month": "digits or JAN-DEC, '*', ',', '-' and '/'",
    "day-of-week": "digits or SUN-SAT, '*', '?', ',', '-' and '/', or stand alone as 'NL' or 'N#K'",
}
#: How much of a refused schedule a message quotes: it may come from a config file.
_SHOWN = 80


class CronError(DefinitionError):
    """A schedule that is not a five-field cron expression; ``problem`` says why."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class CronField:
    """One field: its text (upper-cased) and the values it selects (day-of-week 0-6, Sunday
    0), or a day field's ``L``/``W``/``#`` form as ``special`` (then ``values`` is empty)."""

    name: str
    text: str
    values: frozenset[int]
    special: str | None = None

    @property
    def restricted(self) -> bool:
        """The field narrows the schedule: it is not ``*`` or ``?``."""
        return self.text not in ("*", "?")

    def count(self) -> int:
        """How many values the field selects (a special selects one day)."""
        return 1 if self.special is not None else len(self.values)


@dataclass(frozen=True)
class Cron:
    """A parsed five-field cron expression. Make one with :meth:`parse`."""

    text: str
    minute: CronField
    hour: CronField
    day_of_month: CronField
    month: CronField
    day_of_week: CronField

    @classmethod
    def parse(cls, text: object) -> Cron:
        """``text`` parsed; raises :class:`CronError` (a DefinitionError) naming the field
        and the value that is wrong."""
        if not isinstance(text, str):
            raise _error(text, f"expected a str, found {type(text).__name__}")
        return _parse(text)

    def __str__(self) -> str:
        return self.text


def _error(text: object, problem: str, owner: str = "") -> CronError:
    """The one message every schedule error has; ``problem`` is empty for a wrong shape."""
    shown = repr(text)
    shown = shown if len(shown) <= _SHOWN else f"{shown[:_SHOWN]}..."
    where = f"{owner}: " if owner else ""
    detail = f" ({problem})" if problem else ""
    msg = (
        f"{where}schedule {shown} is not a cron expression{detail}; expected five "
        "space-separated fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * *'"
    )
    return CronError(
        msg, problem or "expected five fields (minute hour day-of-month month day-of-week)"
    )


@lru_cache(maxsize=256)
def _parse(text: str) -> Cron:
    parts = text.split(" ")
    if len(parts) != 5 or not all(parts):
        raise _error(text, "")
    minute, hour, dom, month, dow = (
        _field(text, part, spec) for part, spec in zip(parts, _FIELDS, strict=True)
    )
    return Cron(text, minute, hour, dom, month, dow)


def _field(text: str, given: str, spec: tuple[str, int, int, tuple[str, ...]]) -> CronField:
    """One field; ``given`` is quoted in messages, its upper-cased form is parsed."""
    name, part = spec[0], given.upper()
    if name == "day-of-month" and (special := _DOM_SPECIAL.fullmatch(part)):
        if special.group(1) is not None:
            _value(text, given, special.group(1), spec)
        return CronField(name, part, frozenset(), part)
    if name == "day-of-week" and (special := _DOW_SPECIAL.fullmatch(part)):
        _value(text, given, special.group(1), spec)
        return CronField(name, part, frozenset(), part)
    any_day = part == "?" and name in ("day-of-month", "day-of-week")
    values: set[int] = set()
    for item in ("*" if any_day else part).split(","):
        values |= _item(text, given, item, spec)
    if name == "day-of-week":
        values = {v % 7 for v in values}
    return CronField(name, part, frozenset(values))


def _item(text: str, part: str, item: str, spec: tuple[str, int, int, tuple[str, ...]]) -> set[int]:
    name, low, high, _ = spec
    found = _ITEM.fullmatch(item)
    if not found:
        raise _error(text, f"{name} field {part!r} may only use {_ALLOWED[name]}")
    start, end, step = found.groups()
    if step is not None and int(step) == 0:
        raise _error(text, f"{name} step 0 in {item!r} never advances; a step must be 1 or more")
    if start == "*":
        if end is not None:
            raise _error(text, f"{name} field {part!r} may only use {_ALLOWED[name]}")
        first, last = low, high
    else:
        first = _value(text, part, start, spec)
        last = first if end is None else _value(text, part, end, spec)
        if end is None and step is not None:
            last = high  # "5/15": from 5 to the end of the field's range
    if last < first:
        raise _error(text, f"{name} range {item!r} runs backwards")
    return set(range(first, last + 1, int(step or 1)))


def _value(text: str, part: str, token: str, spec: tuple[str, int, int, tuple[str, ...]]) -> int:
    name, low, high, names = spec
    if token.isdigit():
        number = int(token)
        if not low <= number <= high:
            raise _error(text, f"{name} {number} is out of range ({low}-{high})")
        return number
    if token in names:
        return names.index(token) + (1 if name == "month" else 0)
    if name == "day-of-week":
        raise _error(text, f"day-of-week {token!r} is not {low}-{high} or SUN-SAT")
    raise _error(text, f"{name} field {part!r} may only use {_ALLOWED[name]}")


def check_schedule(schedule: object, owner: str) -> str | None:
    """``schedule`` when it is None or a valid cron expression; else a CronError naming
    ``owner`` (``"pipeline 'x'"``)."""
    if schedule is None:
        return None
    try:
        Cron.parse(schedule)
    except CronError as exc:
        problem = "" if exc.problem.startswith("expected five fields") else exc.problem
        raise _error(schedule, problem, owner) from None
    assert isinstance(schedule, str)
    return schedule


#: Runs a month assumed for a pipeline without a schedule (one manual run a day).
UNSCHEDULED_RUNS_PER_MONTH = 30


def runs_per_month(schedule: str | None) -> float:
    """Scheduled runs in a 30-day month, for cost estimates: a restricted day-of-week fires
    on that share of a month's days, else a restricted day-of-month on that many days."""
    if not schedule:
        return UNSCHEDULED_RUNS_PER_MONTH
    cron = Cron.parse(schedule)
    per_day = cron.minute.count() * cron.hour.count()
    days = 30.0
    if cron.day_of_week.restricted:
        days = 30 * cron.day_of_week.count() / 7
    elif cron.day_of_month.restricted:
        days = min(cron.day_of_month.count(), 30)
    return per_day * days * cron.month.count() / 12


__all__ = [
    "UNSCHEDULED_RUNS_PER_MONTH",
    "Cron",
    "CronError",
    "CronField",
    "check_schedule",
    "runs_per_month",
]
