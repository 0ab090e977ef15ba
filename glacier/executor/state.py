"""Incremental runs: the state file, why a task must run, and which tasks run.

A task is skipped only when nothing that can change its result changed: its fingerprint
(``glacier.executor.fingerprints``: its code and everything it reaches, the values it reads, its
params, its inputs, its dataset definitions, the Python, Polars and Glacier versions) equals the
one recorded after its last success, each stored output is still the file it wrote, and each
stored input it read is still the file it read then. A recorded output that is missing (or was
never a local file) reruns its producer; a task whose fingerprint cannot be computed always
runs. Everything downstream of a task that runs, runs too: its readers must read what it writes
now. A task whose outputs are all ephemeral has nothing to keep: it runs when a task reading its
outputs runs, and always when one of them is read by no task (its data is only in
``result[name]``). Each decision comes with its reason, in words (``--explain``).

The state file records, per task, the fingerprint of its last success, its parts by component
and name (so a rerun can say "code of helpers.transform changed"), and the stats of the stored
files it wrote and read. It is a cache: damaged, foreign or of another version, it is ignored
with a warning (every task runs) and rewritten atomically after the run, also after an interrupted
run (the tasks that committed skip next time). A run holds
``<root>/state/<pipeline>.lock`` while it reads, runs and saves, so a second run of the same
pipeline on the same root is refused with WriteConflictError instead of interleaving, and a
run whose lock was broken as stale (``glacier.locks``) does not save over the state of the run
that broke it.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from typing import Any

from glacier import locks
from glacier.errors import GlacierError, WriteConflictError
from glacier.executor.explain import changes
from glacier.executor.fingerprints import TaskFingerprint, file_stat
from glacier.ir import PipelineIR, TaskIR

#: Version of the state file's layout; a file of any other version is not trusted.
STATE_VERSION = 2


class StateStore:
    """``<root>/state/<pipeline>.json`` (see the module docstring). A folder where the state
    cannot be written stops the run before any task runs."""

    def __init__(self, root: str, pipeline: str) -> None:
        self.path = Path(root) / "state" / f"{pipeline}.json"
        self.lock = self.path.with_suffix(".lock")
        self.pipeline = pipeline
        self.data: dict[str, Any] = {}
        self._lock: locks.Lock | None = None

    def open(self) -> StateStore:
        """Take the run lock (WriteConflictError if another run holds it), then read."""
        if self.path.exists() and not self.path.is_file():
            raise self._unwritable(
                "it is a folder or other non-file", f"Remove {self.path} (Glacier rewrites it)"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = locks.acquire(str(self.lock))
        except OSError as exc:
            raise self._unwritable(exc) from exc
        if self._lock is None:
            msg = (
                f"pipeline {self.pipeline!r} is already running on {self.path.parent.parent} "
                f"(lock {self.lock} held by {locks.holder_of(str(self.lock))}); wait for it "
                "to finish, or delete the lock if no run is active"
            )
            raise WriteConflictError(msg)
        self.data = self._load()
        return self

    def close(self) -> None:
        """Release the run lock."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> StateStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            return self._discard(f"it cannot be read ({exc})")
        try:
            raw = json.loads(text)
        except ValueError as exc:
            return self._discard(f"it is not valid JSON ({exc})")
        if not isinstance(raw, dict) or not isinstance(raw.get("tasks"), dict):
            return self._discard("it is not a Glacier state file (or one of an older version)")
        if raw.get("version") != STATE_VERSION:
            return self._discard(
                f"it has state version {raw.get('version')!r} and this Glacier reads version "
                f"{STATE_VERSION}"
            )
        return {name: e for name, e in raw["tasks"].items() if _valid_entry(e)}

    def _discard(self, why: str) -> dict[str, Any]:
        warnings.warn(
            f"ignoring the run state {self.path}: {why}; every task runs this time and the "
            "file is rewritten after the run",
            stacklevel=2,
        )
        return {}

    def _unwritable(self, why: object, fix: str = "") -> GlacierError:
        fix = fix or f"Make {self.path.parent} a writable folder"
        return GlacierError(
            f"cannot write the run state file {self.path}: {why}. {fix}, or pass root= "
            "another folder"
        )

    def stale_reason(
        self,
        task: str,
        fp: TaskFingerprint,
        outputs: Mapping[str, str | None],
        inputs: Mapping[str, str | None] | None = None,
    ) -> str | None:
        """Why the task must run, or None when it can be skipped (see the module docstring)."""
        entry = self.data.get(task)
        if fp.digest is None:
            return fp.why
        if not entry:
            return "never ran"
        if entry["fingerprint"] != fp.digest:
            return changes(entry.get("parts"), fp.parts)
        for key, files, verb in (("outputs", outputs, "wrote"), ("inputs", inputs or {}, "read")):
            recorded = entry.get(key, {})
            for name, uri in files.items():
                if uri is None:
                    continue
                now, then = file_stat(uri), recorded.get(name)
                if now is None:
                    return f"{key[:-1]} {name} missing"
                if then is None or now != then:
                    return f"{key[:-1]} {name} is not the data it {verb} last time"
        return None

    def record(
        self,
        task: str,
        fp: TaskFingerprint,
        outputs: Mapping[str, str | None],
        inputs: Mapping[str, str | None] | None = None,
    ) -> None:
        """Keep the fingerprint of a success, its parts, and the stats of its stored files."""
        if fp.digest is None:
            self.data.pop(task, None)
            return
        self.data[task] = {
            "fingerprint": fp.digest,
            "parts": fp.parts,
            "outputs": {n: file_stat(u) for n, u in outputs.items() if u is not None},
            "inputs": {n: file_stat(u) for n, u in (inputs or {}).items() if u is not None},
        }

    def forget(self, task: str) -> None:
        self.data.pop(task, None)

    def prune(self, tasks: Container[str]) -> None:
        """Drop entries of tasks the pipeline no longer has (renamed or removed)."""
        self.data = {name: e for name, e in self.data.items() if name in tasks}

    def save(self) -> None:
        """Written atomically (a private temporary file renamed over the state file), and only
        while this run still holds the run lock: a lock broken as stale means the other run's
        state is the one to keep. Not fsynced: the file is a cache."""
        self._check_lock()
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        text = json.dumps({"version": STATE_VERSION, "tasks": self.data}, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_new(temp, text)
            os.replace(temp, self.path)
        except BaseException as exc:  # an interrupt too: no temporary file stays behind
            with contextlib.suppress(OSError):
                temp.unlink()
            if isinstance(exc, OSError):
                raise self._unwritable(exc) from exc
            raise

    def _check_lock(self) -> None:
        if self._lock is not None and self._lock.held():
            return
        now = f"now held by {locks.holder_of(str(self.lock))}" if self.lock.exists() else "gone"
        msg = (
            f"pipeline {self.pipeline!r}: the run state {self.path} was not saved, because this "
            f"run no longer holds its run lock {self.lock} ({now}; another run judged it stale "
            "and broke it). The datasets this run wrote are intact; the next run checks them "
            "against the state and reruns what it cannot vouch for"
        )
        raise WriteConflictError(msg)


def _write_new(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(text)


def _valid_entry(entry: object) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
        return False
    return all(isinstance(entry.get(k, {}), dict) for k in ("outputs", "inputs"))


def tasks_to_run(
    spec: PipelineIR,
    stale: Callable[[TaskIR], str | None],
) -> tuple[set[str], dict[str, str]]:
    """The tasks to run and, for every task, why it runs or is skipped (``stale(task)``: why
    it must run, or None): stale tasks, everything downstream of them, and producers of
    ephemeral datasets that a running task reads or that no task reads (see the module
    docstring)."""
    ephemeral = {d.name for d in spec.datasets if d.ephemeral}
    consumers = {d.name: d.consumers for d in spec.datasets}
    changed: dict[str, str] = {}
    for t in spec.tasks:  # topological order: upstream first
        upstream = {spec.dataset(i).producer for i in t.input_datasets} | set(t.depends_on)
        ran = sorted(u for u in upstream if u in changed)
        why = f"upstream task {ran[0]} runs" if ran else stale(t)
        if why:
            changed[t.name] = why
    run: set[str] = set()
    reasons: dict[str, str] = {}
    for t in reversed(spec.tasks):
        readers = sorted(c for o in t.outputs if o in ephemeral for c in consumers[o] if c in run)
        final = sorted(o for o in t.outputs if o in ephemeral and not consumers[o])
        only_ephemeral = bool(t.outputs) and all(o in ephemeral for o in t.outputs)
        if t.name in changed and (not only_ephemeral or readers or final):
            reasons[t.name] = changed[t.name]
        elif readers:
            reasons[t.name] = f"running task {readers[0]} reads its ephemeral output"
        elif only_ephemeral and final:
            reasons[t.name] = f"ephemeral output {final[0]} is read by no task (only result[...])"
        else:
            reasons[t.name] = (
                "no running task reads its ephemeral outputs" if only_ephemeral else "unchanged"
            )
            continue
        run.add(t.name)
    return run, {t.name: reasons[t.name] for t in spec.tasks}
