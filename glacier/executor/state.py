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
warning (every task runs) and rewritten atomically after the run. A run holds
``<root>/state/<pipeline>.lock`` while it reads, runs and saves, so a second run of the same
pipeline on the same root is refused with WriteConflictError instead of interleaving.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import stat
import warnings
from collections.abc import Callable, Container, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from glacier.errors import GlacierError, WriteConflictError
from glacier.executor.explain import changes
from glacier.fingerprint import CannotFingerprint, CodeParts, Unknown, versions
from glacier.values import frame_digest
from glacier.io import acquire_lock, lock_owner, release_lock
from glacier.ir import PipelineIR, TaskIR

#: A dataset's fingerprint, or why it has none (what reads it then runs).
Fingerprint = str | Unknown


class TaskFingerprint(NamedTuple):
    """A task's fingerprint and what it covers, by component and name (the state file keeps
    the parts, so a rerun can say what changed)."""

    digest: str | None  # None: something could not be fingerprinted, the task runs
    parts: dict[str, Any]
    why: str = ""  # why there is no digest


def _sha(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def file_stat(path: str) -> list[Any] | None:
    """[size, mtime_ns] of a file; of a folder (a partitioned source, a delta table), its file
    count, total size and a digest of every file's relative path, size and mtime (a file moved
    from one partition to another changes it). None when nothing is there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return [st.st_size, st.st_mtime_ns]
    files = sorted(_files(path, ""))
    return [len(files), sum(f[1] for f in files), _sha(files)]


def _files(folder: str, prefix: str) -> Iterator[tuple[str, int, int]]:
    with os.scandir(folder) as entries:
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=True):
                yield from _files(entry.path, f"{rel}/")
            elif entry.is_file(follow_symlinks=True):
                est = entry.stat()
                yield rel, est.st_size, est.st_mtime_ns


def source_fingerprint(value: object) -> Fingerprint:
    """A local file or folder (every file's path, size, mtime) or a DataFrame (its exact
    data); Unknown for what has no cheap, exact fingerprint (a LazyFrame, a URL)."""
    if isinstance(value, pl.DataFrame):
        try:
            return _sha("frame", frame_digest(value))
        except CannotFingerprint as exc:
            return Unknown(f"its DataFrame cannot be fingerprinted: {exc}")
    if isinstance(value, pl.LazyFrame):
        return Unknown("it was given as a LazyFrame, whose data Glacier cannot fingerprint")
    if isinstance(value, str | os.PathLike):
        path = os.fspath(value)
        if "://" in path:
            return Unknown(f"it is read from {path}, which Glacier does not fingerprint")
        found = file_stat(path)
        if found is None:
            return Unknown(f"there is nothing at {path}")
        return _sha("file", os.path.abspath(path), found)
    return Unknown(f"it is a {type(value).__name__}")


def task_fingerprints(
    spec: PipelineIR,
    sources: Mapping[str, Fingerprint],
    params: Mapping[str, Mapping[str, Any]],
    locations: Mapping[str, str | None],
    code: Mapping[str, CodeParts],
    digest: Callable[[Any], str],
) -> dict[str, TaskFingerprint]:
    """Every task's fingerprint, in topological order.

    ``code`` holds each task's code parts (``Fingerprinter.task``), ``digest`` digests a param
    value exactly (``Fingerprinter.value``). A produced dataset's fingerprint derives from its
    producer's, so a change anywhere upstream flows down without reading any data.
    """
    # a source's fingerprint covers how it is read too: a csv source given a schema parses
    # with its dtypes, so its readers see other data from the same file
    datasets: dict[str, Fingerprint] = {
        name: fp if isinstance(fp, Unknown) else _sha(fp, _output_sig(spec, name, None))
        for name, fp in sources.items()
    }
    common = versions()
    tasks: dict[str, TaskFingerprint] = {}
    for t in spec.tasks:
        values = {p.name: p.default for p in t.params} | dict(params.get(t.name, {}))
        parts, problems = _parts(t, spec, datasets, tasks, values, locations, code[t.name], digest)
        parts["versions"] = common
        fp = TaskFingerprint(None if problems else _sha(parts), parts, "; ".join(problems))
        tasks[t.name] = fp
        for o in t.outputs:
            datasets[o] = (
                _sha(fp.digest, o)
                if fp.digest is not None
                else Unknown(f"task {t.name} cannot be fingerprinted")
            )
    return tasks


def _parts(
    t: TaskIR,
    spec: PipelineIR,
    datasets: Mapping[str, Fingerprint],
    tasks: Mapping[str, TaskFingerprint],
    values: Mapping[str, Any],
    locations: Mapping[str, str | None],
    code: CodeParts,
    digest: Callable[[Any], str],
) -> tuple[dict[str, Any], list[str]]:
    """What a task's fingerprint covers, by component, and what could not be fingerprinted."""
    problems = [f"cannot fingerprint {what}: {why}" for what, why in code.problems.items()]
    params: dict[str, str] = {}
    for name, value in values.items():
        try:
            params[name] = digest(value)
        except CannotFingerprint as exc:
            problems.append(f"cannot fingerprint param {name}: {exc}")
    reads: dict[str, dict[str, str]] = {"sources": {}, "inputs": {}}
    for d in t.input_datasets:
        kind = "inputs" if spec.dataset(d).producer else "sources"
        fp = datasets.get(d, Unknown("it has no fingerprint"))
        if isinstance(fp, Unknown):
            problems.append(f"cannot fingerprint {kind[:-1]} {d}: {fp.why}")
        else:
            reads[kind][d] = fp
    deps = {d: tasks[d].digest or "" for d in t.depends_on if d in tasks}
    parts = {
        "code": code.code,
        "values": code.values,
        "libraries": {k: v for k, v in code.libraries.items() if k not in _VERSIONED},
        "params": params,
        **reads,
        "depends_on": deps,
        "outputs": {o: _sha(_output_sig(spec, o, locations.get(o))) for o in t.outputs},
    }
    return parts, problems


def _output_sig(spec: PipelineIR, name: str, uri: str | None) -> Any:
    ds = spec.dataset(name)
    schema = None
    if ds.schema_:  # as the JSON IR has it
        schema = {"columns": [dataclasses.asdict(c) for c in ds.schema_.columns]}
    return [name, ds.format, schema, uri]


#: Distributions every fingerprint carries the version of (``versions()``).
_VERSIONED = ("python", "polars", "glacier")


#: Version of the state file's layout; a file of any other version is not trusted.
STATE_VERSION = 2


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
        self._locked = False

    def open(self) -> StateStore:
        """Take the run lock (WriteConflictError if another run holds it), then read."""
        if self.path.is_dir() or (self.path.exists() and not self.path.is_file()):
            raise self._unwritable(
                "it is a folder or other non-file", f"Remove {self.path} (Glacier rewrites it)"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            locked = acquire_lock(str(self.lock))
        except OSError as exc:
            raise self._unwritable(exc) from exc
        if not locked:
            msg = (
                f"pipeline {self.pipeline!r} is already running on {self.path.parent.parent} "
                f"(lock {self.lock} held by process {lock_owner(str(self.lock))}); wait for it "
                "to finish, or delete the lock if no run is active"
            )
            raise WriteConflictError(msg)
        self._locked = True
        self.data = self._load()
        return self

    def close(self) -> None:
        """Release the run lock."""
        if self._locked:
            release_lock(str(self.lock))
            self._locked = False

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
        fp: TaskFingerprint,
        outputs: Mapping[str, str | None],
        inputs: Mapping[str, str | None] | None = None,
    ) -> bool:
        """Whether the task can be skipped (``stale_reason`` finds nothing)."""
        return self.stale_reason(task, fp, outputs, inputs) is None

    def stale_reason(
        self,
        task: str,
        fp: TaskFingerprint,
        outputs: Mapping[str, str | None],
        inputs: Mapping[str, str | None] | None = None,
    ) -> str | None:
        """Why the task must run, or None when it was recorded with this fingerprint, every
        stored output is the file it wrote then and every stored input it read is the file it
        read then. A recorded output that is missing, or was never a local file, reruns it."""
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
        """Written atomically: a private temporary file renamed over the state file, so a
        crash leaves the old state or the new one. Not fsynced: the file is a cache (a damaged
        one is ignored with a warning and every task runs), and an fsync cost ~10 ms per run."""
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        text = json.dumps({"version": STATE_VERSION, "tasks": self.data}, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_new(temp, text)
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise self._unwritable(exc) from exc


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
    """The tasks to run and, for every task, why it runs or is skipped.

    ``stale(task)`` says why a task must run, or None. The run holds stale tasks and everything
    downstream of them, producers of ephemeral datasets a running task reads, and producers of
    ephemeral datasets nothing reads.

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
