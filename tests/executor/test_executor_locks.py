"""Run and write locks that hold in containers and fail safe.

Pid namespaces and other machines cannot be created here, so their runs are simulated by lock
files written as they would write them: another host name, boot id or pid namespace, and a pid
that means something else (or nothing) in this one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import executor_pipelines as samples
import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.errors import TaskFailedError, WriteConflictError
from glacier.storage import ObjectStorage

STATE = Path(".glacier/state/chain.json")
RUN_LOCK = Path(".glacier/state/chain.lock")
WRITE_LOCK = Path(".glacier/datasets/.a.parquet.lock")
HOST = socket.gethostname()
BOOT = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
PIDNS = os.readlink("/proc/self/ns/pid")
OTHER_PIDNS = "pid:[4026999999]"  # another container's pid namespace on this kernel
STALE_AFTER = 120  # seconds without a heartbeat before a lock of another namespace is stale


def statuses(result: Any) -> dict[str, str]:
    return {n: t.status for n, t in result.tasks.items()}


def write_raw(frame: pl.DataFrame) -> None:
    Path(".glacier/datasets").mkdir(parents=True, exist_ok=True)
    frame.write_parquet(".glacier/datasets/raw.parquet")


def start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]


def dead_pid() -> int:
    ctx = multiprocessing.get_context("spawn")
    gone = ctx.Process(target=os.getpid)
    gone.start()
    gone.join()
    return int(gone.pid or 0)


def write_lock(path: Path, age: float = 0.0, **holder: Any) -> str:
    """A lock file as another run writes it; its last heartbeat ``age`` seconds ago."""
    raw = holder.pop("raw", None)
    record = {"host": HOST, "boot": BOOT, "pidns": PIDNS, "start": None, "token": "0f" * 8}
    record.update(holder, since=time.time() - age)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = raw or json.dumps(record)
    path.write_text(text)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return text


def test_a_run_killed_as_pid_1_in_a_container_blocks_the_next_runs_only_for_a_while(
    workdir, orders
):
    """In a container every run is pid 1, alive in every other container: a lock naming pid 1
    holds while its heartbeat is fresh, and is broken once it is older than the window."""
    write_raw(orders)
    for content in ("1", None):  # a lock as Glacier wrote it before, then as it writes it now
        holder = {"raw": content} if content else {"pid": 1, "host": "c0ffee", "pidns": OTHER_PIDNS}
        write_lock(RUN_LOCK, age=5, **holder)
        with pytest.raises(WriteConflictError, match=r"already running .* held by process 1\b"):
            samples.chain().run()
        write_lock(RUN_LOCK, age=STALE_AFTER + 60, **holder)
        with pytest.warns(UserWarning, match=r"broke the stale lock .*chain\.lock .*process 1"):
            assert samples.chain().run(force=True).ok
        assert not RUN_LOCK.exists()
        write_lock(RUN_LOCK, age=5, **holder)
        with pytest.raises(WriteConflictError) as refused:  # says when the lock goes stale
            samples.chain().run()
        assert "refreshed 5s ago; it is taken over once it goes 120s without" in str(refused.value)
        RUN_LOCK.unlink()


def test_a_run_in_another_pid_namespace_keeps_its_locks(workdir, orders):
    """Its pid means nothing here (no such process, or another one): the lock still holds."""
    write_raw(orders)
    for pid in (dead_pid(), os.getpid()):
        write_lock(RUN_LOCK, pid=pid, pidns=OTHER_PIDNS)
        with pytest.raises(WriteConflictError, match=rf"held by process {pid} on host '{HOST}'"):
            samples.chain().run()
        RUN_LOCK.unlink()
        write_lock(WRITE_LOCK, pid=pid, pidns=OTHER_PIDNS, start=start_time(os.getpid()))
        with pytest.raises(TaskFailedError, match=r"another writer is writing .*a\.parquet"):
            samples.chain().run()
        assert not Path(".glacier/datasets/a.parquet").exists()
        WRITE_LOCK.unlink()


def test_a_run_on_another_machine_keeps_its_locks_while_it_refreshes_them(workdir, orders):
    write_raw(orders)
    write_lock(RUN_LOCK, pid=os.getpid(), host="other-machine", boot="another-boot")
    with pytest.raises(WriteConflictError, match=r"held by process \d+ on host 'other-machine'"):
        samples.chain().run()


def test_a_live_process_here_holds_its_lock_and_a_reused_pid_does_not(workdir, orders):
    write_raw(orders)
    parent = os.getppid()
    write_lock(
        RUN_LOCK, age=3600, pid=parent, start=start_time(parent)
    )  # alive: no heartbeat needed
    with pytest.raises(WriteConflictError, match=rf"held by process {parent} on host"):
        samples.chain().run()
    write_lock(RUN_LOCK, pid=parent, start="1")  # that pid now belongs to another process
    with pytest.warns(UserWarning, match=r"its pid now belongs to another process"):
        assert samples.chain().run().ok
    write_lock(RUN_LOCK, pid=dead_pid(), start="1")
    with pytest.warns(UserWarning, match=r"is no longer running"):
        assert samples.chain().run(force=True).ok
    assert not RUN_LOCK.exists()


def test_the_lock_file_names_its_holder_by_more_than_a_pid(workdir, orders):
    write_raw(orders)
    seen: dict[str, Any] = {}

    def look(name: str) -> None:
        if name == "make_a":
            seen.update(json.loads(RUN_LOCK.read_text()))

    samples.chain(look).run()
    assert seen["pid"] == os.getpid() and seen["host"] == HOST
    assert seen["boot"] == BOOT and seen["pidns"] == PIDNS
    assert seen["start"] == start_time(os.getpid())
    assert len(seen["token"]) == 16 and abs(seen["since"] - time.time()) < 60
    assert not RUN_LOCK.exists()


def test_state_is_not_saved_once_another_run_broke_the_run_lock(workdir, orders):
    """Another run judged this run's lock stale and took it: this run must not overwrite the
    state that run keeps, and says so; the datasets it wrote stay as they are."""
    write_raw(orders)

    def taken_over(name: str) -> None:
        if name == "make_c":
            write_lock(RUN_LOCK, pid=1, host="laptop", boot="other")

    with pytest.raises(WriteConflictError, match=r"run state .*chain\.json was not saved.*laptop"):
        samples.chain(taken_over).run()
    assert not STATE.exists()
    assert json.loads(RUN_LOCK.read_text())["host"] == "laptop"  # the other run's lock is left
    assert pl.read_parquet(".glacier/datasets/c.parquet")["step"].to_list()[0] == 3


def test_a_dataset_write_is_not_published_once_its_lock_was_broken(workdir):
    lock = Path(".glacier/datasets/.out.parquet.lock")
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="broken_write")

    def take_over(batch: pl.Series) -> pl.Series:  # runs inside the write's query
        write_lock(lock, pid=1, host="other-writer", boot="other")
        return batch

    @p.task()
    def copy(r: raw) -> out:
        return r.with_columns(pl.col("x").map_batches(take_over, return_dtype=pl.Int64))

    with pytest.raises(TaskFailedError, match=r"write lock .*\.out\.parquet\.lock was broken"):
        p.run(inputs={"raw": pl.DataFrame({"x": [1, 2]})})
    assert not Path(".glacier/datasets/out.parquet").exists()
    assert json.loads(lock.read_text())["host"] == "other-writer"
    assert not [n for n in os.listdir(".glacier/datasets") if n.endswith(".tmp")]


def test_a_holder_refreshes_its_lock_while_it_runs(workdir, orders, monkeypatch):
    monkeypatch.setattr("glacier.locks.STALE_AFTER", 0.8)  # heartbeat every 0.2 s
    write_raw(orders)
    ages: list[float] = []

    def slow(name: str) -> None:
        if name == "make_b":
            time.sleep(2.5)
            ages.append(time.time() - RUN_LOCK.stat().st_mtime)

    samples.chain(slow).run()
    assert ages and ages[0] < 1.5, ages


@pytest.mark.parametrize("contenders", [2, 4])
def test_of_the_runs_breaking_one_stale_lock_exactly_one_takes_it(workdir, contenders):
    from glacier import locks

    path = str(workdir / "x.lock")
    for _ in range(30):
        write_lock(Path(path), age=3600, pid=1, host="gone", boot="gone")
        barrier = threading.Barrier(contenders)
        got: list[Any] = []

        def contend(barrier: threading.Barrier, got: list[Any]) -> None:
            barrier.wait()
            lock = locks.acquire(path)
            if lock is not None:
                got.append(lock)

        with pytest.warns(UserWarning, match="broke the stale lock"):
            threads = [
                threading.Thread(target=contend, args=(barrier, got)) for _ in range(contenders)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert len(got) == 1 and got[0].held()
        got[0].release()
        assert sorted(os.listdir(workdir)) == []


def test_a_lock_this_process_left_behind_is_taken_over(workdir, orders):
    """A run interrupted while releasing its lock (a notebook keeps the process) must not
    block the next run in the same process forever."""
    write_raw(orders)
    write_lock(RUN_LOCK, pid=os.getpid(), start=start_time(os.getpid()))
    with pytest.warns(UserWarning, match=r"this process took it and no longer holds it"):
        assert samples.chain().run().ok
