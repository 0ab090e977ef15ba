"""Turning the tasks of one run into as few Polars queries as possible.

Tasks are called stage by stage (the tasks of a stage in parallel threads). Calling a task
only builds a lazy plan, so nothing is computed until a *flush*: every storage-backed output
built so far becomes a lazy sink and all sinks run as one ``pl.collect_all`` query, which lets
Polars optimise across task boundaries and compute shared subplans once. A flush happens at
the end, and before a stage whose tasks take a DataFrame input (``Annotated[pl.DataFrame,
ds]``): that input is collected once, in the same query as the pending sinks, and every task
that reads it gets its own clone (buffers shared, so no task sees another's changes). A
pipeline whose intermediates are all ephemeral and lazy is one Polars query.

A task with a timeout runs each attempt apart (``glacier.executor.timeouts``): its call and
its outputs are computed within the timeout, or the attempt is ended before it is retried or
the run goes on. Only failures that can succeed when tried again are retried
(``glacier.errors.is_retryable``).

When a fused query fails, nothing it wrote is kept and the same tasks run again one at a time
(each with its own retries), so the error names the task that caused it and every task that
can finish does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from glacier.errors import GlacierError, is_retryable
from glacier.executor.result import TaskResult
from glacier.executor.timeouts import TimedAttempts
from glacier.invoke import call_task
from glacier.ir import DatasetIR
from glacier.redact import redact, redact_exception
from glacier.schema import check_sources
from glacier.task import Task
from glacier.writes import PendingWrite, check_all, commit_all, prepare_write, run_writes

Frame = pl.LazyFrame | pl.DataFrame
#: ds name -> (dataset spec, uri, storage options) for storage-backed datasets
Targets = Mapping[str, tuple[DatasetIR, str, dict[str, str] | None]]


@dataclass
class Called:
    """A task whose function ran: its output frames and the writes not yet committed."""

    task: Task
    outputs: dict[str, Frame]
    writes: list[PendingWrite] = field(default_factory=list)


class Progress:
    """Receives task events; the default does nothing (see glacier.executor.progress)."""

    def start(self, task: str) -> None: ...

    def called(self, task: str) -> None:
        """The task's function returned: its plan waits for the query that computes it."""

    def query_start(self, number: int, tasks: Sequence[str]) -> None:
        """Polars started query ``number``, computing the outputs of ``tasks`` (fused)."""

    def query_end(self, number: int) -> None: ...

    def finish(self, result: TaskResult) -> None: ...


