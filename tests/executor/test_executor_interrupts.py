"""Ctrl-C and SIGTERM during a run: no lock or temporary folder stays behind, and the tasks
that committed before the interrupt are recorded, so the next run skips them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

ROOT = Path(__file__).resolve().parents[2]


def statuses(result: Any) -> dict[str, str]:
    return {n: t.status for n, t in result.tasks.items()}


def leftovers(root: Path = Path(".glacier")) -> list[str]:
    """Locks, temporary folders and files that a run left under ``root``."""
    kinds = (".lock", ".tmp", ".new", ".stale", ".breaking")
    return sorted(str(p) for p in root.rglob("*") if p.name.endswith(kinds))


def two_stages(stop: Callable[[], None], calls: list[str]) -> Pipeline:
    """make_a, then make_b reading ``a`` as a DataFrame: ``a`` is committed before make_b runs."""
    raw = Dataset("raw")
    a, b = Dataset("a", storage=ObjectStorage()), Dataset("b", storage=ObjectStorage())
    p = Pipeline(name="two_stages")

    @p.task()
    def make_a(r: raw) -> a:
        calls.append("make_a")
        return r

    @p.task()
    def make_b(x: Annotated[pl.DataFrame, a]) -> b:
        calls.append("make_b")
        stop()
        return x

    return p


def _raise() -> None:
    raise KeyboardInterrupt


def _sigint() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the signal interrupts this


@pytest.mark.parametrize("stop", [_raise, _sigint], ids=["KeyboardInterrupt", "SIGINT"])
def test_an_interrupted_run_keeps_what_it_committed_and_leaves_nothing_behind(workdir, stop):
    inputs = {"raw": pl.DataFrame({"x": [1, 2]})}
    calls: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        two_stages(stop, calls).run(inputs=inputs)
    assert calls == ["make_a", "make_b"]
    assert leftovers() == []
    assert pl.read_parquet(".glacier/datasets/a.parquet")["x"].to_list() == [1, 2]
    calls.clear()
    result = two_stages(lambda: None, calls).run(inputs=inputs)
    assert statuses(result) == {"make_a": "skipped", "make_b": "succeeded"}
    assert calls == ["make_b"]


def test_a_task_thread_still_running_after_the_interrupt_starts_no_write(workdir):
    """Two DataFrame tasks run in threads; one is interrupted while the other still works. The
    other one's output must not get a lock or a temporary folder after the run cleaned up."""
    raw = Dataset("raw")
    a = Dataset("a", storage=ObjectStorage())
    b, c = Dataset("b", storage=ObjectStorage()), Dataset("c", storage=ObjectStorage())
    started, finished = threading.Event(), threading.Event()
    p = Pipeline(name="threads")

    @p.task()
    def make_a(r: raw) -> a:
        return r

    @p.task()
    def interrupt_b(x: Annotated[pl.DataFrame, a]) -> b:
        if not finished.is_set():
            started.wait(30)  # interrupted while slow_c runs
            raise KeyboardInterrupt
        return x

    @p.task()
    def slow_c(x: Annotated[pl.DataFrame, a]) -> c:
        started.set()
        time.sleep(0.5)
        finished.set()
        return x

    inputs = {"raw": pl.DataFrame({"x": [1]})}
    with pytest.raises(KeyboardInterrupt):
        p.run(inputs=inputs)
    assert finished.wait(30)
    time.sleep(0.3)  # slow_c's thread goes on to prepare its write
    assert leftovers() == []
    assert not Path(".glacier/datasets/c.parquet").exists()
    result = p.run(inputs=inputs)
    assert statuses(result) == {
        "make_a": "skipped",
        "interrupt_b": "succeeded",
        "slow_c": "succeeded",
    }


SCRIPT = """
import os
import time
from pathlib import Path
from typing import Annotated

import polars as pl

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

raw = Dataset("raw", storage=ObjectStorage())
a, b = Dataset("a", storage=ObjectStorage()), Dataset("b", storage=ObjectStorage())
p = Pipeline(name="slow")
PAUSE = float(os.environ.get("PAUSE", "0"))


def slow(x):
    Path("query-started").touch()
    time.sleep(PAUSE)
    return x


@p.task()
def make_a(r: raw) -> a:
    return r


@p.task()
def make_b(x: Annotated[pl.DataFrame, a]) -> b:
    return x.lazy().with_columns(pl.col("x").map_elements(slow, return_dtype=pl.Int64))
"""


def _cli(pause: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "glacier", "run", "slow.py", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PAUSE": str(pause), "COLUMNS": "200"},
    )


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_glacier_run_stopped_during_a_query_cleans_up_and_resumes(workdir, sig):
    Path("slow.py").write_text(SCRIPT)
    Path(".glacier/datasets").mkdir(parents=True)
    pl.DataFrame({"x": list(range(300))}).write_parquet(".glacier/datasets/raw.parquet")
    proc = _cli(pause=0.01)  # make_b's query takes about 3 s
    deadline = time.monotonic() + 60
    while not Path("query-started").exists() and proc.poll() is None:
        assert time.monotonic() < deadline, "the query never started"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.strip().splitlines()[-1:]) == (130, ["error: interrupted"]), err
    assert leftovers() == []
    assert not Path(".glacier/datasets/b.parquet").exists()
    state = json.loads(Path(".glacier/state/slow.json").read_text())
    assert sorted(state["tasks"]) == ["make_a"]
    again = _cli(pause=0)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    rows = dict(re.findall(r"(make_\w+)\W+(\w+)", out.split("outputs:")[0]))  # the table
    assert rows == {"make_a": "skipped", "make_b": "succeeded"}, out
