"""Failure messages that point at the user's code: one line, then ``file:line``.

A task's exception is reported by its first meaningful line (a Polars error carries the whole
query plan after it; that stays in ``TaskResult.error`` and the ``--debug`` traceback) and the
place in the user's code where it was raised: the innermost traceback frame that is not in
Glacier, Polars or the standard library. An error raised while Polars computed a fused query
has no such frame, so the task function's definition is named instead.
"""

from __future__ import annotations

import inspect
import os
import sysconfig
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import polars

from glacier.errors import SchemaError, TaskFailedError, TaskSchemaError
from glacier.executor.result import RunResult

#: Folders whose frames are not the user's code.
_LIBRARY_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {
        str(Path(__file__).resolve().parents[1]),  # the glacier package
        os.path.dirname(polars.__file__),
        sysconfig.get_paths().get("stdlib", ""),
        sysconfig.get_paths().get("platstdlib", ""),
        sysconfig.get_paths().get("purelib", ""),
        sysconfig.get_paths().get("platlib", ""),
    }
    if p
)
#: Lines of a Polars error after which only the plan follows.
_PLAN_MARKERS = ("Resolved plan until failure", "This error occurred with the following context")


def first_line(text: str, limit: int = 300) -> str:
    """The first meaningful line of an error message, at most ``limit`` characters."""
    for marker in _PLAN_MARKERS:
        text = text.split(marker, 1)[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if line.endswith(":") and len(lines) > 1:  # "ValueError:" then the message on the next line
        line = f"{line} {lines[1]}"
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def _is_user_file(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    return not path.startswith(_LIBRARY_DIRS)


def _shown(filename: str) -> str:
    path = Path(filename).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def user_frame(exc: BaseException | None) -> str | None:
    """``file:line`` of the innermost frame of ``exc``'s traceback in the user's code."""
    found: str | None = None
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb: TracebackType | None = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if _is_user_file(code.co_filename):
                found = f"{_shown(code.co_filename)}:{tb.tb_lineno}"
            tb = tb.tb_next
        if found is not None:
            return found
        exc = exc.__cause__ or exc.__context__
    return None


def definition(fn: Any) -> str | None:
    """``file:line`` where a task function is defined."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None or not _is_user_file(code.co_filename):
        return None
    return f"{_shown(code.co_filename)}:{code.co_firstlineno}"


def where(exc: BaseException | None, fn: Any) -> str:
    """`` (at file:line)`` of the failure in the user's code, or of the task's definition."""
    at = user_frame(exc)
    if at is not None:
        return f" (at {at})"
    defined = definition(fn)
    if defined is not None:
        return f" (in the query of the task defined at {defined})"
    return ""


#: Where the rest of a cut error is: the command line sets its flag (see ``hint``).
_HINT = ["the full error is in result.tasks[name].error"]


def debug_hint() -> str:
    """Where the rest of a cut error message can be read."""
    return _HINT[-1]


@contextmanager
def hint(text: str) -> Iterator[None]:
    """Within the block, cut errors say ``text`` about where the rest is."""
    _HINT.append(text)
    try:
        yield
    finally:
        _HINT.pop()


def raise_if_failed(result: RunResult, tasks: Mapping[str, Any]) -> None:
    """TaskFailedError (TaskSchemaError for a schema failure) naming the first failed task,
    its error's first line and where in the user's code it happened; None if none failed."""
    if not result.failed:
        return
    name = result.failed[0]
    failed = result.tasks[name]
    attempts = f" after {failed.attempts} attempts" if failed.attempts > 1 else ""
    task = tasks.get(name)
    line = first_line(failed.error or "")
    cut = "" if line == " ".join((failed.error or "").split()) else f"; {debug_hint()}"
    msg = (
        f"task {name!r} failed{attempts}: {line}{where(failed.exception, getattr(task, 'fn', None))}"
        f"{cut}. Datasets that finished were kept; fix the task and run again to resume from there"
    )
    if len(result.failed) > 1:
        msg += f" (also failed: {', '.join(result.failed[1:])})"
    error = TaskSchemaError if isinstance(failed.exception, SchemaError) else TaskFailedError
    raise error(msg, task=name, result=result) from failed.exception


__all__ = [
    "debug_hint",
    "definition",
    "first_line",
    "hint",
    "raise_if_failed",
    "user_frame",
    "where",
]
