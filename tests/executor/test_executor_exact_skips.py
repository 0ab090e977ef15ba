"""Exact skips: a task reruns when anything that can change its result changed (its code through
decorators, the project's code it calls, the globals and closure values it reads, its params
compared exactly, its input data, versions), runs when Glacier cannot tell, and says why
(``run(explain=True)``, ``glacier run --explain``)."""

from __future__ import annotations

import functools
import importlib
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline, task
from glacier.cli import main
from glacier.storage import ObjectStorage


def statuses(result: Any) -> dict[str, str]:
    return {n: t.status for n, t in result.tasks.items()}


def reasons(result: Any) -> dict[str, str]:
    return {n: t.reason for n, t in result.tasks.items()}


class Project:
    """Modules of a small user project in the test's folder, imported as a new session would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: set[str] = set()

    def write(self, **files: str) -> None:
        for name, text in files.items():
            (self.folder / f"{name}.py").write_text(textwrap.dedent(text))
            self.names.add(name)

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.folder / f"{name}.py"
        text = path.read_text()
        assert old in text and len(old) != len(new)  # another size: a new file on any clock
        path.write_text(text.replace(old, new))

    def session(self, name: str = "flow") -> ModuleType:
        """Import ``name`` afresh with every project module, as a new process would."""
        self.forget()
        importlib.invalidate_caches()
        return importlib.import_module(name)

    def forget(self) -> None:
        for name in self.names:
            sys.modules.pop(name, None)


@pytest.fixture
def project(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.syspath_prepend(str(workdir))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    made = Project(workdir)
    yield made
    made.forget()


RAW = pl.DataFrame({"x": [1.0, 2.0, 3.0]})
FLOW = """
import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

