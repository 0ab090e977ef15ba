"""Incremental runs: fingerprints, the state file, and deciding which tasks must run.

A task's fingerprint hashes its code, its parameter values, the fingerprints of its inputs,
the definition of its outputs (format, schema, location) and the fingerprints of the tasks it
``depends_on``. A produced dataset's fingerprint derives from its producer's, so a change
anywhere upstream flows down without reading any data. Source fingerprints come from the
file (path, size, mtime) or, for an in-memory DataFrame, a hash of its rows in order; a LazyFrame
input has no cheap fingerprint, so what reads it always runs.

A task is skipped when its fingerprint equals the one recorded after its last success and
each stored output is still the file it wrote (same size and mtime). A task whose outputs
are all ephemeral has nothing to keep: it runs when a task reading its outputs runs, and
always when one of them is read by no task (its data is only in ``result[name]``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from glacier.spec import PipelineSpec, TaskSpec

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
    spec: PipelineSpec,
    sources: Mapping[str, Fingerprint],
    params: Mapping[str, Mapping[str, Any]],
    locations: Mapping[str, str | None],
) -> dict[str, Fingerprint]:
    """Every task's fingerprint, in topological order (None: cannot tell, always run)."""
    datasets: dict[str, Fingerprint] = dict(sources)
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


def _output_sig(spec: PipelineSpec, name: str, uri: str | None) -> Any:
    ds = spec.dataset(name)
    schema = ds.schema_.model_dump(mode="json") if ds.schema_ else None
    return [name, ds.format, schema, uri]


class StateStore:
    """``<root>/state/<pipeline>.json``: per task, the fingerprint and output stats of its last success."""

    def __init__(self, root: str, pipeline: str) -> None:
        self.path = Path(root) / "state" / f"{pipeline}.json"
        try:
            self.data: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def fresh(self, task: str, fp: Fingerprint, outputs: Mapping[str, str | None]) -> bool:
        """Recorded with this fingerprint, and every stored output untouched since."""
        entry = self.data.get(task)
        if fp is None or not entry or entry.get("fingerprint") != fp:
            return False
        recorded = entry.get("outputs", {})
        return all(
            uri is None or (name in recorded and file_stat(uri) == recorded[name])
            for name, uri in outputs.items()
        )

    def record(self, task: str, fp: Fingerprint, outputs: Mapping[str, str | None]) -> None:
        if fp is None:
            self.data.pop(task, None)
            return
        stats = {n: file_stat(u) for n, u in outputs.items() if u is not None}
        self.data[task] = {"fingerprint": fp, "outputs": stats}

    def forget(self, task: str) -> None:
        self.data.pop(task, None)

    def save(self) -> None:
        """Written atomically (temp file + rename), like the datasets."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(temp, self.path)


def tasks_to_run(
    spec: PipelineSpec,
    stale: Callable[[TaskSpec], bool],
) -> set[str]:
    """Stale tasks, producers of ephemeral datasets a running task reads, and producers of
    ephemeral datasets nothing reads.

    A task whose outputs are all ephemeral keeps nothing between runs, so it cannot be
    skipped in favour of earlier results: it runs when a reader of its outputs runs, and
    always when one of them is a final dataset of the run (read by no task), since
    ``result[name]`` is then the only way to its data. Calling a lazy task only builds a plan.
    """
    ephemeral = {d.name for d in spec.datasets if d.ephemeral}
    consumers = {d.name: d.consumers for d in spec.datasets}
    run: set[str] = set()
    for t in reversed(spec.tasks):
        only_ephemeral = bool(t.outputs) and all(o in ephemeral for o in t.outputs)
        if only_ephemeral:
            final = any(not consumers[o] for o in t.outputs)
            if final or any(c in run for o in t.outputs for c in consumers[o]):
                run.add(t.name)
            continue
        needed = any(c in run for o in t.outputs if o in ephemeral for c in consumers[o])
        if needed or stale(t):
            run.add(t.name)
    return run
