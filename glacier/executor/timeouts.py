"""Attempts of tasks with a timeout: when the timeout passes, the attempt is ended first.

An attempt is the task's call and the computing of its outputs, which come back as
DataFrames (written afterwards by the engine, like any task's outputs). When its timeout
passes, the attempt is ended *before* TimeoutError is raised: a retry never runs beside
it, and nothing it does (Python side effects, files, queries) lands after ``run()`` returns.

- A task a fresh Python process can import (by module and qualified name, or through the
  pipeline's REF) runs each attempt in a worker process (``glacier.executor.worker``),
  killed with its process group when the timeout passes.
- Any other task (defined in ``__main__`` or a notebook, or inside a function of a
  pipeline without a REF) runs its attempt in a thread of this process. When the timeout
  passes, its Polars queries are cancelled and an exception is raised in the thread, which
  Python delivers between two bytecodes; Glacier waits until the thread has ended. A call
  blocked in C (a sleep, a socket read, an eager ``collect()`` in the task) finishes first,
  so such a timeout can end late; it is never left running. A warning says so.

A worker process also runs an attempt only when the task it imports reaches the same code and
values as in this process (``code_fingerprint``); otherwise the attempt runs in a thread here.
A run that stops on an interrupt ends every attempt still running the same ways
(``TimedAttempts.cancel``) before ``run()`` raises.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.executor.worker import WorkerUnavailable, run_in_worker
from glacier.invoke import call_task

if TYPE_CHECKING:
    from glacier.task import Task

#: After this many seconds past its timeout, a thread that has not stopped is warned about.
_GRACE = 5.0
#: Seconds between two looks at whether the run was interrupted, while an attempt runs.
_POLL = 0.05


class TimedAttempts:
    """Runs the attempts of one run's tasks that have a timeout. ``ref``: the pipeline's REF."""

    def __init__(self, ref: str | None = None) -> None:
        self.ref = ref
        self._in_process: dict[str, str] = {}  # task name -> why no worker can run it
        self.cancelled = threading.Event()  # the run was interrupted: every attempt ends
        self._running = 0
        self._ended = threading.Condition()

    def cancel(self) -> None:
        """End every attempt running now, return once each has ended; later ones do not start."""
        self.cancelled.set()
        with self._ended:
            self._ended.wait_for(lambda: self._running == 0)

    def run(
        self,
        task: Task,
        inputs: Mapping[str, pl.LazyFrame | pl.DataFrame],
        params: Mapping[str, Any] | None,
        env: Mapping[str, str] | None = None,
    ) -> dict[str, pl.LazyFrame | pl.DataFrame]:
        """The task's outputs (DataFrames) computed within its timeout; else TimeoutError,
        raised once the attempt has ended."""
        with self._ended:
            if self.cancelled.is_set():
                raise KeyboardInterrupt(f"task {task.name!r}: the run was interrupted")
            self._running += 1
        try:
            return self._attempt(task, inputs, params, env)
        finally:
            with self._ended:
                self._running -= 1
                self._ended.notify_all()

    def _attempt(
        self,
        task: Task,
        inputs: Mapping[str, pl.LazyFrame | pl.DataFrame],
        params: Mapping[str, Any] | None,
        env: Mapping[str, str] | None,
    ) -> dict[str, pl.LazyFrame | pl.DataFrame]:
        why = self._in_process.get(task.name)
        where = None if why else _locate(task, self.ref)
        if where is not None:
            folder = tempfile.mkdtemp(prefix="glacier-attempt-")
            try:
                worker = run_in_worker(task, where, inputs, params, folder, env, self.cancelled)
                return dict(worker)
            except WorkerUnavailable as exc:
                why = f"a worker process could not run it: {exc}"
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        self._in_process[task.name] = why or _why_not(task)
        return run_stoppable(
            lambda attempt: _compute(call_task(task, inputs, params, env), attempt),
            task.timeout or 0.0,
            f"task {task.name!r}",
            self._in_process[task.name],
            self.cancelled,
        )


def _locate(task: Task, ref: str | None) -> tuple[str, ...] | None:
    """How a fresh process finds ``task``: ``("module", module, qualname, name)`` when this
    process has it at that name, else ``("ref", ref, name)`` with a REF, else None."""
    module, qualname = task.fn.__module__, task.fn.__qualname__
    if module != "__main__" and "<locals>" not in qualname:
        obj: Any = sys.modules.get(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if obj is task:
            return ("module", module, qualname, task.name)
    return ("ref", ref, task.name) if ref else None


def _why_not(task: Task) -> str:
    module, qualname = task.fn.__module__, task.fn.__qualname__
    if module == "__main__":
        return "it is defined in __main__ (a script or a notebook), which another process cannot import"
    return f"{module}.{qualname} cannot be imported by another process (defined inside a function?)"


# -- in this process: a thread that can be stopped ------------------------------------------


class _Stopped(BaseException):
    """Raised in an attempt's thread to end it (``except Exception`` in a task cannot catch it)."""


