"""The run state file and run lock: damaged, foreign or unwritable state, crashes while saving,
hand-edited outputs, renamed tasks, source definitions, and two processes on one root."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import executor_pipelines as samples
import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.errors import GlacierError, WriteConflictError
from glacier.executor import state
from glacier.storage import LocalFS, ObjectStorage

STATE = Path(".glacier/state/chain.json")
LOCK = Path(".glacier/state/chain.lock")


def statuses(result: Any) -> dict[str, str]:
    return {n: t.status for n, t in result.tasks.items()}


def write_raw(frame: pl.DataFrame) -> None:
    Path(".glacier/datasets").mkdir(parents=True, exist_ok=True)
    frame.write_parquet(".glacier/datasets/raw.parquet")


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(".") or n.endswith(".tmp"))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("", "not valid JSON"),
        ('{"version": 1, "tasks": {"make_a": {"finger', "not valid JSON"),
        ("[]", "not a Glacier state file"),
        ('{"make_a": "x"}', "not a Glacier state file"),  # the layout before versions
        (
            '{"version": 99, "tasks": {}}',
            f"state version 99 and this Glacier reads version {state.STATE_VERSION}",
        ),
    ],
)
def test_a_damaged_or_foreign_state_file_is_ignored_with_a_warning(workdir, orders, content, why):
    write_raw(orders)
    samples.chain().run()
    STATE.write_text(content)
    with pytest.warns(UserWarning, match=rf"ignoring the run state .*chain\.json: .*{why}"):
        result = samples.chain().run()
    assert set(statuses(result).values()) == {"succeeded"}
    assert set(statuses(samples.chain().run()).values()) == {"skipped"}  # rewritten whole


def test_a_state_entry_of_the_wrong_shape_is_dropped(workdir, orders):
    write_raw(orders)
    samples.chain().run()
    STATE.write_text(
        json.dumps({"version": state.STATE_VERSION, "tasks": {"make_a": "x", "make_b": [1]}})
    )
    assert statuses(samples.chain().run())["make_a"] == "succeeded"


def test_an_unwritable_state_file_stops_the_run_before_any_task_runs(workdir, orders):
    write_raw(orders)
    STATE.mkdir(parents=True)  # a folder where the state file goes
    calls: list[str] = []
    with pytest.raises(
        GlacierError, match=r"cannot write the run state file .*chain\.json: .*Remove .*chain\.json"
    ):
        samples.chain(calls.append).run()
    assert calls == [] and not Path(".glacier/datasets/a.parquet").exists()


def test_a_state_folder_that_is_a_file_names_the_file_and_the_fix(workdir, orders):
    write_raw(orders)
    Path(".glacier/state").write_text("")
    with pytest.raises(
        GlacierError,
        match=r"cannot write the run state file .*chain\.json: .*Make .*state a writable folder",
    ):
        samples.chain().run()


def test_a_crash_while_saving_the_state_leaves_the_previous_state(workdir, orders, monkeypatch):
    write_raw(orders)
    samples.chain().run()
    before = STATE.read_text()

    def disk_full(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2])  # half written, then the disk is full
        raise OSError(28, "No space left on device")

    os.remove(".glacier/datasets/c.parquet")
    with monkeypatch.context() as patched:
        patched.setattr(state, "_write_new", disk_full)
        with pytest.raises(GlacierError, match=r"cannot write the run state file .*No space"):
            samples.chain().run()
    assert STATE.read_text() == before
    assert leftovers(STATE.parent) == []
    assert not LOCK.exists()  # the run lock is released


def test_an_output_edited_by_hand_reruns_its_producer_and_readers_even_across_selects(
    workdir, orders
):
    write_raw(orders)
    samples.chain().run()
    pl.DataFrame({"x": [1]}).write_parquet(".glacier/datasets/b.parquet")
    only_b = samples.chain().run(select=["b"])
    assert statuses(only_b) == {"make_a": "skipped", "make_b": "succeeded"}
    # make_c last read the b it wrote before; b was rewritten since, so make_c reruns
    assert statuses(samples.chain().run()) == {
        "make_a": "skipped",
        "make_b": "skipped",
        "make_c": "succeeded",
    }


def _csv_pipeline(schema: dict[str, Any] | None) -> Pipeline:
    src = Dataset("src", storage=LocalFS("inbox"), format="csv", schema=schema)
    out = Dataset("out", storage=ObjectStorage())
    p = Pipeline(name="csv")

    @p.task()
    def copy(s: src) -> out:
        return s

    return p


def test_a_source_schema_change_reruns_its_readers(workdir):
    Path("inbox").mkdir()
    pl.DataFrame({"id": [1, 2], "code": [7, 8]}).write_csv("inbox/src.csv")
    assert _csv_pipeline(None).run()["out"].collect_schema()["code"] == pl.Int64
    changed = _csv_pipeline({"id": pl.Int64, "code": pl.String}).run()
    assert statuses(changed) == {"copy": "succeeded"}
    assert changed["out"].collect_schema()["code"] == pl.String


def test_a_renamed_task_runs_and_its_old_state_entry_is_dropped(workdir):
    def build(name: str) -> Pipeline:
        out = Dataset("out", storage=ObjectStorage())
        p = Pipeline(name="chain")

        @p.task(name=name)
        def make() -> out:
            return pl.LazyFrame({"x": [1]})

        return p

    build("first").run()
    assert statuses(build("second").run()) == {"second": "succeeded"}
    assert set(json.loads(STATE.read_text())["tasks"]) == {"second"}


def test_force_then_not_force(workdir, orders):
    write_raw(orders)
    assert set(statuses(samples.chain().run(force=True)).values()) == {"succeeded"}
    assert set(statuses(samples.chain().run(force=True)).values()) == {"succeeded"}
    assert set(statuses(samples.chain().run()).values()) == {"skipped"}


# -- two processes on one root -----------------------------------------------------------------


def _hold(name: str) -> None:
    """Inside ``make_a``, while the file ``holding`` exists: say so (file ``inside``) and wait.

    Signalled through files, not Events: a hook holding an Event has no fingerprint, so the
    tasks calling it would never be recorded as fresh.
    """
    if name == "make_a" and os.path.exists("holding"):
        Path("inside").touch()
        deadline = time.monotonic() + 120
        while os.path.exists("holding"):
            if time.monotonic() > deadline:
                raise RuntimeError("never released")
            time.sleep(0.01)


def _hold_a_run(root: str) -> None:
    """In a child process: run the chain and stay inside ``make_a`` while ``holding`` exists."""
    os.chdir(root)
    samples.chain(_hold).run()


def _wait_for(path: str, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_second_run_of_the_same_pipeline_on_the_same_root_is_refused(workdir, orders):
    write_raw(orders)
    ctx = multiprocessing.get_context("spawn")  # fork after Polars started threads can hang
    Path("holding").touch()
    child = ctx.Process(target=_hold_a_run, args=(str(workdir),))
    child.start()
    try:
        assert _wait_for("inside"), "the first run never reached its task"
        calls: list[str] = []
        with pytest.raises(
            WriteConflictError,
            match=rf"pipeline 'chain' is already running on .* held by process {child.pid}",
        ):
            samples.chain(calls.append).run()
        assert calls == []  # refused before any task ran: nothing interleaves
    finally:
        Path("holding").unlink()
        child.join(120)
    assert child.exitcode == 0
    assert not LOCK.exists()
    assert set(statuses(samples.chain(_hold).run()).values()) == {"skipped"}  # the child's state
    assert pl.read_parquet(".glacier/datasets/c.parquet")["step"].unique().to_list() == [3]


def test_a_run_lock_left_by_a_killed_process_is_taken_over(workdir, orders):
    ctx = multiprocessing.get_context("spawn")
    dead = ctx.Process(target=os.getpid)
    dead.start()
    dead.join()
    write_raw(orders)
    LOCK.parent.mkdir(parents=True)
    for content in (str(dead.pid), ""):  # a dead writer's pid, or none (killed mid-write)
        LOCK.write_text(content)
        assert samples.chain().run(force=True).ok
        assert not LOCK.exists()


def test_taking_over_a_stale_lock_gives_back_a_live_one_that_replaced_it(workdir, monkeypatch):
    """Two takers saw the same dead lock; the first replaced it with its own live lock before
    the second renamed it away: the second must put it back and back off."""
    import glacier.locks as glocks

    lock = workdir / ".x.lock"
    lock.write_text("1")  # the first taker's lock (pid 1: a live process)
    seen = iter([("999999999", time.time())])  # what the second taker read before the takeover
    real = glocks._read_with_mtime
    monkeypatch.setattr(glocks, "_read_with_mtime", lambda path: next(seen, None) or real(path))
    assert glocks.acquire(str(lock)) is None
    assert lock.read_text() == "1"
    assert leftovers(workdir) == [".x.lock"]
