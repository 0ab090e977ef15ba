"""A task's environment variables in effect while its function runs, and only then.

``os.environ`` belongs to the whole process, and a local run calls some tasks in parallel
threads. So a task with an ``env`` is called alone: no other task function runs while its
variables are set, and they are put back as they were (unset, or the previous value) before
any other task is called. Tasks without an ``env`` are called concurrently with each other, as
before. A task's own changes to other variables are its business (the cloud runtime undoes
those between invocations, a local run does not).

Only the task *function* runs inside its environment: the Polars query built from the frames it
returns may run later, fused with other tasks' queries, outside it. Read variables in the task
body, not from inside a Polars expression evaluated at query time. See
``docs/decisions/065-local-env.md``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class _Gate:
    """A shared/exclusive lock: many tasks without an env, or one task with one.

    Re-entrant for the thread that holds it (a task that runs a pipeline inline), and it
    prefers sharing, so a task never waits on a task that is waiting on it in the same thread.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers: dict[int, int] = {}  # thread id -> how many shared holds
        self._writer: int | None = None
        self._writes = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            while self._writer not in (None, me):
                self._cond.wait()
            self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                left = self._readers.pop(me) - 1
                if left:
                    self._readers[me] = left
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            while self._writer not in (None, me) or any(t != me for t in self._readers):
                self._cond.wait()
            self._writer = me
            self._writes += 1
        try:
            yield
        finally:
            with self._cond:
                self._writes -= 1
                if not self._writes:
                    self._writer = None
                self._cond.notify_all()


_gate = _Gate()
# a child forked while another thread held the gate must not inherit a lock nobody releases
if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_gate._reset)


@contextmanager
def task_environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """``env`` set in ``os.environ`` for the duration of the block, then restored exactly."""
    if not env:
        with _gate.shared():
            yield
        return
    with _gate.exclusive():
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old


__all__ = ["task_environment"]