class Attempt:
    """One attempt running in its own thread; ``stop()`` ends it and returns once it ended."""

    def __init__(self, fn: Callable[[Attempt], Any]) -> None:
        self.fn = fn
        self.lock = threading.Lock()
        self.stoppable = True
        self.stopping = threading.Event()
        self.outcome: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._main, name="glacier-attempt", daemon=True)

    def _main(self) -> None:
        try:
            try:
                self.outcome["value"] = self.fn(self)
            except BaseException as exc:
                self.outcome["error"] = exc
            finally:
                self.shield()
        except _Stopped:
            pass  # landed while the outcome was being stored; shield() lets no other follow

    def shield(self) -> None:
        """From now on this thread is not stopped (call it from the attempt's own thread):
        no stop is sent any more, and one sent but not yet raised is dropped."""
        while True:
            try:
                with self.lock:
                    self.stoppable = False
                    _raise_in(threading.get_ident(), None)
                return
            except _Stopped:
                continue

    def stop(self, what: str, why: str) -> None:
        """Raise _Stopped in the thread (again and again, should it be caught) until it ended."""
        started = time.monotonic()
        warned = False
        self.stopping.set()
        while self.thread.is_alive():
            with self.lock:
                if self.stoppable and self.thread.ident is not None:
                    _raise_in(self.thread.ident, _Stopped)
            self.thread.join(0.05)
            if not warned and self.thread.is_alive() and time.monotonic() - started > _GRACE:
                warned = True
                msg = (
                    f"{what} passed its timeout and has not stopped yet: it runs in this process "
                    f"because {why}, and Python stops a thread only between two bytecodes, not "
                    "inside a call to C (a sleep, a socket read, a Polars collect() in the task). "
                    "Glacier waits until it has stopped. Define the task at module level in an "
                    "importable module (or run the pipeline from a REF) to have it killed on time"
                )
                warnings.warn(msg, RuntimeWarning, stacklevel=2)


def run_stoppable(
    fn: Callable[[Attempt], Any],
    seconds: float,
    what: str,
    why: str,
    cancelled: threading.Event | None = None,
) -> Any:
    """``fn(attempt)`` in a thread; after ``seconds`` (or once ``cancelled`` is set), stop it,
    wait until it ended, and raise TimeoutError (KeyboardInterrupt). ``why``: why it runs in
    this process, for the warning of a late stop."""
    attempt = Attempt(fn)
    attempt.thread.start()
    deadline = time.monotonic() + seconds
    try:
        while attempt.thread.is_alive() and time.monotonic() < deadline:
            if cancelled is not None and cancelled.is_set():
                raise KeyboardInterrupt(f"{what}: the run was interrupted")
            attempt.thread.join(min(_POLL, max(0.0, deadline - time.monotonic())))
    except BaseException:  # Ctrl-C while waiting: the attempt does not outlive the run either
        attempt.stop(what, why)
        raise
    if attempt.thread.is_alive():
        attempt.stop(what, why)
        msg = f"{what} did not finish within its timeout of {seconds:g}s; the attempt was stopped"
        raise TimeoutError(msg)
    if "error" in attempt.outcome:
        raise attempt.outcome["error"]
    return attempt.outcome["value"]


def _raise_in(ident: int, exc: type[BaseException] | None) -> None:
    """Have thread ``ident`` raise ``exc`` at its next bytecode (None: drop a pending one)."""
    api = getattr(ctypes, "pythonapi", None)
    if api is None:  # not CPython: the thread is waited for until it ends by itself
        return
    api.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc) if exc else None)


def _compute(
    outputs: Mapping[str, pl.LazyFrame | pl.DataFrame], attempt: Attempt
) -> dict[str, pl.DataFrame]:
    """Collect the lazy outputs as background queries, cancelled (and waited for) on a stop,
    which is seen as ``attempt.stopping`` here: never raised amid taking a query's result."""
    attempt.shield()
    done = {n: f for n, f in outputs.items() if isinstance(f, pl.DataFrame)}
    running: dict[str, Any] = {}
    try:
        for name, frame in outputs.items():
            if isinstance(frame, pl.LazyFrame):
                running[name] = frame.collect(background=True)  # a plan error raises here
        while running:
            if attempt.stopping.is_set():
                raise _Stopped
            for name, handle in list(running.items()):
                del running[name]  # a query whose error fetch() raised has ended
                result = handle.fetch()  # None until finished
                if result is None:
                    running[name] = handle
                else:
                    done[name] = result
            time.sleep(0.002)
    except BaseException:
        _cancel(running.values())
        raise
    return {n: done[n] for n in outputs}


def _cancel(handles: Iterable[Any]) -> None:
    """Cancel background queries and wait until each has stopped."""
    handles = list(handles)
    for handle in handles:
        handle.cancel()
    for handle in handles:
        # returns, or raises its own error (or a panic), once the query has stopped
        with contextlib.suppress(BaseException):
            handle.fetch_blocking()
