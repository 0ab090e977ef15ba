"""Lock files that hold across processes, containers and machines, and never block forever.

A run holds ``<root>/state/<pipeline>.lock`` and each dataset write holds
``.<file>.lock`` beside its file. A lock file says who holds it, as one line of JSON: the
holder's pid, its process start time (``/proc/<pid>/stat``), the machine's boot id
(``/proc/sys/kernel/random/boot_id``), its pid namespace (``/proc/self/ns/pid``), its host
name and a random token naming this one acquisition. A pid alone is ambiguous: in a container
every run can be pid 1, and two containers on one folder see different processes under one pid.

Whether a lock still holds, as seen by the process that wants it:

- held by a process of *this* machine, boot and pid namespace: it holds while that pid runs
  with the start time written in the lock; a dead pid, or a pid now used by a process started
  at another time, is a stale lock;
- held by anyone else (another container, machine or boot), whose processes cannot be seen
  from here: it holds while its heartbeat is fresh. A holder touches its locks (their mtime)
  every :data:`HEARTBEAT_EVERY` seconds from a daemon thread, and a lock not touched for
  :data:`STALE_AFTER` seconds is stale. Old pid-only locks are judged by their pid, and by the
  heartbeat window since they are never touched.

A lock naming this very process that no live :class:`Lock` of this process holds was left by
a run interrupted while releasing it (a notebook keeps the process): it is stale too.

A stale lock is broken with a warning naming it and its holder (see :func:`_break`); of many
runs breaking one stale lock, one gets it. Locks are created atomically: the record is written
to a private file, which is hard-linked to the lock's name. A holder whose lock was broken
finds out before it publishes anything: :meth:`Lock.held` checks the token in the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import socket
import threading
import time
import warnings
from dataclasses import asdict, dataclass

#: Seconds without a heartbeat after which a lock held from another machine, container or
#: boot is stale. A holder refreshes its locks every HEARTBEAT_EVERY seconds.
STALE_AFTER = 120.0
#: Seconds between two refreshes of the locks this process holds.
HEARTBEAT_EVERY = 10.0


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: the record written in the lock file."""

    pid: int
    host: str | None = None
    boot: str | None = None
    pidns: str | None = None
    start: str | None = None
    token: str | None = None
    since: float | None = None

    def describe(self) -> str:
        """``process 12 on host 'web-1' since 2025-01-02 03:04:05 UTC`` (as far as known)."""
        text = f"process {self.pid}"
        if self.host is not None:
            text += f" on host {self.host!r}"
        if isinstance(self.since, int | float):
            with contextlib.suppress(ValueError, OverflowError, OSError):  # a garbled record
                when = dt.datetime.fromtimestamp(self.since, dt.timezone.utc)
                text += f" since {when:%Y-%m-%d %H:%M:%S} UTC"
        return text


def identity() -> Holder:
    """This process as a lock holder, without a token (None for what the platform cannot tell)."""
    pid = os.getpid()
    return Holder(
        pid=pid,
        host=socket.gethostname(),
        boot=_read("/proc/sys/kernel/random/boot_id"),
        pidns=_readlink("/proc/self/ns/pid"),
        start=process_start(pid),
    )


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (``/proc/<pid>/stat`` field 22), or None."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rpartition(")")[2].split()  # the name in (...) may hold spaces
    return fields[19] if len(fields) > 19 else None


def _running(pid: int) -> bool:
    if pid <= 0:  # kill(0 or -1, 0) would ask about process groups
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    return True


class Lock:
    """A lock this process holds; ``release()`` removes it, ``held()`` checks it still does."""

    def __init__(self, path: str, holder: Holder) -> None:
        self.path = path
        self.holder = holder

    def held(self) -> bool:
        """Whether the lock file still carries this acquisition's token (it was not broken)."""
        try:
            found = read_holder(self.path)
        except OSError:  # unreadable: ownership cannot be shown
            return False
        return found is not None and found.token == self.holder.token

    def release(self) -> None:
        """Remove the lock if it is still this acquisition's (a broken one is left alone)."""
        if self.held():
            _remove(self.path)
        _heartbeat.forget(self.holder.token or "")

    def __repr__(self) -> str:
        return f"Lock({self.path!r}, {self.holder.describe()})"


