"""Live per-task progress on a terminal, drawn by rich (imported only when shown)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from glacier.executor.engine import Progress
from glacier.executor.result import TaskResult

_STYLE = {"succeeded": "green", "skipped": "cyan", "failed": "red", "not_run": "dim"}


class RichProgress(Progress):
    """A live table: one row per task, its state and elapsed time, refreshed in place."""

    def __init__(self, names: list[str], console: Console | None = None) -> None:
        self.names = names
        self.state: dict[str, str] = dict.fromkeys(names, "waiting")
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.lock = threading.Lock()
        self.live = Live(
            get_renderable=self._table,
            console=console or Console(),
            refresh_per_second=8,
            transient=False,
        )

    def start(self, task: str) -> None:
        with self.lock:
            self.state[task] = "running"
            self.started[task] = time.perf_counter()

    def finish(self, result: TaskResult) -> None:
        with self.lock:
            self.state[result.name] = result.status
            self.ended[result.name] = time.perf_counter()

    def _table(self) -> Table:
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
                style = _STYLE.get(state, "yellow" if state == "running" else "dim")
                table.add_row(name, f"[{style}]{state}[/]", elapsed)
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
