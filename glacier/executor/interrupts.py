"""Stopping a local run on Ctrl-C or SIGTERM with nothing left behind.

An interrupted run aborts its pending writes (temporary folders and write locks), records the
tasks that committed (the next run skips them) and releases its run lock, all on the way out
of a ``KeyboardInterrupt``. Two things would cut that cleanup short:

- SIGTERM (``kill``, ``docker stop``, a CI timeout) ends Python at once by default;
- one Ctrl-C during a Polars query raises *two* KeyboardInterrupts: Polars stops the query and
  raises one, then Python's own handler raises another at the next line, in the middle of
  the cleanup (seen with Polars 2.1).

So while a run is going, SIGINT and SIGTERM raise KeyboardInterrupt unless one is already
propagating (then the signal is dropped and the cleanup runs to its end). Handlers a program
installed itself are still called; signals it ignores stay ignored.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt once while the block runs (see above)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only ever handled in the main thread
        return
    previous: dict[int, Any] = {}
    for sig in _SIGNALS:
        handler = signal.getsignal(sig)
        if handler is signal.SIG_IGN or handler is None:  # ignored on purpose, or not Python's
            continue
        previous[sig] = handler
        signal.signal(sig, functools.partial(_stop, handler))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(previous: Any, signum: int, frame: FrameType | None) -> None:
    if isinstance(sys.exc_info()[1], KeyboardInterrupt):
        return  # already stopping: let the cleanup finish
    if callable(previous) and previous is not signal.default_int_handler:
        previous(signum, frame)  # the program's own handler decides
        return
    raise KeyboardInterrupt


__all__ = ["stop_on_signals"]
