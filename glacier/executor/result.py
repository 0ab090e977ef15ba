"""What a run returns: per-task results and access to the datasets it touched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import polars as pl

from glacier.errors import InputError
from glacier.writes import WriteResult

Status = Literal["succeeded", "skipped", "failed", "not_run"]
#: A run's notebook view previews this many rows of at most this many stored datasets.
PREVIEW_ROWS = 5
PREVIEW_DATASETS = 12


@dataclass
class TaskResult:
    """One task's outcome.

    ``seconds`` covers calling the task function plus the Polars query that computed its
    outputs (``query_seconds``); tasks fused into one query (``query`` is the same number)
    share that query's time, so only ``seconds - query_seconds`` is the task's own.
    ``bytes`` is None when any output's size is unknown (Polars' native cloud writes report
    none), never a made-up 0. ``reason`` says why the task ran or was skipped.
    """

    name: str
    status: Status = "not_run"
    seconds: float = 0.0
    rows: int = 0
    bytes: int | None = 0
    attempts: int = 0
    query: int | None = None
    #: the elapsed time of the query that computed its outputs (shared by the tasks fused in it)
    query_seconds: float = 0.0
    outputs: dict[str, WriteResult] = field(default_factory=dict)
    error: str | None = None
    reason: str = ""
    exception: BaseException | None = field(default=None, repr=False)

    def record(self, write: WriteResult, dataset: str) -> None:
        self.outputs[dataset] = write
        self.rows += write.rows
        self.bytes = None if self.bytes is None or write.bytes is None else self.bytes + write.bytes


@dataclass
class RunResult:
    """The outcome of ``pipeline.run()``: ``result.tasks``, ``result[name]``, ``result.path(name)``."""

    pipeline: str
    tasks: dict[str, TaskResult]
    seconds: float = 0.0
    queries: int = 0
    locations: dict[str, str] = field(default_factory=dict)
    frames: dict[str, pl.LazyFrame] = field(default_factory=dict, repr=False)
    scanner: Callable[[str], pl.LazyFrame] | None = field(default=None, repr=False)
    #: sources given to run() as a DataFrame/LazyFrame through ``inputs=``: they have no path
    in_memory: frozenset[str] = field(default_factory=frozenset, repr=False)
    #: the pipeline's ephemeral datasets, including those no task of this run computed
    ephemeral: frozenset[str] = field(default_factory=frozenset, repr=False)

    @property
    def ok(self) -> bool:
        return all(t.status in ("succeeded", "skipped") for t in self.tasks.values())

    @property
    def failed(self) -> list[str]:
        return [n for n, t in self.tasks.items() if t.status == "failed"]

    def path(self, name: str) -> str | None:
        """Where dataset ``name``'s data is in this run (None for an ephemeral dataset).

        A source given through ``inputs=`` as a path is at that path; one given as a
        DataFrame or LazyFrame has no location, which raises InputError.
        """
        if name in self.in_memory:
            msg = (
                f"dataset {name!r} was given to run() as an in-memory frame through inputs=, so "
                f"it has no path; read its data with result[{name!r}], or pass a file path in "
                "inputs= to get one"
            )
            raise InputError(msg)
        if name in self.locations:
            return self.locations[name]
        if name in self.frames or name in self.ephemeral:
            return None
        raise KeyError(f"run of pipeline {self.pipeline!r} has no dataset {name!r}")

    def __getitem__(self, name: str) -> pl.LazyFrame:
        """A LazyFrame over dataset ``name``: its stored data, or the run's plan if ephemeral."""
        if name in self.locations and self.scanner is not None:
            return self.scanner(name)
        if name in self.frames:
            return self.frames[name]
        if name in self.ephemeral:
            msg = (
                f"dataset {name!r} is ephemeral and no task of this run computed it (its "
                "producer was skipped or did not run); run with force=True to compute it"
            )
            raise KeyError(msg)
        known = ", ".join(sorted({*self.locations, *self.frames})) or "none"
        msg = (
            f"run of pipeline {self.pipeline!r} has no data for dataset {name!r}; "
            f"datasets with data: {known}"
        )
        raise KeyError(msg)

    def show(self, name: str, n: int = 10) -> pl.DataFrame:
        """The first ``n`` rows of dataset ``name`` as a DataFrame (a notebook displays it).

        Reads only those rows: a stored dataset is scanned lazily, so a large one costs no
        more than its head.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InputError(f"result.show({name!r}, n={n!r}): n must be a whole number >= 0")
        return self[name].head(n).collect()

    def __repr__(self) -> str:
        states = ", ".join(
            f"{sum(t.status == s for t in self.tasks.values())} {s}"
            for s in ("succeeded", "skipped", "failed", "not_run")
            if any(t.status == s for t in self.tasks.values())
        )
        return f"<RunResult {self.pipeline!r}: {len(self.tasks)} tasks ({states}), {self.seconds:.2f}s>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebooks: the task table and the first rows of each stored dataset (read, not
        recomputed: an ephemeral dataset is named but not previewed)."""
        from glacier import notebook as nb

        rows = [
            (*row, self.tasks[row[0]].error or self.tasks[row[0]].reason)
            for row in self.summary_rows()
        ]
        failed = "" if self.ok else f", failed: {', '.join(self.failed)}"
        parts = [
            f"<p><strong>{nb.escape(self._title() + failed)}</strong></p>",
            nb.table(["task", "status", "seconds", "rows", "bytes", "why"], rows),
        ]
        stored = sorted(self.locations)
        for name in stored[:PREVIEW_DATASETS]:
            where = nb.escape(self.locations[name])
            head = nb.preview(partial(self.show, name, PREVIEW_ROWS))
            parts.append(
                f"<details open><summary><code>{nb.escape(name)}</code> at <code>{where}</code>"
                f"</summary>{head}</details>"
            )
        if len(stored) > PREVIEW_DATASETS:
            rest = nb.escape(", ".join(stored[PREVIEW_DATASETS:]))
            parts.append(f"<p>not previewed: {rest} (result.show(name) shows one)</p>")
        ephemeral = nb.escape(", ".join(sorted(set(self.frames) - set(self.locations))))
        if ephemeral:
            parts.append(f"<p>ephemeral, not stored: {ephemeral} (result[name] computes one)</p>")
        return {"text/plain": nb.plain_text(self), "text/html": nb.div("run", "".join(parts))}

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]

    def _title(self) -> str:
        return (
            f"pipeline {self.pipeline}: {self.seconds:.2f}s, "
            f"{self.queries} {'query' if self.queries == 1 else 'queries'}"
        )

    def summary_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(task, status, seconds, rows, bytes) as display strings, in run order.

        Rows and bytes count what a task wrote to storage in this run; a task that wrote
        nothing (skipped, or only ephemeral outputs) shows ``-`` rather than a misleading 0.
        """
        rows: list[tuple[str, str, str, str, str]] = []
        for t in self.tasks.values():
            wrote = bool(t.outputs)
            count = f"{t.rows:,}" if wrote else "-"
            size = _human_bytes(t.bytes) if wrote else "-"
            rows.append((t.name, t.status, f"{t.seconds:.2f}", count, size))
        return rows

    def __rich__(self) -> Any:
        from rich.table import Table

        colours = {"succeeded": "green", "skipped": "cyan", "failed": "red", "not_run": "dim"}
        table = Table(title=self._title())
        for col in ("task", "status", "seconds", "rows", "bytes"):
            table.add_column(col, justify="left" if col in ("task", "status") else "right")
        for row in self.summary_rows():
            table.add_row(row[0], f"[{colours[row[1]]}]{row[1]}[/]", *row[2:])
        return table


def _human_bytes(n: int | None) -> str:
    """``1.5 MB``; ``-`` when the size is unknown."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
