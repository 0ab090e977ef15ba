"""Incremental runs: fingerprints, the state file, and deciding which tasks must run.

A task's fingerprint hashes its code, its parameter values, the fingerprints of its inputs,
the definition of its outputs (format, schema, location) and the fingerprints of the tasks it
``depends_on``. A produced dataset's fingerprint derives from its producer's, so a change
anywhere upstream flows down without reading any data. Source fingerprints come from the
file (path, size, mtime) or, for an in-memory DataFrame, a hash of its rows in order; a LazyFrame
input has no cheap fingerprint, so what reads it always runs.

A source's fingerprint also covers its definition (format, schema): a csv source given a
schema is parsed with other dtypes from the same file.

A task is skipped when its fingerprint equals the one recorded after its last success, each
stored output is still the file it wrote and each stored input it read is still the file it
read then (same size and mtime). Everything downstream of a task that runs for another reason
than a fingerprint change (its output was deleted or edited by hand) runs too. A task whose
outputs are all ephemeral has nothing to keep: it runs when a task reading its outputs runs,
and always when one of them is read by no task (its data is only in ``result[name]``).

The state file is a cache: damaged, foreign or of another version, it is ignored with a
warning (every task runs) and rewritten atomically after the run, also after an interrupted
run (the tasks that committed skip next time). A run holds ``<root>/state/<pipeline>.lock``
(``glacier.locks``) while it reads, runs and saves, so a second run of the same pipeline on the
same root is refused with WriteConflictError instead of interleaving, and a run whose lock was
broken as stale does not save over the state of the run that broke it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from glacier import locks
from glacier.errors import GlacierError, WriteConflictError
from glacier.ir import PipelineIR, TaskIR

Fingerprint = str | None


def _sha(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def file_stat(path: str) -> list[int] | None:
    """[size, mtime_ns] of a file, or of a folder's files summed/maxed (delta tables)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isdir(path):
        return [st.st_size, st.st_mtime_ns]
    size, mtime = 0, st.st_mtime_ns
    for entry in Path(path).rglob("*"):
        if entry.is_file():
            est = entry.stat()
            size += est.st_size
            mtime = max(mtime, est.st_mtime_ns)
    return [size, mtime]


def source_fingerprint(value: object) -> Fingerprint:
    """A path (local file), a DataFrame (row hash) or None when there is no cheap one."""
    if isinstance(value, pl.DataFrame):
        # each row's hash with its position: a plain sum would miss reordered rows, and order
        # matters to tasks such as head() or cum_sum()
        rows = pl.DataFrame({"row": value.hash_rows(seed=0)}).with_row_index()
        combined = int(rows.hash_rows(seed=1).sum()) if value.height else 0
        return _sha("frame", str(value.schema), value.height, combined)
    if isinstance(value, str | os.PathLike):
        path = os.fspath(value)
        stat = None if "://" in path else file_stat(path)
        return None if stat is None else _sha("file", os.path.abspath(path), stat)
    return None


def task_fingerprints(
    spec: PipelineIR,
    sources: Mapping[str, Fingerprint],
    params: Mapping[str, Mapping[str, Any]],
    locations: Mapping[str, str | None],
) -> dict[str, Fingerprint]:
    """Every task's fingerprint, in topological order (None: cannot tell, always run)."""
    # a source's fingerprint covers how it is read too: a csv source given a schema parses
    # with its dtypes, so its readers see other data from the same file
    datasets: dict[str, Fingerprint] = {
        name: None if fp is None else _sha(fp, _output_sig(spec, name, None))
        for name, fp in sources.items()
    }
    tasks: dict[str, Fingerprint] = {}
    for t in spec.tasks:
        ins = [datasets.get(d) for d in t.input_datasets]
        deps = [tasks.get(d) for d in t.depends_on]
        if any(f is None for f in [*ins, *deps]):
            fp = None
        else:
            values = {p.name: p.default for p in t.params} | dict(params.get(t.name, {}))
            outs = [_output_sig(spec, o, locations.get(o)) for o in t.outputs]
            fp = _sha(t.code_hash, values, ins, deps, outs)
        tasks[t.name] = fp
        for o in t.outputs:
            datasets[o] = None if fp is None else _sha(fp, o)
    return tasks


def _output_sig(spec: PipelineIR, name: str, uri: str | None) -> Any:
    ds = spec.dataset(name)
    schema = None
    if ds.schema_:  # as the JSON IR has it
        schema = {"columns": [dataclasses.asdict(c) for c in ds.schema_.columns]}
    return [name, ds.format, schema, uri]


