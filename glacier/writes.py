"""Writing one dataset: the staged, atomic writes the local executor and the cloud runtime share.

``write_dataset`` enforces the dataset's declared schema and is atomic: a dataset is visible
complete or not at all.

- Local paths: the data goes to a hidden temporary *folder* in the destination folder
  (``.<file>.<random>.tmp/<file>``), is checked there, and the file is renamed over the
  destination. A ``.<file>.lock`` (``glacier.locks``) stops two writers of the same dataset;
  a write publishes only while it still holds its lock.
- Why a folder: when one sink of a ``pl.collect_all`` fails, Polars returns the error while
  the query's other sinks may still be running, and they can create or finish their files
  *after* the caller removed them. Aborting removes the temporary folder (until it is gone),
  and Polars does not create missing parent folders, so a late sink cannot recreate anything:
  no temporary or partial file survives a failed write, whatever the timing. Temporary folders
  left by a killed process are swept by the next writer holding the dataset's lock.
- Object stores: one object PUT / multipart upload completes atomically, but a Polars *sink*
  to an object store finishes its upload even when its query fails midway (the object would
  hold partial rows). So the frame is computed first, checked, and uploaded whole at commit.
  Bytes written are None (unknown) for Polars' native cloud writes.
- Delta tables commit through their transaction log (readers see the old version until then).

``prepare_write`` splits a write into "build the query" and "commit": ``run_writes`` runs the
queries of many datasets (local sinks, frames to upload) as one Polars query
(``pl.collect_all``) so Polars can share their common subplans; ``commit_all`` then verifies
every output of a task before it publishes any.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from glacier import locks
from glacier.errors import WriteConflictError
from glacier.formats import scan, sink, text_dtypes, write_frame
from glacier.io import filesystem, is_remote, options_for
from glacier.ir import DatasetIR
from glacier.locks import Lock
from glacier.schema import check_null_counts, check_nulls, conform, non_nullable_columns


@dataclass(frozen=True)
class WriteResult:
    """Where a dataset was written, how many rows, and how many bytes (None: not measurable)."""

    uri: str
    rows: int
    bytes: int | None


@dataclass
class PendingWrite:
    """A dataset write split in two: ``sink`` (a lazy Polars sink, or None) then ``commit``."""

    ds: DatasetIR
    uri: str
    options: dict[str, str] | None
    frame: pl.LazyFrame | pl.DataFrame
    sink: pl.LazyFrame | None = None
    temp: str | None = None
    lock: Lock | None = None
    _done: bool = field(default=False, repr=False)
    _verified: bool = field(default=False, repr=False)
    _rows: int | None = field(default=None, repr=False)

    @property
    def query(self) -> pl.LazyFrame | None:
        """What ``run_writes`` runs for this write: its sink, or (when the data is uploaded at
        commit: object stores, Delta) its frame, or None when it is already computed."""
        if self.sink is not None:
            return self.sink
        return self.frame if isinstance(self.frame, pl.LazyFrame) else None

    def computed(self, result: pl.DataFrame) -> None:
        """Take the result of :attr:`query` (a sink's result is empty and is dropped)."""
        if self.sink is None:
            self.frame = result

    def check_query(self) -> pl.LazyFrame | None:
        """The query ``commit`` checks a local temporary file with (its rows, then the null
        counts of non-Optional columns); None when there is no temporary file."""
        if self.temp is None or self.ds.format == "delta" or is_remote(self.uri):
            return None
        columns = non_nullable_columns(self.ds.schema_) if self.ds.schema_ is not None else []
        nulls = [pl.col(c).null_count().alias(f"nulls_{i}") for i, c in enumerate(columns)]
        temp = scan(self.ds.format, _temp_file(self), None, text_dtypes(self.ds))
        return temp.select(pl.len().alias("rows"), *nulls)

    def verify(self, checked: tuple[Any, ...] | None = None) -> None:
        """Check the written data (SchemaError) without publishing it; ``checked``: the row
        of ``check_query()`` if it already ran (see ``check_all``)."""
        if self._verified:
            return
        try:
            _verify(self, checked)
        except BaseException:
            self.abort()
            raise
        self._verified = True

    def commit(self, checked: tuple[Any, ...] | None = None) -> WriteResult:
        """Check the written data and make it visible; on any error nothing stays behind."""
        self.verify(checked)
        try:
            result = _publish(self)
        except BaseException:
            self.abort()
            raise
        self._release()
        return result

    def abort(self) -> None:
        """Remove whatever this write left (temporary data, the lock), even while a Polars
        sink of it still runs (see the module docstring)."""
        if self.temp is not None:
            _remove_until_gone(self.temp)
            self.temp = None
        self._release()

    def _release(self) -> None:
        if self.lock is not None and not self._done:
            self.lock.release()
        self._done = True


def prepare_write(
    ds: DatasetIR,
    frame: pl.LazyFrame | pl.DataFrame,
    uri: str,
    storage_options: Mapping[str, str] | None = None,
) -> PendingWrite:
    """Check the schema and set up an atomic write; ``pending.sink`` is the lazy sink to run."""
    opts = options_for(uri, storage_options)
    lazy = conform(ds, frame.lazy())
    if isinstance(frame, pl.DataFrame) and ds.schema_ is not None:
        frame = lazy.collect()  # cheap: only reorders the declared columns
    elif isinstance(frame, pl.LazyFrame):
        frame = lazy
    pending = PendingWrite(ds, uri, opts, frame)
    if is_remote(uri):  # computed, checked, then uploaded whole at commit (see above)
        return pending
    parent = os.path.dirname(os.path.abspath(uri))
    os.makedirs(parent, exist_ok=True)
    pending.lock = _acquire_lock(ds, uri)
    _sweep_temps(uri)  # we hold the lock: any temporary folder here is a dead writer's
    if ds.format != "delta":
        name = os.path.basename(uri)
        pending.temp = os.path.join(parent, f".{name}.{os.urandom(6).hex()}.tmp")
        os.mkdir(pending.temp)
        pending.sink = sink(ds.format, lazy, os.path.join(pending.temp, name), None)
    return pending


def _temp_file(p: PendingWrite) -> str:
    assert p.temp is not None
    return os.path.join(p.temp, os.path.basename(p.uri))


def _sweep_temps(uri: str) -> None:
    """Remove temporary folders of earlier writes of ``uri`` (only call holding its lock)."""
    parent, name = os.path.split(os.path.abspath(uri))
    prefix = f".{name}."
    with os.scandir(parent) as entries:
        stale = [e.path for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    for path in stale:
        _remove_until_gone(path)


def run_writes(
    writes: Sequence[PendingWrite], extras: Sequence[pl.LazyFrame] = ()
) -> list[pl.DataFrame]:
    """Every write's :attr:`~PendingWrite.query`, plus ``extras``, as one ``pl.collect_all``
    (Polars shares the work common to the outputs); returns the extras' results."""
    work = [w for w in writes if w.query is not None]
    queries = [q for w in work if (q := w.query) is not None]
    frames = pl.collect_all([*queries, *extras]) if queries or extras else []
    for w, f in zip(work, frames, strict=False):
        w.computed(f)
    return list(frames[len(work) :])


def write_dataset(
    ds: DatasetIR,
    frame: pl.LazyFrame | pl.DataFrame,
    uri: str,
    storage_options: Mapping[str, str] | None = None,
) -> WriteResult:
    """Write ``frame`` as dataset ``ds`` at ``uri``: schema-checked and atomic."""
    pending = prepare_write(ds, frame, uri, storage_options)
    try:
        run_writes([pending])
    except BaseException:
        pending.abort()
        raise
    return pending.commit()


def check_all(writes: list[PendingWrite]) -> dict[int, tuple[Any, ...]]:
    """``check_query()`` of every write as one Polars query: ``{id(write): row}``; nothing
    if it fails, so each ``commit`` checks its own file and the error names its dataset."""
    queries = [(w, q) for w in writes if (q := w.check_query()) is not None]
    try:
        frames = pl.collect_all([q for _, q in queries]) if queries else []
    except Exception:
        return {}
    return {id(w): f.row(0) for (w, _), f in zip(queries, frames, strict=True)}


def commit_all(
    writes: list[PendingWrite], checked: Mapping[int, tuple[Any, ...]] | None = None
) -> list[WriteResult]:
    """Commit the writes of one task: all are verified before any is published, and on an
    error all are aborted. ``checked``: ``check_all``'s rows by ``id(write)``."""
    try:
        for w in writes:
            w.verify((checked or {}).get(id(w)))
        return [w.commit() for w in writes]
    except BaseException:
        for w in writes:
            w.abort()
        raise


def _verify(p: PendingWrite, checked: tuple[Any, ...] | None) -> None:
    if p.ds.format == "delta" or is_remote(p.uri):
        # written at publish time from the computed frame, checked here first
        df = p.frame if isinstance(p.frame, pl.DataFrame) else p.frame.collect()
        check_nulls(p.ds, df)
        p.frame = df
        return
    if checked is None:
        query = p.check_query()
        assert query is not None
        checked = query.collect().row(0)
    columns = non_nullable_columns(p.ds.schema_) if p.ds.schema_ is not None else []
    check_null_counts(p.ds, columns, checked[1:])
    p._rows = int(checked[0])


def _publish(p: PendingWrite) -> WriteResult:
    if p.ds.format == "delta":
        return _write_delta(p)
    if is_remote(p.uri):
        return _write_remote(p)
    assert p._rows is not None
    temp = _temp_file(p)
    size = os.path.getsize(temp)
    _check_lock(p)
    os.replace(temp, p.uri)
    _remove_until_gone(p.temp or "")
    p.temp = None
    return WriteResult(p.uri, p._rows, size)


def _write_remote(p: PendingWrite) -> WriteResult:
    """An object-store write of the computed frame: one PUT or multipart upload, visible whole
    or not at all. Polars' object store reports no size; fsspec uploads are measured."""
    df = p.frame if isinstance(p.frame, pl.DataFrame) else p.frame.collect()
    fs = filesystem(p.uri, p.options)
    if fs is None:
        # a sink, not DataFrame.write_*: write_ndjson takes no storage_options in Polars 2.x
        pl.collect_all([sink(p.ds.format, df.lazy(), p.uri, p.options)])
        return WriteResult(p.uri, df.height, None)
    buffer = io.BytesIO()
    write_frame(p.ds.format, df, buffer)
    data = buffer.getvalue()
    fs.pipe_file(p.uri, data)  # one upload: visible whole or not at all
    return WriteResult(p.uri, df.height, len(data))


def _write_delta(p: PendingWrite) -> WriteResult:
    """Delta commits through its log: a failed write never becomes the table's version."""
    df = p.frame if isinstance(p.frame, pl.DataFrame) else p.frame.collect()
    df.write_delta(
        p.uri,
        mode="overwrite",
        storage_options=p.options,
        delta_write_options={"schema_mode": "overwrite"},
    )
    from deltalake import DeltaTable  # write_delta needs deltalake: it is installed

    actions = DeltaTable(p.uri, storage_options=p.options).get_add_actions(flatten=True)
    size = int(sum(pl.DataFrame(actions)["size_bytes"].to_list()))  # this version's files
    return WriteResult(p.uri, df.height, size)


def _acquire_lock(ds: DatasetIR, uri: str) -> Lock:
    """Take ``.<file>.lock`` (a lock whose writer is gone is broken: see glacier.locks)."""
    path = os.path.join(os.path.dirname(os.path.abspath(uri)), f".{os.path.basename(uri)}.lock")
    lock = locks.acquire(path)
    if lock is not None:
        return lock
    msg = (
        f"dataset {ds.name!r}: another writer is writing {uri} (lock {path} held by "
        f"{locks.holder_of(path)}); wait for it to finish, or delete the lock if no run is active"
    )
    raise WriteConflictError(msg)


def _check_lock(p: PendingWrite) -> None:
    """Publish only while this write holds its lock: else the other writer's data stays."""
    if p.lock is None or p.lock.held():
        return
    msg = (
        f"dataset {p.ds.name!r}: the write lock {p.lock.path} was broken while this run was "
        f"writing {p.uri} (now held by {locks.holder_of(p.lock.path)}), so this write was not "
        "published; the data there is the other writer's. Run again once it has finished"
    )
    raise WriteConflictError(msg)


def _remove_until_gone(path: str) -> None:
    """Remove a file or folder even while a late writer is still adding files to it."""
    for _ in range(1000):
        _remove(path)
        if not os.path.lexists(path):
            return
    msg = f"could not remove temporary data at {path}: something keeps writing to it"
    raise OSError(msg)


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as err:  # a folder refilled between listing and removal: caller retries
        if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise


__all__ = [
    "PendingWrite",
    "WriteResult",
    "check_all",
    "commit_all",
    "prepare_write",
    "run_writes",
    "write_dataset",
]
