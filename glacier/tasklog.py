"""A logger for task code: ``glacier.get_logger()`` inside a task is ``glacier.task.<name>``.

Tasks log with the standard :mod:`logging` module, so any handler a user configures sees
their lines. The name is taken from the task being called (a context variable set around the
call, per thread), so a helper function shared by several tasks logs under the task that
called it. ``glacier run`` shows the lines above its live progress (:class:`TaskLineHandler`);
in the cloud the runtime sends them to stderr with the task's name
(:func:`configure_for_runtime`), where CloudWatch Logs, Cloud Logging and Azure Monitor
collect a function's output.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: The parent of every task's logger.
TASK_LOGGER = "glacier.task"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("glacier_task", default=None)


def get_logger(name: str | None = None) -> logging.Logger:
    """The logger of the task running now (``glacier.task.<task>``), or of task ``name``.

    Outside a task, and without ``name``, it is ``glacier.task`` itself.
    """
    task = name if name is not None else _current.get()
    return logging.getLogger(TASK_LOGGER if task is None else f"{TASK_LOGGER}.{task}")


def current_task() -> str | None:
    """The name of the task whose function is running in this thread, if any."""
    return _current.get()


@contextmanager
def task_scope(name: str) -> Iterator[None]:
    """While the block runs, :func:`get_logger` names task ``name``."""
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


class TaskLineHandler(logging.Handler):
    """``task NAME | message`` on the *current* ``sys.stderr`` (a live progress display
    replaces it to print lines above itself, so the stream is looked up per line)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            task = record.name.removeprefix(TASK_LOGGER).lstrip(".") or "-"
            level = "" if record.levelno == logging.INFO else f"{record.levelname} "
            print(f"{task} | {level}{record.getMessage()}", file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


@contextmanager
def show_task_lines(level: int = logging.INFO) -> Iterator[None]:
    """Print the tasks' log lines (``level`` and up) on stderr while the block runs."""
    logger = logging.getLogger(TASK_LOGGER)
    handler = TaskLineHandler(level)
    old_level = logger.level
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def configure_for_runtime(level: int = logging.INFO) -> None:
    """In a cloud function: the tasks' lines reach stderr at ``level`` and up, each with its
    task's name, whatever the platform set on the root logger (Lambda's is at WARNING)."""
    logger = logging.getLogger(TASK_LOGGER)
    logger.setLevel(level)
    if not any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False  # one copy of each line, not another through the root's handler


__all__ = [
    "TASK_LOGGER",
    "TaskLineHandler",
    "configure_for_runtime",
    "current_task",
    "get_logger",
    "show_task_lines",
    "task_scope",
]