def acquire(path: str) -> Lock | None:
    """Take the lock at ``path``, breaking it first if its holder is gone; None while a live
    holder has it (:func:`holder_of` says who). Any other OSError is the caller's."""
    me = dataclasses.replace(identity(), token=os.urandom(8).hex(), since=time.time())
    token = me.token or ""
    for _ in range(5):
        _heartbeat.add(token, path)  # before it exists: this process never breaks its own lock
        try:
            created = _create(path, me)
        except BaseException:
            _heartbeat.forget(token)
            raise
        if created:
            return Lock(path, me)
        _heartbeat.forget(token)
        seen = _read_with_mtime(path)
        if seen is None:
            continue  # released meanwhile: try again
        text, mtime = seen
        found = _parse(text)
        why = stale_reason(found, time.time() - mtime, text)
        if why is None:
            return None
        if _break(path, text):
            who = f" (held by {found.describe()})" if found is not None else ""
            msg = (
                f"broke the stale lock {path}{who}: {why}. If that run is in fact still "
                "alive, it stops before it publishes anything more"
            )
            warnings.warn(msg, stacklevel=3)
    return None


def holder_of(path: str) -> str:
    """Who holds the lock at ``path``, and when it counts as stale if its holder cannot be
    seen from here (for error messages)."""
    try:
        seen = _read_with_mtime(path)
    except OSError:
        seen = None
    found = None if seen is None else _parse(seen[0])
    if seen is None or found is None:
        return "an unknown process"
    if _same_namespace(found) and found.start is not None:
        return found.describe()
    age = max(0.0, time.time() - seen[1])
    return (
        f"{found.describe()}, refreshed {age:.0f}s ago; it is taken over once it goes "
        f"{STALE_AFTER:g}s without a refresh"
    )


def stale_reason(found: Holder | None, age: float, text: str = "") -> str | None:
    """Why a lock whose record is ``found`` and whose heartbeat is ``age`` seconds old no
    longer holds, or None while its holder may still be alive."""
    if found is None:
        if not text.strip():
            return "the lock file is empty (its writer was killed while creating it)"
        if age > STALE_AFTER:
            return f"it names no holder Glacier can read and was not refreshed for {age:.0f}s"
        return None
    if _same_namespace(found):
        if found.pid == os.getpid() and not _heartbeat.holds(found.token):
            return "this process took it and no longer holds it (an interrupted run)"
        if not _running(found.pid):
            return f"process {found.pid} is no longer running"
        start = process_start(found.pid)
        if found.start is not None and start is not None and start != found.start:
            return f"process {found.pid} ended (its pid now belongs to another process)"
        if found.start is not None and start is not None:
            return None  # the very process that took it: alive, however long it runs
    if age > STALE_AFTER:
        return (
            f"its holder has not refreshed it for {age:.0f}s (holders refresh their locks every "
            f"{HEARTBEAT_EVERY:g}s; a lock is stale after {STALE_AFTER:g}s)"
        )
    return None


def _same_namespace(found: Holder) -> bool:
    """Whether ``found``'s pid means the same process here: same host, boot and pid namespace.
    A pid-only lock (no host) is taken to be of this machine, as old Glacier versions wrote."""
    if found.host is None:
        return True
    me = identity()
    return (found.host, found.boot, found.pidns) == (me.host, me.boot, me.pidns)


def read_holder(path: str) -> Holder | None:
    """The holder recorded in a lock file, or None (no lock, or nothing readable in it)."""
    seen = _read_with_mtime(path)
    return None if seen is None else _parse(seen[0])


def _parse(text: str) -> Holder | None:
    text = text.strip()
    if text.isdigit():  # a lock written by Glacier before holders were recorded
        return Holder(pid=int(text)) if int(text) > 0 else None
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("pid"), int):
        return None
    known = {k: raw[k] for k in Holder.__dataclass_fields__ if k in raw}
    if not isinstance(known.get("since"), int | float | None):
        known["since"] = None
    return Holder(**known)