#: Version of the state file's layout; a file of any other version is not trusted.
STATE_VERSION = 1


class StateStore:
    """``<root>/state/<pipeline>.json``: per task, the fingerprint of its last success and the
    stats of the stored files it wrote and read then.

    The file is a cache: missing, unreadable, corrupt or of another version, it is set aside
    with a warning and every task runs. A run holds ``<root>/state/<pipeline>.lock`` from
    before it reads the state until it saved it, so two runs of a pipeline on one root never
    interleave (the second raises WriteConflictError). A folder where the state cannot be
    written stops the run before any task runs (GlacierError naming the file and the fix).
    """

    def __init__(self, root: str, pipeline: str) -> None:
        self.path = Path(root) / "state" / f"{pipeline}.json"
        self.lock = self.path.with_suffix(".lock")
        self.pipeline = pipeline
        self.data: dict[str, Any] = {}
        self._lock: locks.Lock | None = None

    def open(self) -> StateStore:
        """Take the run lock (WriteConflictError if another run holds it), then read."""
        if self.path.is_dir() or (self.path.exists() and not self.path.is_file()):
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

    def fresh(
        self,
        task: str,
        fp: Fingerprint,
        outputs: Mapping[str, str | None],
        inputs: Mapping[str, str | None] | None = None,
    ) -> bool:
        """Recorded with this fingerprint, every stored output untouched since, and every
        stored input it read still the file it read then."""
        entry = self.data.get(task)
        if fp is None or not entry or entry.get("fingerprint") != fp:
            return False
        for key, files in (("outputs", outputs), ("inputs", inputs or {})):
            recorded = entry.get(key, {})
            for name, uri in files.items():
                if uri is not None and (name not in recorded or file_stat(uri) != recorded[name]):
                    return False
        return True

    def record(
        self,
        task: str,
        fp: Fingerprint,
        outputs: Mapping[str, str | None],
        inputs: Mapping[str, str | None] | None = None,
    ) -> None:
        if fp is None:
            self.data.pop(task, None)
            return
        self.data[task] = {
            "fingerprint": fp,
            "outputs": {n: file_stat(u) for n, u in outputs.items() if u is not None},
            "inputs": {n: file_stat(u) for n, u in (inputs or {}).items() if u is not None},
        }

    def forget(self, task: str) -> None:
        self.data.pop(task, None)

    def prune(self, tasks: Container[str]) -> None:
        """Drop entries of tasks the pipeline no longer has (renamed or removed)."""
        self.data = {name: e for name, e in self.data.items() if name in tasks}

    def save(self) -> None:
        """Written atomically: a private temporary file renamed over the state file, so a
        crash leaves the old state or the new one. Not fsynced: the file is a cache (a damaged
        one is ignored with a warning and every task runs), and an fsync cost ~10 ms per run.

        Saved only while this run still holds the run lock: a lock judged stale and broken by
        another run (see glacier.locks) means that run's state is the one to keep."""
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
    stale: Callable[[TaskIR], bool],
) -> set[str]:
    """Stale tasks and everything downstream of them, producers of ephemeral datasets a
    running task reads, and producers of ephemeral datasets nothing reads.

    Downstream of a stale task runs even when its own fingerprint is unchanged: a task rerun
    because its output was deleted or edited by hand rewrites that output, and its readers
    must read what it writes now, not what it wrote before.

    A task whose outputs are all ephemeral keeps nothing between runs, so it cannot be
    skipped in favour of earlier results: it runs when a reader of its outputs runs, and
    always when one of them is a final dataset of the run (read by no task), since
    ``result[name]`` is then the only way to its data. Calling a lazy task only builds a plan.
    """
    ephemeral = {d.name for d in spec.datasets if d.ephemeral}
    consumers = {d.name: d.consumers for d in spec.datasets}
    changed: set[str] = set()
    for t in spec.tasks:  # topological order: upstream first
        upstream = {spec.dataset(i).producer for i in t.input_datasets} | set(t.depends_on)
        if upstream & changed or stale(t):
            changed.add(t.name)
    run: set[str] = set()
    for t in reversed(spec.tasks):
        only_ephemeral = bool(t.outputs) and all(o in ephemeral for o in t.outputs)
        if only_ephemeral:
            final = any(not consumers[o] for o in t.outputs)
            if final or any(c in run for o in t.outputs for c in consumers[o]):
                run.add(t.name)
            continue
        needed = any(c in run for o in t.outputs if o in ephemeral for c in consumers[o])
        if needed or t.name in changed:
            run.add(t.name)
    return run
