"""Secret values replaced by ``***`` in everything Glacier shows: logs, errors, tracebacks.

A secret's value must never appear in a log line, an error message, a traceback, a run table
or a state file, on a laptop or in a cloud function. Values are registered as soon as they
are known (a local run resolves its tasks' secrets before any task runs; the cloud runtime
reads them from its environment) and stay registered for the life of the process:
redacting a value for too long is harmless, forgetting it too soon leaks it.

Each value is also registered as ``repr()`` and JSON would escape it (a secret holding a
quote or a newline appears escaped in an exception's repr or a JSON log) and, for a
multi-line value such as a PEM key, line by line.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

MASK = "***"
#: Lines of a multi-line secret shorter than this are not redacted alone (``-----END``...).
_MIN_LINE = 8

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(values: Iterable[str]) -> None:
    """Redact these values from now on (empty strings are ignored)."""
    global _pattern
    forms = {form for value in values for form in _forms(value)}
    with _lock:
        if forms <= _values:
            return
        _values.update(forms)
        longest_first = sorted(_values, key=lambda v: (-len(v), v))
        _pattern = re.compile("|".join(map(re.escape, longest_first)))


def _forms(value: str) -> set[str]:
    """How a value may appear in text: as is, escaped by repr() or JSON, and line by line."""
    if not isinstance(value, str) or not value:
        return set()
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1]}
    if "\n" in value:
        forms.update(line.strip() for line in value.splitlines() if len(line.strip()) >= _MIN_LINE)
    return {f for f in forms if f}


def redact(text: str) -> str:
    """``text`` with every registered secret value replaced by ``***``."""
    pattern = _pattern
    return text if pattern is None or not text else pattern.sub(MASK, text)


def contains_secret(text: str) -> bool:
    pattern = _pattern
    return pattern is not None and pattern.search(text) is not None


def redact_exception(exc: BaseException) -> BaseException:
    """``exc`` with secret values taken out of its message, notes and chained causes.

    Changed in place (its ``args`` and string attributes), so its class is kept and whoever
    holds it sees the redacted text. One whose text still shows a secret after that is
    replaced by a :class:`RedactedError` with the redacted text, traceback and cause.
    """
    if _pattern is None:
        return exc
    return _clean(exc, set())


@contextmanager
def redacting() -> Iterator[None]:
    """Whatever escapes the block leaves it with secret values redacted (see redact_exception)."""
    try:
        yield
    except BaseException as exc:
        clean = redact_exception(exc)
        if clean is exc:
            raise
        raise clean from clean.__cause__  # __suppress_context__: the original is not shown


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message and exception in place.

    On a logger it covers every handler that logger's records reach; on a handler, every
    record the handler writes (add it to your own handlers to cover the tasks' log lines).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        message = record.getMessage()
        if contains_secret(message):
            record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.exc_info = (record.exc_info[0], redact_exception(exc), exc.__traceback__)
            record.exc_text = None  # formatted again, from the redacted exception
        return True


class RedactedError(Exception):
    """Stands in for an exception whose message showed a secret and could not be cleaned."""


def _clean(exc: BaseException, seen: set[int]) -> BaseException:
    if id(exc) in seen:
        return exc
    seen.add(id(exc))
    for link in ("__cause__", "__context__"):
        linked = getattr(exc, link)
        if linked is not None:
            setattr(exc, link, _clean(linked, seen))
    try:
        shown = f"{exc}\n{exc!r}"
    except Exception:  # a broken __str__: nothing to show, nothing to leak
        return exc
    notes = getattr(exc, "__notes__", None)
    if not contains_secret(shown) and not (notes and contains_secret("\n".join(map(str, notes)))):
        return exc
    _scrub(exc)
    if not contains_secret(f"{exc}\n{exc!r}"):
        return exc
    stand_in = RedactedError(f"{type(exc).__qualname__}: {redact(str(exc))}")
    stand_in.__cause__, stand_in.__context__ = exc.__cause__, exc.__context__
    stand_in.__suppress_context__ = exc.__suppress_context__
    return stand_in.with_traceback(exc.__traceback__)


def _scrub(exc: BaseException) -> None:
    """Redact the strings an exception's text is usually made of, in place."""
    with suppress(Exception):  # args is read-only on a few C exceptions
        exc.args = tuple(_redacted(a) for a in exc.args)
    for name, value in list(getattr(exc, "__dict__", {}).items()):
        if isinstance(value, str | list | tuple):
            with suppress(Exception):
                setattr(exc, name, _redacted(value))


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_redacted(v) for v in value)
    return value


__all__ = [
    "MASK",
    "RedactedError",
    "RedactingFilter",
    "contains_secret",
    "redact",
    "redact_exception",
    "redacting",
    "register",
]
