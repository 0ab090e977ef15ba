"""What a newcomer sees: errors pointing at their code, in command-line words, every missing
source at once, a stray ``@task`` named, honest progress and timings, where outputs went,
and the task logger."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from glacier.cli import main

PIPELINE = """
import polars as pl
from glacier import Dataset, Pipeline, task
from glacier.storage import LocalFS

raw = Dataset("raw")
mid = Dataset("mid")
out = Dataset("out", storage=LocalFS("out"))
pipeline = Pipeline(name="newcomer")

@pipeline.task()
def first(r: raw, mode: str = "ok") -> mid:
    LOG.info("first sees mode %s", mode)
    if mode == "raise":
        helper_that_fails()
    if mode == "polars":
        return r.with_columns(pl.col("name").cast(pl.Int64, strict=True))
    return r

@pipeline.task()
def second(m: mid) -> out:
    return m.with_columns(doubled=pl.col("a") * 2)

def helper_that_fails():
    raise ValueError("the helper failed")

@task
def forgotten(m: mid) -> Dataset("other"):
    return m
"""


#: The errors tests log through a plain logger; the logger test through glacier.get_logger().
PLAIN_LOG = "import logging\nLOG = logging.getLogger('plain')\n"
TASK_LOG = "from glacier import get_logger\nclass LOG:\n    info = staticmethod(lambda *a: get_logger().info(*a))\n"


@pytest.fixture
def ref(workdir: Path, request: pytest.FixtureRequest) -> str:
    pl.DataFrame({"a": [1, 2], "name": ["x" * 40, "y"]}).write_parquet("raw.parquet")
    log = TASK_LOG if "task_log" in request.node.name else PLAIN_LOG
    (workdir / "newcomer_flow.py").write_text(PIPELINE + log)
    return "newcomer_flow.py"


def _run(ref: str, *extra: str) -> list[str]:
    return ["run", ref, "--input", "raw=raw.parquet", "--no-progress", *extra]


def test_task_error_names_the_users_file_and_line(ref, capsys):
    assert main(_run(ref, "--param", "first.mode=raise")) == 1
    errors = [e for e in capsys.readouterr().err.splitlines() if e.startswith("error:")]
    line = PIPELINE.splitlines().index('    raise ValueError("the helper failed")') + 1
    assert len(errors) == 1
    assert f"ValueError: the helper failed (at newcomer_flow.py:{line})" in errors[0]


def test_polars_error_is_cut_to_its_first_line_rest_under_debug(ref, capsys):
    assert main(_run(ref, "--param", "first.mode=polars")) == 1
    errors = [e for e in capsys.readouterr().err.splitlines() if e.startswith("error:")]
    assert len(errors) == 1 and len(errors[0]) < 600, errors
    err = errors[0]
    assert "task 'first' failed" in err and "rerun with --debug" in err
    assert "newcomer_flow.py:" in err
    assert main([*_run(ref, "--param", "first.mode=polars"), "--debug"]) == 1
    assert len(capsys.readouterr().err) > len(err)


def test_flag_errors_speak_in_flags(ref, capsys):
    assert main(_run(ref, "--param", "first=3")) == 1
    err = capsys.readouterr().err
    assert "--param first=..." in err and "TASK.PARAM=VALUE" in err and "params key" not in err
    assert main(_run(ref, "--param", "first.nope=3")) == 1
    err = capsys.readouterr().err
    assert "--param first.nope=..." in err and "its parameters: mode" in err
    assert main(_run(ref, "--input", "mid=x.parquet")) == 1
    err = capsys.readouterr().err
    assert "--input mid=..." in err and "inputs=" not in err
    assert main(_run(ref, "--select", "raw")) == 1
    err = capsys.readouterr().err
    assert "--select raw: names only sources" in err and "select=" not in err


THREE = """
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

a, b, c = Dataset("a"), Dataset("b", storage=ObjectStorage()), Dataset("c")
joined = Dataset("joined", storage=ObjectStorage())
pipeline = Pipeline(name="three")

@pipeline.task()
def join(x: a, y: b, z: c) -> joined:
    return x.join(y, on="k").join(z, on="k")