raw = Dataset("raw")
out = Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="flow")
"""


def total(result: Any) -> float:
    return float(result["out"].collect()["x"].sum())


# -- code: decorators, the project's own functions, globals, closures, reloads ----------------


def test_an_edit_inside_a_decorated_task_reruns_it(project):
    project.write(
        deco="""
        import functools

        def logged(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                return fn(*args, **kwargs)
            return wrapper
        """,
        flow=FLOW
        + """
from deco import logged

@pipeline.task()
@logged
def scale(r: raw) -> out:
    return r.select(pl.col("x") * 2)
""",
    )
    assert total(project.session().pipeline.run(inputs={"raw": RAW})) == 12
    project.edit("flow", "* 2", "* 30")
    again = project.session().pipeline.run(inputs={"raw": RAW})
    assert statuses(again) == {"scale": "succeeded"} and total(again) == 180
    assert "code of flow.scale changed" in again.tasks["scale"].reason


def test_an_edit_to_a_helper_in_another_module_or_a_class_reruns_its_callers(project):
    project.write(
        helpers="""
        import polars as pl

        def transform(lf):
            return lf.select(pl.col("x") * 2)

        class Doubler:
            def apply(self, lf):
                return lf.select(pl.col("x") * 2)
        """,
        flow=FLOW
        + """
import helpers

mid = Dataset("mid", storage=ObjectStorage())

@pipeline.task()
def first(r: raw) -> mid:
    return helpers.transform(r)

@pipeline.task()
def second(m: mid) -> out:
    return helpers.Doubler().apply(m)
""",
    )
    assert total(project.session().pipeline.run(inputs={"raw": RAW})) == 24
    project.edit("helpers", "* 2)\n\nclass", "* 10)\n\nclass")
    again = project.session().pipeline.run(inputs={"raw": RAW})
    assert statuses(again) == {"first": "succeeded", "second": "succeeded"} and total(again) == 120
    assert reasons(again)["first"] == "code of helpers.transform changed"
    project.edit("helpers", "* 2", "* 20")  # now only the class's method
    last = project.session().pipeline.run(inputs={"raw": RAW})
    assert statuses(last) == {"first": "skipped", "second": "succeeded"} and total(last) == 1200
    assert "code of helpers.Doubler.apply changed" in reasons(last)["second"]


def test_a_module_constant_the_task_reads_reruns_it_when_changed(project):
    project.write(
        flow=FLOW
        + """
FACTOR = 2

@pipeline.task()
def scale(r: raw) -> out:
    return r.select(pl.col("x") * FACTOR)
"""
    )
    assert total(project.session().pipeline.run(inputs={"raw": RAW})) == 12
    project.edit("flow", "FACTOR = 2", "FACTOR = 30")
    again = project.session().pipeline.run(inputs={"raw": RAW})
    assert statuses(again) == {"scale": "succeeded"} and total(again) == 180
    assert reasons(again)["scale"] == "global flow.FACTOR changed"


def test_common_helpers_still_skip_and_a_settings_object_counts_by_its_values(project):
    # a logger, a frozen dataclass instance, an enum, a set, an lru_cache'd function and a
    # pydantic model: all have exact digests, so an unchanged second session skips
    project.write(
        settings="""
        import dataclasses
        import enum
        import functools
        import logging

        import polars as pl
        from pydantic import BaseModel

        log = logging.getLogger(__name__)
        KEEP = {"x", "y"}

        class Mode(enum.Enum):
            DOUBLE = 2

        @dataclasses.dataclass(frozen=True)
        class Settings:
            factor: float = 2.0

            def apply(self, lf):
                return lf.with_columns(pl.col("x") * self.factor * Mode.DOUBLE.value)

        class Row(BaseModel):
            x: float

        @functools.lru_cache
        def offset():
            return 0.0

        SETTINGS = Settings()
        """,
        flow=FLOW
        + """
import settings

@pipeline.task()
def scale(r: raw) -> out:
    settings.log.info("scaling")
    settings.Row(x=1.0)
    lf = settings.SETTINGS.apply(r.select(sorted(settings.KEEP & set(r.collect_schema()))))
    return lf.with_columns(pl.col("x") + settings.offset())
""",
    )
    assert total(project.session().pipeline.run(inputs={"raw": RAW})) == 24
    assert statuses(project.session().pipeline.run(inputs={"raw": RAW})) == {"scale": "skipped"}
    project.edit("settings", "factor: float = 2.0", "factor: float = 30.0")
    again = project.session().pipeline.run(inputs={"raw": RAW})
    assert statuses(again) == {"scale": "succeeded"} and total(again) == 360


def _factory_pipeline(factor: float) -> Pipeline:
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    @task(name="scale")
    def scale(r: raw) -> out:
        return r.select(pl.col("x") * factor)

    return Pipeline([scale], name="factory")


def test_a_closure_variable_of_a_task_made_by_a_factory_reruns_it_when_changed(workdir):
    assert total(_factory_pipeline(2).run(inputs={"raw": RAW})) == 12
    assert statuses(_factory_pipeline(2).run(inputs={"raw": RAW})) == {"scale": "skipped"}
    again = _factory_pipeline(30).run(inputs={"raw": RAW})
    assert statuses(again) == {"scale": "succeeded"} and total(again) == 180
    assert "closure" in reasons(again)["scale"] and "factor changed" in reasons(again)["scale"]


def test_a_notebook_edit_and_reload_of_the_task_module_reruns_it(project):
    project.write(
        flow=FLOW
        + """
@pipeline.task()
def scale(r: raw) -> out:
    return r.select(pl.col("x") * 2)
"""
    )
    flow = project.session()
    assert total(flow.pipeline.run(inputs={"raw": RAW})) == 12
    before = flow.pipeline.tasks[0].code_hash
    project.edit("flow", "* 2", "* 30")
    flow = importlib.reload(flow)  # the same process: linecache still holds the old lines
    again = flow.pipeline.run(inputs={"raw": RAW})
    assert statuses(again) == {"scale": "succeeded"} and total(again) == 180
    assert flow.pipeline.tasks[0].code_hash != before  # the manifest's hash is fresh too


# -- params, versions and input data -----------------------------------------------------------


def _pick_pipeline() -> Pipeline:
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    @task()
    def pick(r: raw, keep=None) -> out:  # any value: no JSON default needed
        return r.filter(pl.col("x").is_in(keep.implode()))

    return Pipeline([pick], name="pick")


def test_a_param_that_is_not_json_is_compared_by_its_data_not_its_text(workdir):
    many = pl.DataFrame({"x": [float(i) for i in range(100)]})
    first = pl.Series("keep", [float(i) for i in range(100)])
    second = first.clone().scatter(50, -1.0)  # str() of both shows the same ten values
    assert str(first) == str(second)
    run = _pick_pipeline().run(inputs={"raw": many}, params={"pick.keep": first})
    assert run["out"].collect().height == 100
    again = _pick_pipeline().run(inputs={"raw": many}, params={"pick.keep": second})
    assert statuses(again) == {"pick": "succeeded"} and again["out"].collect().height == 99
    assert reasons(again)["pick"] == "param keep changed"
    same = _pick_pipeline().run(inputs={"raw": many}, params={"pick.keep": second.clone()})
    assert statuses(same) == {"pick": "skipped"}


def test_a_polars_version_change_reruns_every_task(workdir, monkeypatch):
    assert statuses(_factory_pipeline(2).run(inputs={"raw": RAW})) == {"scale": "succeeded"}
    monkeypatch.setattr(pl, "__version__", "0.0.1")
    again = _factory_pipeline(2).run(inputs={"raw": RAW})
    assert statuses(again) == {"scale": "succeeded"}
    assert reasons(again)["scale"].startswith("polars version changed (")


def _count_by_year() -> Pipeline:
    events, out = Dataset("events"), Dataset("out", storage=ObjectStorage())

    @task()
    def count(e: events) -> out:
        return e.group_by("year").agg(pl.len()).sort("year")

    return Pipeline([count], name="hive")


def test_moving_a_file_between_hive_partitions_of_a_folder_source_reruns_its_readers(workdir):
    for year, name in (("2023", "a"), ("2023", "b"), ("2024", "c")):
        Path(f"events/year={year}").mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"id": [1, 2]}).write_parquet(f"events/year={year}/{name}.parquet")
    inputs = {"events": "events"}
    first = _count_by_year().run(inputs=inputs)
    assert first["out"].collect()["len"].to_list() == [4, 2]
    # same sizes, same mtimes, same folder mtime: only the partition (and the data) differs
    os.rename("events/year=2023/b.parquet", "events/year=2024/b.parquet")
    again = _count_by_year().run(inputs=inputs)
    assert statuses(again) == {"count": "succeeded"}
    assert again["out"].collect()["len"].to_list() == [2, 4]
    assert reasons(again)["count"] == "source events changed"


def _inverse() -> Pipeline:
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    @task()
    def inverse(r: raw) -> out:
        return r.select((1 / pl.col("x")).alias("x"))

    return Pipeline([inverse], name="inverse")


def test_negative_zero_in_a_dataframe_source_is_not_zero(workdir):
    first = _inverse().run(inputs={"raw": pl.DataFrame({"x": [0.0]})})
    assert first["out"].collect()["x"].to_list() == [float("inf")]
    again = _inverse().run(inputs={"raw": pl.DataFrame({"x": [-0.0]})})
    assert statuses(again) == {"inverse": "succeeded"}
    assert again["out"].collect()["x"].to_list() == [float("-inf")]


def test_an_object_column_in_a_source_runs_its_readers_and_says_why(workdir):
    raw = pl.DataFrame(
        {"o": [[1], {"a": 1}], "x": [1.0, 2.0]}, schema={"o": pl.Object, "x": pl.Float64}
    )
    raw_ds, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    @task()
    def keep(r: raw_ds) -> out:
        return r.select("x")

    for _ in range(2):  # never skipped: Glacier cannot tell whether the objects changed
        result = Pipeline([keep], name="objects").run(inputs={"raw": raw})
        assert statuses(result) == {"keep": "succeeded"} and total(result) == 3
    assert reasons(result)["keep"] == (
        "cannot fingerprint source raw: its DataFrame cannot be fingerprinted: column 'o' has "
        "dtype Object, whose Python objects have no exact digest"
    )


# -- what cannot be fingerprinted runs; a recorded output that is gone reruns -------------------

LOCK = threading.Lock()
DEEP: list[Any] = []
for _ in range(100):
    DEEP = [DEEP]


@pytest.mark.parametrize(
    ("reader", "why"),
    [
        (lambda: LOCK.locked(), "global test_executor_exact_skips.LOCK: a _thread.lock object"),
        (lambda: len(DEEP), "global test_executor_exact_skips.DEEP: it nests deeper than 64"),
    ],
)
def test_a_task_reading_what_cannot_be_fingerprinted_always_runs(
    workdir, reader: Callable[[], Any], why: str
):
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    @task()
    def use(r: raw) -> out:
        reader()
        return r

    for _ in range(2):
        result = Pipeline([use], name="opaque").run(inputs={"raw": RAW})
        assert statuses(result) == {"use": "succeeded"}
    assert (
        reasons(result)["use"].startswith("cannot fingerprint ") and why in reasons(result)["use"]
    )


def test_a_recorded_output_that_is_missing_reruns_its_producer(workdir):
    # `tidy` deletes `a` after reading it, so the state records `a` as missing; a missing
    # output never equals a recorded missing one: the next run rebuilds it
    raw = Dataset("raw")
    a, b = Dataset("a", storage=ObjectStorage()), Dataset("b", storage=ObjectStorage())

    @task()
    def make(r: raw) -> a:
        return r

    @task()
    def tidy(x: Annotated[pl.DataFrame, a]) -> b:
        os.remove(".glacier/datasets/a.parquet")
        return x

    p = Pipeline([make, tidy], name="missing")
    assert statuses(p.run(inputs={"raw": RAW})) == {"make": "succeeded", "tidy": "succeeded"}
    again = p.run(inputs={"raw": RAW})
    assert statuses(again) == {"make": "succeeded", "tidy": "succeeded"}
    assert reasons(again) == {"make": "output a missing", "tidy": "upstream task make runs"}


# -- explain -------------------------------------------------------------------------------------


def _explained(top_n: int = 2) -> Pipeline:
    orders, out = Dataset("orders"), Dataset("out", storage=ObjectStorage())
    mid = Dataset("mid", storage=ObjectStorage())

    @task()
    def clean(o: orders) -> mid:
        return o.filter(pl.col("x") > 0)

    @task()
    def top(m: mid, top_n: int = top_n) -> out:
        return m.sort("x").head(top_n)

    return Pipeline([clean, top], name="explained")


def test_run_explain_prints_each_decision_and_its_reason_then_runs(workdir, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    first = _explained().run(inputs={"orders": RAW}, explain=True)
    out = capsys.readouterr().out
    assert "pipeline explained: 2 to run, 0 to skip" in out
    assert out.count("never ran") == 1 and "upstream task clean runs" in out
    assert statuses(first) == {"clean": "succeeded", "top": "succeeded"}  # it still runs
    _explained().run(inputs={"orders": RAW}, params={"top.top_n": 1}, explain=True)
    out = capsys.readouterr().out
    assert "1 to run, 1 to skip" in out and "unchanged" in out and "param top_n changed" in out
    _explained().run(inputs={"orders": RAW.head(2)}, force=True, explain=True)
    assert capsys.readouterr().out.count("forced") == 2
    changed = _explained().run(inputs={"orders": RAW}, explain=True)
    assert "source orders changed" in capsys.readouterr().out
    assert reasons(changed)["top"] == "upstream task clean runs"


CLI_PIPELINE = """
import polars as pl
from glacier import Dataset, Pipeline

import cli_helpers

raw = Dataset("raw")
clean = Dataset("clean")
pipeline = Pipeline(name="cli_explain")

@pipeline.task()
def tidy(r: raw, top_n: int = 5) -> clean:
    return cli_helpers.transform(r).head(top_n)
"""


def test_glacier_run_explain_prints_the_decisions(project, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    RAW.write_parquet("raw.parquet")
    project.write(
        cli_helpers="import polars as pl\n\ndef transform(lf):\n    return lf.select(pl.col('x'))\n",
        cli_flow=CLI_PIPELINE,
    )
    args = ["run", "cli_flow.py", "--input", "raw=raw.parquet", "--explain", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "tidy" in out and "never ran" in out and "succeeded" in out
    project.edit("cli_helpers", "pl.col('x')", "pl.col('x') * 2")
    project.forget()  # as a new `glacier run` process would
    assert main([*args, "--param", "tidy.top_n=2"]) == 0
    out = capsys.readouterr().out
    assert "code of cli_helpers.transform changed; param top_n changed" in out
    assert main(args[:-2]) == 0  # without --explain: only the run table
    assert "decision" not in capsys.readouterr().out


# -- the cloud manifest's code hash --------------------------------------------------------------


def _wrapped(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def test_the_manifest_code_hash_covers_a_decorated_tasks_body(workdir):
    raw, out = Dataset("raw"), Dataset("out")

    def one(r: raw) -> out:
        return r.select(pl.col("x") * 2)

    def two(r: raw) -> out:
        return r.select(pl.col("x") * 3)

    scope = {"raw": raw, "out": out}
    first, again, other = (task(name="t", _scope=scope)(_wrapped(f)) for f in (one, one, two))
    assert first.code_hash == again.code_hash != other.code_hash
    spec = Pipeline([first], name="hashes").spec()
    assert spec.tasks[0].code_hash == first.code_hash  # what the cloud runtime compares
