"""Live progress on a terminal, drawn by rich (imported only when shown).

It shows what is really happening. Calling a lazy task only builds a plan, so a task is
"calling" while its function runs and "planned" once it returned; the work happens in a
Polars query that computes the outputs of several tasks at once, shown as its own row
(``query 1: clean, enrich, rank``) with its elapsed time, while its tasks read ``in query
1``. No task is shown running when it is not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from glacier.executor.engine import Progress
from glacier.executor.result import TaskResult

_STYLE = {"succeeded": "green", "skipped": "cyan", "failed": "red", "not_run": "dim"}


class RichProgress(Progress):
    """A live table: a row per task (state and own time) and per query (its tasks, time)."""

    def __init__(self, names: list[str], console: Console | None = None) -> None:
        self.names = names
        self.state: dict[str, str] = dict.fromkeys(names, "waiting")
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        #: query number -> (its tasks, started, ended or None)
        self.queries: dict[int, tuple[list[str], float, float | None]] = {}
        self.lock = threading.Lock()
        self.live = Live(
            get_renderable=self.table,
            console=console or Console(),
            refresh_per_second=8,
            transient=False,
        )

    def start(self, task: str) -> None:
        with self.lock:
            self.state[task] = "calling"
            self.started[task] = time.perf_counter()

    def called(self, task: str) -> None:
        with self.lock:
            if self.state.get(task) == "calling":
                self.state[task] = "planned"
                self.ended[task] = time.perf_counter()

    def query_start(self, number: int, tasks: Sequence[str]) -> None:
        with self.lock:
            self.queries[number] = (list(tasks), time.perf_counter(), None)
            for t in tasks:
                self.state[t] = f"in query {number}"

    def query_end(self, number: int) -> None:
        with self.lock:
            if number in self.queries:
                tasks, began, _ = self.queries[number]
                self.queries[number] = (tasks, began, time.perf_counter())

    def finish(self, result: TaskResult) -> None:
        with self.lock:
            self.state[result.name] = result.status
            self.ended.setdefault(result.name, time.perf_counter())

    def table(self) -> Table:
        """The current state as a table (what the live display redraws)."""
        table = Table(show_header=True, header_style="bold", box=None)
        table.add_column("task")
        table.add_column("state")
        table.add_column("elapsed", justify="right")
        now = time.perf_counter()
        with self.lock:
            for name in self.names:
                state = self.state[name]
                began = self.started.get(name)
                elapsed = "" if began is None else f"{self.ended.get(name, now) - began:.1f}s"
                style = _STYLE.get(state, "dim" if state == "waiting" else "yellow")
                table.add_row(Text(name), Text(state, style=style), elapsed)
            for number, (tasks, began, ended) in self.queries.items():
                label = f"query {number}: " + ", ".join(tasks)
                state = "running" if ended is None else "done"
                style = "yellow" if ended is None else "green"
                what = f"{'fused, ' if len(tasks) > 1 else ''}{state}"
                table.add_row(
                    Text(label, style="bold"),
                    Text(what, style=style),
                    f"{(ended or now) - began:.1f}s",
                )
        return table

    def __enter__(self) -> RichProgress:
        self.live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.live.__exit__(kind, exc, tb)