def _create(path: str, holder: Holder) -> bool:
    """Atomically create the lock ``path`` with ``holder`` in it; False if it exists."""
    text = json.dumps(asdict(holder), sort_keys=True)
    private = f"{path}.{holder.token}.new"
    with open(private, "x", encoding="utf-8") as fh:
        fh.write(text)
    try:
        os.link(private, path)
    except FileExistsError:
        return False
    except OSError:  # a filesystem without hard links: exclusive create, then write
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    finally:
        _remove(private)
    return True


def _break(path: str, seen: str) -> bool:
    """Remove the stale lock ``path`` whose content was ``seen``; False if it changed first.

    Breakers take turns through ``<lock>.breaking`` (created exclusively), and the one whose
    turn it is reads the lock again: a breaker that read the stale lock before another broke
    it and took the lock sees the new holder and leaves it. Renaming the lock aside, then
    checking what was renamed, is a second guard (a new lock renamed by mistake is put back
    by hard link, never over a third lock).
    """
    guard = f"{path}.breaking"
    try:
        os.close(os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        seen_guard = _read_with_mtime(guard)
        if seen_guard is not None and time.time() - seen_guard[1] > _BREAK_SECONDS:
            _remove(guard)  # left by a breaker killed in the middle
        time.sleep(0.01)  # another breaker's turn: it takes microseconds
        return False
    try:
        current = _read_with_mtime(path)
        if current is None or current[0] != seen:
            return False
        aside = f"{path}.{os.urandom(6).hex()}.stale"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        moved = _read_with_mtime(aside)
        if moved is not None and moved[0] != seen:
            with contextlib.suppress(OSError):
                os.link(aside, path)
            _remove(aside)
            return False
        _remove(aside)
        return True
    finally:
        _remove(guard)


#: A ``.breaking`` guard older than this was left by a breaker that died while breaking.
_BREAK_SECONDS = 10.0


class _Heartbeat:
    """A daemon thread touching every lock this process holds, so that other machines and
    containers can tell a live holder (fresh mtime) from a dead one."""

    def __init__(self) -> None:
        self.locks: dict[str, str] = {}  # token -> lock path
        self.mutex = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, token: str, path: str) -> None:
        with self.mutex:
            if self.pid != os.getpid():  # first lock, or a forked child: its own thread
                self.locks, self.thread, self.pid = {}, None, os.getpid()
            self.locks[token] = path
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._beat, name="glacier-lock-heartbeat", daemon=True
                )
                self.thread.start()

    def forget(self, token: str) -> None:
        with self.mutex:
            self.locks.pop(token, None)

    def holds(self, token: str | None) -> bool:
        """Whether a lock of this process with ``token`` is live (not an interrupted run's)."""
        with self.mutex:
            return self.pid == os.getpid() and token in self.locks

    def _beat(self) -> None:
        last = time.monotonic()
        while True:  # wakes every second at most, so a changed HEARTBEAT_EVERY takes effect
            every = min(HEARTBEAT_EVERY, STALE_AFTER / 4)
            time.sleep(min(1.0, every))
            if time.monotonic() - last < every:
                continue
            last = time.monotonic()
            with self.mutex:
                held = list(self.locks.items())
            for token, path in held:
                with contextlib.suppress(OSError):
                    found = read_holder(path)
                    if found is not None and found.token == token:
                        os.utime(path)


_heartbeat = _Heartbeat()


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, ValueError):
        return None


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _read_with_mtime(path: str) -> tuple[str, float] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(), os.fstat(fh.fileno()).st_mtime
    except FileNotFoundError:
        return None


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


__all__ = [
    "HEARTBEAT_EVERY",
    "STALE_AFTER",
    "Holder",
    "Lock",
    "acquire",
    "holder_of",
    "identity",
    "process_start",
    "read_holder",
    "stale_reason",
]
