"""Task and dataset fingerprints for incremental runs (``glacier.executor.state`` compares
them with the recorded ones).

A task's fingerprint covers its code parts (``glacier.fingerprint``: its function through
decorators, the project's code it reaches, the globals and closure values it reads), its params
(any value, digested exactly), the fingerprints of its inputs, the definition of its outputs
(format, schema, location), the environment variables its compute sets (plain values, and
secrets by name), the fingerprints of the tasks it ``depends_on``, and the Python,
Polars and Glacier versions. A produced dataset's fingerprint derives from its producer's, so a
change anywhere upstream flows down without reading any data. A source's fingerprint comes from
its file (path, size, mtime), from every file of its folder (relative path, size, mtime: a file
moved between hive partitions counts), or from the exact data of an in-memory DataFrame; it
also covers the source's definition (a csv source given a schema parses the same file into
other dtypes). A LazyFrame, a URL or a glob pattern has no cheap, exact fingerprint: ``Unknown``,
and what reads it runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import polars as pl

from glacier.fingerprint import CannotFingerprint, CodeParts, Unknown, versions
from glacier.ir import PipelineIR, TaskIR
from glacier.values import frame_digest

#: A dataset's fingerprint, or why it has none (what reads it then runs).
Fingerprint = str | Unknown


class TaskFingerprint(NamedTuple):
    """A task's fingerprint and what it covers, by component and name (kept in the state file
    to say what changed)."""

    digest: str | None  # None: something could not be fingerprinted, the task runs
    parts: dict[str, Any]
    why: str = ""  # why there is no digest


def _sha(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def file_stat(path: str) -> list[Any] | None:
    """[size, mtime_ns] of a file; of a folder (a partitioned source, a delta table), its file
    count, total size and a digest of every file's relative path, size and mtime. None when
    nothing is there."""
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
    """A source's fingerprint, or Unknown (see the module docstring)."""
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
    """Every task's fingerprint, in topological order. ``code``: each task's code parts
    (``Fingerprinter.task``); ``digest``: a param value's exact digest (``Fingerprinter.value``)."""
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
    problems += [
        f"task {d} it depends on is not part of this run" for d in t.depends_on if d not in tasks
    ]
    parts = {
        "code": code.code,
        "values": code.values,
        "libraries": {k: v for k, v in code.libraries.items() if k not in _VERSIONED},
        "params": params,
        **reads,
        "depends_on": deps,
        "outputs": {o: _sha(_output_sig(spec, o, locations.get(o))) for o in t.outputs},
    }
    env = t.compute.config.get("env")  # what it sets while it runs (a Secret: by name only)
    if isinstance(env, dict) and env:
        parts["env"] = {k: _sha(v) for k, v in env.items()}
    return parts, problems


def _output_sig(spec: PipelineIR, name: str, uri: str | None) -> Any:
    ds = spec.dataset(name)
    schema = None
    if ds.schema_:  # as the JSON IR has it
        schema = {"columns": [dataclasses.asdict(c) for c in ds.schema_.columns]}
    return [name, ds.format, schema, uri]


#: Distributions every fingerprint carries the version of (``versions()``).
_VERSIONED = ("python", "polars", "glacier")
