"""One attempt of a task in a process of its own, which Glacier kills when the attempt's
timeout passes (see ``glacier.executor.timeouts`` for when this is used).

The process is started fresh (``python -c``, never ``fork``: forking a process whose Polars
thread pool runs can deadlock) in a session of its own, so killing its process group also
ends what the task started. Parent and worker talk through files in a scratch folder:

- ``request.pickle``: how to find the task (module and qualified name, or the pipeline's
  REF), a fingerprint of its code, its params, and its inputs: a LazyFrame as its pickled
  Polars plan, a DataFrame (or a plan that holds Python functions and cannot be pickled)
  as an Arrow IPC file.
- ``ready``: created once the task is found and its inputs are read; the timeout counts
  from there, so starting Python and importing the task's module do not eat into it.
- ``output-<dataset>.arrow``: each output, computed by the worker (one Polars query).
- ``report.pickle``: the outputs, or the error (pickled when it can be, else its type,
  message and whether it is retryable), or why the worker could not find the same task
  (then the parent runs the attempt in its own process instead).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from glacier.task import Task

#: Seconds a worker may take to start: import Python, Polars, the task's module, read inputs.
STARTUP_LIMIT = 120.0

_BOOT = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[2]); "
    "from glacier.executor.worker_main import main; sys.exit(main(sys.argv[1]))"
)


class WorkerUnavailable(Exception):
    """A worker process cannot run this task's attempt (it cannot find the same task)."""


class WorkerError(Exception):
    """An error a worker reported that could not be unpickled here: its type and message."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class RemoteTraceback(Exception):
    """The worker's traceback, chained to the error it raised (as concurrent.futures does)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


# -- the parent's side -----------------------------------------------------------------------


def run_in_worker(
    task: Task,
    where: tuple[str, ...],
    inputs: Mapping[str, pl.LazyFrame | pl.DataFrame],
    params: Mapping[str, Any] | None,
    folder: str,
    env: Mapping[str, str] | None = None,
    cancelled: threading.Event | None = None,
) -> dict[str, pl.DataFrame]:
    """The task's outputs, computed in a worker process within ``task.timeout`` seconds.

    ``folder``: an empty scratch folder the caller removes afterwards. Raises TimeoutError
    once the worker is killed and reaped (KeyboardInterrupt once ``cancelled`` is set),
    WorkerUnavailable when it cannot find the task, or the task's own error. ``env`` reaches
    the worker as its process environment, never through the request file on disk.
    """
    assert task.timeout is not None
    request = {
        "where": where,
        "code": code_fingerprint(task.fn),
        "inputs": _ship_inputs(inputs, folder),
        "params": dict(params or {}),
    }
    try:
        data = pickle.dumps(request)
    except Exception as exc:
        msg = f"its params cannot be pickled for a worker process ({type(exc).__name__}: {exc})"
        raise WorkerUnavailable(msg) from exc
    path = os.path.join(folder, "request.pickle")
    Path(path).write_bytes(data)
    if not sys.executable:
        raise WorkerUnavailable("this Python cannot start another (sys.executable is empty)")
    proc = subprocess.Popen(
        [sys.executable, "-c", _BOOT, path, json.dumps(sys.path)],
        stdin=subprocess.DEVNULL,
        start_new_session=os.name == "posix",
        env={**os.environ, **env} if env else None,
    )
    try:
        _wait(proc, folder, task.timeout, task.name, cancelled or threading.Event())
    finally:
        _end(proc)  # killed (with what it started) unless it already exited; always reaped
    return _outputs(folder, task.name, proc.returncode)


def _ship_inputs(
    inputs: Mapping[str, pl.LazyFrame | pl.DataFrame], folder: str
) -> dict[str, tuple[str, Any]]:
    shipped: dict[str, tuple[str, Any]] = {}
    for name, frame in inputs.items():
        if isinstance(frame, pl.LazyFrame):
            try:
                shipped[name] = ("plan", pickle.dumps(frame))
                continue
            except Exception:  # Python functions in the plan: send its data instead
                pass
        path = os.path.join(folder, f"input-{name}.arrow")
        if isinstance(frame, pl.DataFrame):
            frame.write_ipc(path)
        else:
            frame.sink_ipc(path)
        shipped[name] = ("ipc", path)
    return shipped


def _wait(
    proc: subprocess.Popen[bytes],
    folder: str,
    seconds: float,
    name: str,
    cancelled: threading.Event,
) -> None:
    """Until the worker exits; TimeoutError once it has run ``seconds`` after being ready,
    KeyboardInterrupt as soon as ``cancelled`` is set (the caller kills the worker)."""
    ready, started = os.path.join(folder, "ready"), time.monotonic()
    while not os.path.exists(ready):
        if proc.poll() is not None:
            return  # it exited before it was ready: its report says why
        if cancelled.is_set():
            raise KeyboardInterrupt(f"task {name!r}: the run was interrupted")
        if time.monotonic() - started > STARTUP_LIMIT:
            msg = (
                f"task {name!r}: its worker process did not start within {STARTUP_LIMIT:g}s "
                "(starting Python, importing the task's module, reading its inputs)"
            )
            raise TimeoutError(msg)
        time.sleep(0.005)
    deadline = time.monotonic() + seconds
    while True:
        try:
            proc.wait(min(0.05, max(0.0, deadline - time.monotonic())))
            return
        except subprocess.TimeoutExpired:
            if cancelled.is_set():
                raise KeyboardInterrupt(f"task {name!r}: the run was interrupted") from None
            if time.monotonic() >= deadline:
                msg = (
                    f"task {name!r} did not finish within its timeout of {seconds:g}s; "
                    "its worker process was killed"
                )
                raise TimeoutError(msg) from None


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill the worker and its process group if it still runs, and reap it."""
    if proc.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the task's children too
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()


def _outputs(folder: str, name: str, returncode: int) -> dict[str, pl.DataFrame]:
    path = Path(folder, "report.pickle")
    if not path.exists():
        how = (
            f"was killed by signal {-returncode}"
            if returncode < 0
            else f"exited with code {returncode}"
        )
        msg = (
            f"task {name!r}: its worker process {how} before it reported a result (out of "
            "memory, or the task ended the process)"
        )
        raise ChildProcessError(msg)
    report = pickle.loads(path.read_bytes())
    if "unavailable" in report:
        raise WorkerUnavailable(report["unavailable"])
    if "error" in report:
        raise _error_from(report)
    return {n: pl.read_ipc(p) for n, p in report["outputs"].items()}


def _error_from(report: Mapping[str, Any]) -> BaseException:
    exc: Any = None
    if report.get("pickled") is not None:
        try:
            exc = pickle.loads(report["pickled"])
        except Exception:
            exc = None
    if not isinstance(exc, BaseException):
        exc = WorkerError(f"{report['type']}: {report['error']}", report["retryable"])
    exc.__cause__ = RemoteTraceback(report["traceback"])
    return exc  # type: ignore[no-any-return]


# -- telling one function's code from another's --------------------------------------------


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """A digest of everything a task function's code reaches (``glacier.fingerprint``).

    Equal in two processes only when both compute the same thing: a global this process set at
    run time, a task made by a factory with other arguments, or a module edited since this
    process imported it all differ, and the attempt then runs in this process instead.
    """
    from glacier.fingerprint import Fingerprinter, sha

    parts = Fingerprinter().task(fn)
    return sha(
        *(repr(sorted(part.items())) for part in (parts.code, parts.values, parts.libraries)),
        repr(sorted(parts.problems)),
    )


__all__ = ["WorkerError", "WorkerUnavailable", "code_fingerprint", "run_in_worker"]