"""


def test_every_missing_source_in_one_error(workdir, capsys):
    (workdir / "three_sources.py").write_text(THREE)
    assert main(["run", "three_sources.py", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "3 source datasets have no data" in err
    assert "--input a=PATH --input b=PATH --input c=PATH" in err
    assert "inputs=" not in err


def test_stray_task_is_a_warning_naming_it(ref, capsys):
    assert main(_run(ref)) == 0
    err = capsys.readouterr().err
    assert "warning: task 'forgotten' in module 'newcomer_flow' is in no pipeline" in err
    assert "@pipeline.task" in err


def test_stray_task_warns_on_a_plain_python_run(ref, workdir, monkeypatch):
    import importlib
    import sys

    from glacier.errors import GlacierWarning

    monkeypatch.syspath_prepend(str(workdir))
    sys.modules.pop("newcomer_flow", None)
    flow = importlib.import_module("newcomer_flow")
    try:
        with pytest.warns(GlacierWarning, match=r"task 'forgotten' .* is in no pipeline") as seen:
            flow.pipeline.run(inputs={"raw": "raw.parquet"})
        assert len([w for w in seen if "forgotten" in str(w.message)]) == 1
        assert seen[0].filename == __file__  # points at the caller of run()
    finally:
        sys.modules.pop("newcomer_flow", None)


def test_final_table_says_fused_and_run_lists_outputs(ref, capsys):
    assert main(_run(ref)) == 0
    out = capsys.readouterr().out
    assert out.count("fused (2 tasks,") == 2  # first and second ran in one query
    assert "outputs:" in out
    assert f"out (second, written): {Path('out/out.parquet').resolve()}" in out


def test_task_log_lines_show_with_the_task_name(ref, capsys):
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("glacier.task").addHandler(catcher)
    try:
        assert main(_run(ref)) == 0
    finally:
        logging.getLogger("glacier.task").removeHandler(catcher)
    assert "first | first sees mode ok" in capsys.readouterr().err
    assert [r.name for r in records if "sees mode" in r.getMessage()] == ["glacier.task.first"]


SLOW = """
import time
import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import LocalFS

raw, mid = Dataset("raw"), Dataset("mid")
out = Dataset("out", storage=LocalFS("out"))
pipeline = Pipeline(name="slowq")

def _sleepy(s):
    time.sleep(0.3)
    import tests_progress_probe
    tests_progress_probe.SEEN.append(tests_progress_probe.snapshot())
    return s

@pipeline.task()
def prepare(r: raw) -> mid:
    return r

@pipeline.task()
def compute(m: mid) -> out:
    return m.with_columns(pl.col("a").map_batches(_sleepy, return_dtype=pl.Int64))
"""


def test_live_view_shows_the_fused_query_not_tasks_running(workdir, monkeypatch, capsys):
    import io
    import sys
    import types

    from rich.console import Console

    from glacier.executor import progress

    shown: list = []
    real_init = progress.RichProgress.__init__

    def init(self, names, console=None):
        real_init(self, names, Console(file=io.StringIO()))
        shown.append(self)

    monkeypatch.setattr(progress.RichProgress, "__init__", init)
    probe = types.ModuleType("tests_progress_probe")
    probe.SEEN = []

    def snapshot() -> str:
        buffer = Console(file=io.StringIO(), width=200)
        view = shown[0]
        buffer.print(view.table() if hasattr(view, "table") else view._table())
        return buffer.file.getvalue()

    probe.snapshot = snapshot
    monkeypatch.setitem(sys.modules, "tests_progress_probe", probe)
    pl.DataFrame({"a": [1, 2]}).write_parquet("raw.parquet")
    (workdir / "slow_query.py").write_text(SLOW)
    from glacier import LocalExecutor
    from glacier.loader import load_pipeline

    LocalExecutor(progress=True).run(load_pipeline("slow_query.py"), inputs={"raw": "raw.parquet"})
    during = probe.SEEN[0]
    assert "query 1: prepare, compute" in during and "fused, running" in during
    for task in ("prepare", "compute"):
        row = next(line for line in during.splitlines() if line.strip().startswith(task))
        assert "in query 1" in row and "running" not in row, during


def test_runtime_sends_task_lines_to_stderr_with_the_task_name(capsys):
    from glacier.tasklog import configure_for_runtime, get_logger, task_scope

    logger = logging.getLogger("glacier.task")
    before = (logger.level, list(logger.handlers), logger.propagate)
    try:
        logger.handlers[:] = []  # a handler an earlier runtime test left holds that test's stderr
        configure_for_runtime()
        with task_scope("clean"):
            get_logger().info("rows kept: %d", 3)
        assert "INFO glacier.task.clean: rows kept: 3" in capsys.readouterr().err
    finally:
        logger.setLevel(before[0])
        logger.handlers[:] = before[1]
        logger.propagate = before[2]