class Engine:
    """Runs the chosen tasks of one pipeline run; fills ``results`` and ``frames``."""

    def __init__(
        self,
        tasks: Sequence[Task],
        stages: Sequence[Sequence[str]],
        frames: dict[str, Frame],
        targets: Targets,
        params: Mapping[str, Mapping[str, Any]],
        results: dict[str, TaskResult],
        *,
        progress: Progress | None = None,
        max_workers: int | None = None,
        retry_delay: float = 1.0,
        env: Mapping[str, Mapping[str, str]] | None = None,
        ref: str | None = None,
        sources: Mapping[str, DatasetIR] | None = None,
    ) -> None:
        """``ref``: the pipeline's REF (how a worker process finds tasks with a timeout);
        ``sources``: source datasets, whose nulls are checked where a task reads them eagerly."""
        self.tasks = {t.name: t for t in tasks}
        self.env = env or {}  # per task: its environment variables, secrets resolved
        self.stages = [[n for n in s if n in self.tasks] for s in stages]
        self.frames = frames
        self.targets = targets
        self.params = params
        self.results = results
        self.progress = progress or Progress()
        self.max_workers = max_workers
        self.retry_delay = retry_delay
        self.timed = TimedAttempts(ref)
        self.sources = sources or {}
        self.pending: list[Called] = []
        self.queries = 0
        self.producer = {o.name: t.name for t in tasks for o in t.outputs}
        self.dead: set[str] = set()  # tasks that failed or could not run
        self._pool: Any = None  # a ThreadPoolExecutor, made on first need
        self._open: list[PendingWrite] = []  # every write prepared in this run
        self._stopping = False  # interrupted (or a bug): no new write may start
        self._open_lock = threading.Lock()

    # -- the stage loop ------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._run_stages()
            self.flush()
        except BaseException:
            # an interrupt (Ctrl-C, SIGTERM) or a bug: release every lock and temporary folder.
            # Task threads still running cannot start a write after this (see _prepare), so
            # they need not be waited for
            with self._open_lock:
                self._stopping = True
            self.timed.cancel()  # a timed attempt in a task thread ends (and nothing it does lands)
            for w in self._open:
                w.abort()
            raise
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=not self._stopping, cancel_futures=self._stopping)
                self._pool = None

    def _run_stages(self) -> None:
        for stage in self.stages:
            runnable = [self.tasks[n] for n in stage if not self._blocked(self.tasks[n])]
            eager = {
                i.dataset.name
                for t in runnable
                for i in t.inputs
                if i.frame == "eager"
                and not isinstance(self.frames.get(i.dataset.name), pl.DataFrame)
            }
            if eager:
                self.flush(materialize=sorted(eager))
            runnable = [t for t in runnable if not self._blocked(t)]
            for t in runnable:
                self.progress.start(t.name)
            for called in self._call_stage(runnable):
                if called is not None:
                    self._register(called)

    def _threads(self) -> Any:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only some runs need it

            self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="glacier")
        return self._pool

    def _call_stage(self, runnable: list[Task]) -> list[Called | None]:
        """Call a stage's tasks, in threads only where that can overlap real work.

        Calling a lazy task only builds a plan (microseconds), and Polars runs the fused
        query's independent branches in parallel itself, so threads there cost more (start-up,
        lock hand-offs) than they save. A task that takes or returns an annotated DataFrame
        does eager work, so it runs in a pool thread beside the rest of its stage. If an
        inline call turns out slow (a task collecting inside a lazy signature), the rest of
        its stage goes to threads.
        """
        shared = len(runnable) > 1
        futures = {
            t.name: self._threads().submit(self._call, t)
            for t in runnable
            if shared and (_eager(t) or t.timeout is not None)
        }
        called: dict[str, Called | None] = {}
        for t in runnable:
            if t.name in futures:
                continue
            started = time.perf_counter()
            called[t.name] = self._call(t)
            if time.perf_counter() - started > _INLINE_BUDGET:
                for rest in runnable:
                    if rest.name not in called and rest.name not in futures:
                        futures[rest.name] = self._threads().submit(self._call, rest)
        return [called[t.name] if t.name in called else futures[t.name].result() for t in runnable]

    def _blocked(self, t: Task) -> bool:
        """A task whose upstream failed does not run; say which one."""
        ups = [self.producer.get(i.dataset.name) for i in t.inputs]
        ups += [d.name for d in t.depends_on]
        bad = [u for u in ups if u in self.dead]
        if not bad:
            return False
        if t.name not in self.dead:
            self.dead.add(t.name)
            result = self.results[t.name]
            result.status, result.error = "not_run", f"upstream task {bad[0]!r} failed"
            self.progress.finish(result)
        return True

    def _register(self, called: Called) -> None:
        self.progress.called(called.task.name)
        for name, frame in called.outputs.items():
            self.frames[name] = frame
        if called.task.timeout is not None and called.writes:
            # its outputs were computed within its timeout: written at once, alone, the work
            # is kept whatever its stage neighbours' fused query does
            others, self.pending = self.pending, [called]
            self.flush()
            self.pending = others + self.pending
        else:
            self.pending.append(called)

    # -- calling task functions ----------------------------------------------------------------

    def _call(self, t: Task) -> Called | None:
        """Call the task (with retries and timeout); build the lazy sinks of its stored outputs."""
        result = self.results[t.name]
        started = time.perf_counter()
        for attempt in range(t.retries + 1):
            result.attempts = attempt + 1
            try:
                called = self._call_once(t)
            except Exception as exc:
                if not is_retryable(exc) or attempt == t.retries:
                    result.seconds += time.perf_counter() - started
                    self._fail(t.name, exc)
                    return None
                time.sleep(self._backoff(attempt))
            else:
                result.seconds += time.perf_counter() - started
                return called
        return None

    def _call_once(self, t: Task) -> Called:
        if self._stopping:  # a retry in a task thread after the run was interrupted
            raise KeyboardInterrupt(f"task {t.name!r}: the run was interrupted")
        inputs = {i.dataset.name: self.frames[i.dataset.name] for i in t.inputs}
        self._check_eager_sources(t, inputs)
        params, env = self.params.get(t.name), self.env.get(t.name)
        if t.timeout is None:
            outputs = call_task(t, inputs, params, env)
        else:
            outputs = self.timed.run(t, inputs, params, env)
        called = Called(t, outputs)
        try:
            for name, frame in outputs.items():
                if isinstance(frame, pl.LazyFrame):
                    frame.collect_schema()  # a plan error surfaces here, naming this task
                if name in self.targets:
                    called.writes.append(self._prepare(name, frame))
        except BaseException:
            for w in called.writes:
                w.abort()
            raise
        return called

    def _check_eager_sources(self, t: Task, inputs: Mapping[str, Frame]) -> None:
        """A source the task reads as a DataFrame is in memory now, where counting its nulls
        costs nothing (a file source's were not counted before the run: a pass over it)."""
        check_sources(
            (name, self.sources[name].schema_, inputs[name], "read as a DataFrame")
            for i in t.inputs
            if (name := i.dataset.name) in self.sources
            and i.frame == "eager"
            and isinstance(inputs[name], pl.DataFrame)
        )

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_delay * 2**attempt, 60.0))

    def _fail(self, name: str, exc: BaseException) -> None:
        result = self.results[name]
        result.status = "failed"
        result.error = redact(f"{type(exc).__name__}: {exc}")  # no secret value in results
        result.exception = redact_exception(exc)
        self.dead.add(name)
        self.progress.finish(result)

    # -- flushing: one Polars query for everything pending -------------------------------------

    def flush(self, materialize: Sequence[str] = ()) -> None:
        """Run every pending sink (and collect ``materialize``) as one query, then commit."""
        pending, self.pending = self.pending, []
        writes = [w for c in pending for w in c.writes]
        extras = [self.frames[n] for n in materialize]
        lazy_extras = [f for f in extras if isinstance(f, pl.LazyFrame)]
        started = time.perf_counter()
        ran = any(w.query is not None for w in writes) or bool(lazy_extras)
        if ran:
            self.queries += 1
            self.progress.query_start(self.queries, [c.task.name for c in pending])
            try:
                frames = run_writes(writes, lazy_extras)
            except Exception:
                self.progress.query_end(self.queries)
                _abort(pending)
                self._one_by_one(pending, materialize)
                return
            done = iter(frames)
            for n, f in zip(materialize, extras, strict=True):
                self.frames[n] = next(done) if isinstance(f, pl.LazyFrame) else f
        checked = check_all([w for c in pending for w in c.writes])  # one query, not one each
        elapsed = time.perf_counter() - started
        if ran:
            self.progress.query_end(self.queries)
        for called in pending:
            self._commit(called, elapsed, self.queries if ran else None, checked)

    def _commit(
        self,
        called: Called,
        elapsed: float,
        query: int | None,
        checked: Mapping[int, tuple[Any, ...]] | None = None,
    ) -> bool:
        result = self.results[called.task.name]
        result.seconds += elapsed
        result.query = query
        result.query_seconds = elapsed if query is not None else 0.0
        try:
            written = commit_all(called.writes, checked)  # all verified before any is visible
        except Exception as exc:
            _abort([called])
            self._fail(called.task.name, exc)
            return False
        for w, write in zip(called.writes, written, strict=True):
            result.record(write, w.ds.name)
        result.status = "succeeded"
        self.progress.finish(result)
        return True

    def _one_by_one(self, pending: list[Called], materialize: Sequence[str]) -> None:
        """After a fused query failed: each task alone, in order, to find and isolate the cause."""
        for called in pending:
            if self._blocked(called.task):
                continue
            self._run_alone(called)
        for name in materialize:
            producer = self.producer.get(name)
            if producer in self.dead:
                continue
            frame = self.frames[name]
            try:
                self.frames[name] = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
            except Exception as err:
                if producer is None:
                    raise GlacierError(f"source dataset {name!r} cannot be read: {err}") from err
                self._fail(producer, err)

    def _run_alone(self, called: Called) -> None:
        t = called.task
        result = self.results[t.name]
        for attempt in range(t.retries + 1):
            started = time.perf_counter()
            try:
                called = self._rebuild(called)
                self.queries += 1
                self.progress.query_start(self.queries, [t.name])
                try:
                    _collect_alone(called)
                finally:
                    self.progress.query_end(self.queries)
            except Exception as exc:
                _abort([called])
                result.seconds += time.perf_counter() - started
                if not is_retryable(exc) or attempt == t.retries:
                    self._fail(t.name, exc)
                    return
                result.attempts += 1
                time.sleep(self._backoff(attempt))
            else:
                self._commit(called, time.perf_counter() - started, self.queries)
                return

    def _rebuild(self, called: Called) -> Called:
        """Fresh pending writes for the same output frames (the failed query's were removed)."""
        fresh = Called(called.task, called.outputs)
        for name, frame in called.outputs.items():
            if name in self.targets:
                fresh.writes.append(self._prepare(name, frame))
        return fresh

    def _prepare(self, name: str, frame: Frame) -> PendingWrite:
        ds, uri, opts = self.targets[name]
        with self._open_lock:  # pool threads call this too
            if self._stopping:
                raise KeyboardInterrupt(f"dataset {name!r}: the run was interrupted")
            write = prepare_write(ds, frame, uri, opts)
            self._open.append(write)
        return write


#: An inline task call slower than this did real work: its stage's other tasks go to threads.
_INLINE_BUDGET = 0.05


def _eager(t: Task) -> bool:
    """Whether the task says it works on DataFrames (an eager input or output annotation)."""
    return any(i.frame == "eager" for i in t.inputs) or "eager" in t.output_frames


def _collect_alone(called: Called) -> None:
    """One task's sinks, and its ephemeral outputs checked by computing them."""
    stored = {w.ds.name for w in called.writes}
    checks = [
        f for n, f in called.outputs.items() if n not in stored and isinstance(f, pl.LazyFrame)
    ]
    run_writes(called.writes, checks)


def _abort(pending: Sequence[Called]) -> None:
    for called in pending:
        for w in called.writes:
            w.abort()
