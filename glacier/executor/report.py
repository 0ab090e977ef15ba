"""The tables a run prints: per-task results with honest timings, and where outputs went.

Tasks fused into one Polars query have no time of their own to report (Polars computed them
together), so their row says ``fused (N tasks, X s)`` with the query's time; a task computed
alone reports its own time. ``--explain`` prints in the same style (``explain.print_plan``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping

from rich.table import Table
from rich.text import Text

from glacier.executor.result import RunResult, TaskResult

_COLOURS = {"succeeded": "green", "skipped": "cyan", "failed": "red", "not_run": "dim"}
#: A fused task whose own call took at least this long shows that time too.
_OWN_TIME_SHOWN = 0.01


def new_table(title: str, columns: tuple[str, ...], right: tuple[str, ...] = ()) -> Table:
    """A table in the style every run table uses (title on the left, plain columns)."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return table


def task_seconds(task: TaskResult, fused: int) -> str:
    """The time column of one task: measured seconds, or the fused query it was part of."""
    if task.status == "skipped" or task.status == "not_run":
        return "-"
    if fused <= 1:
        return f"{task.seconds:.2f}"
    own = task.seconds - task.query_seconds
    shared = f"fused ({fused} tasks, {task.query_seconds:.2f} s)"
    return f"{own:.2f} + {shared}" if own >= _OWN_TIME_SHOWN else shared


def timing_rows(result: RunResult) -> list[tuple[str, str, str, str, str]]:
    """(task, status, time, rows, bytes) per task, in run order, as display strings."""
    sizes = Counter(t.query for t in result.tasks.values() if t.query is not None)
    seconds = {
        t.name: task_seconds(t, sizes[t.query] if t.query is not None else 1)
        for t in result.tasks.values()
    }
    return [
        (name, status, seconds[name], rows, size)
        for name, status, _, rows, size in result.summary_rows()
    ]


def summary_table(result: RunResult) -> Table:
    """The run's table: a row per task with its status, time, rows and bytes written."""
    queries = f"{result.queries} {'query' if result.queries == 1 else 'queries'}"
    table = new_table(
        f"pipeline {result.pipeline}: {result.seconds:.2f}s, {queries}",
        ("task", "status", "seconds", "rows", "bytes"),
        right=("seconds", "rows", "bytes"),
    )
    for name, status, seconds, rows, size in timing_rows(result):
        table.add_row(Text(name), Text(status, style=_COLOURS[status]), seconds, rows, size)
    return table


def stored_outputs(
    result: RunResult, producers: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """(dataset, task, written or kept, location) of every stored output of the run's tasks;
    ``producers`` maps each dataset a task produces to that task."""
    found = []
    for name, task in producers.items():
        outcome = result.tasks.get(task)
        where = result.locations.get(name)
        if outcome is None or where is None or outcome.status not in ("succeeded", "skipped"):
            continue
        found.append((name, task, "written" if outcome.status == "succeeded" else "kept", where))
    return found


def _whole(where: str) -> str:
    """A local path made absolute (it can be used from any folder); a URL as it is."""
    return where if "://" in where else os.path.abspath(where)


def outputs_text(result: RunResult, producers: Mapping[str, str]) -> str | None:
    """Where each stored output of the run is, a line each (paths whole, never wrapped, so
    they can be copied); None when the run stored nothing."""
    rows = stored_outputs(result, producers)
    if not rows:
        return None
    lines = [f"  {name} ({task}, {how}): {_whole(where)}" for name, task, how, where in rows]
    return "\n".join(["outputs:", *lines])


__all__ = ["new_table", "outputs_text", "stored_outputs", "summary_table", "timing_rows"]
