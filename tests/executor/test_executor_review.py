"""Second review of exact skips and isolated tasks: code a task reaches in ways the first walk
missed (a private class attribute, a dataclass's default factory, a singledispatch
implementation, a custom Polars namespace), what a task's env sets, the values a timed task
computes with in its worker process, and common code that must still skip (slotted classes,
a LoggerAdapter)."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline, compute, task
from glacier.storage import ObjectStorage

RAW = pl.DataFrame({"x": [1.0, 2.0, 3.0]})
FLOW = """
import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

raw = Dataset("raw")
out = Dataset("out", storage=ObjectStorage())
pipeline = Pipeline(name="flow")
"""


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
        for module in self.names:
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
        return importlib.import_module(name)


@pytest.fixture
def project(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.syspath_prepend(str(workdir))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    made = Project(workdir)
    yield made
    for module in made.names:
        sys.modules.pop(module, None)


def run(project: Project, **kwargs: Any) -> Any:
    return project.session().pipeline.run(inputs={"raw": RAW}, **kwargs)


def status(result: Any) -> str:
    return str(result.tasks["scale"].status)


def column(result: Any, name: str = "y") -> list[Any]:
    return list(result["out"].collect()[name])


CONSTS = """
FACTOR = 2

def make():
    return 2
"""


def test_a_private_class_attribute_computed_in_another_module_reruns_its_readers(project):
    project.write(
        consts=CONSTS,
        helpers="""
        import polars as pl
        import consts

        class Scaler:
            _K = consts.FACTOR

            def apply(self, lf):
                return lf.with_columns(y=pl.col("x") * self._K)
        """,
        flow=FLOW
        + """
import helpers

@pipeline.task()
def scale(r: raw) -> out:
    return helpers.Scaler().apply(r)
""",
    )
    assert column(run(project)) == [2, 4, 6]
    project.edit("consts", "FACTOR = 2", "FACTOR = 10")  # the class's source is unchanged
    again = run(project)
    assert status(again) == "succeeded" and column(again) == [10, 20, 30]
    assert "class attribute helpers.Scaler._K changed" in again.tasks["scale"].reason


@pytest.mark.parametrize(
    "declared",
    [
        "dataclasses.dataclass\nclass Settings:\n    k: int = dataclasses.field(default_factory=consts.make)",
        "dataclasses.dataclass\nclass Settings:\n    k: int = dataclasses.field(default_factory=lambda: consts.FACTOR)",
        "dataclasses.dataclass(slots=True)\nclass Settings:\n    k: int = consts.FACTOR",
        "attrs.define\nclass Settings:\n    k: int = attrs.Factory(consts.make)",
        "lambda cls: cls\nclass Settings(pydantic.BaseModel):\n    k: int = consts.FACTOR",
        "lambda cls: cls\nclass Settings(pydantic.BaseModel):\n    k: int = pydantic.Field(default_factory=consts.make)",
    ],
    ids=["factory", "lambda-factory", "slots", "attrs-factory", "pydantic", "pydantic-factory"],
)
def test_a_field_default_computed_in_another_module_reruns_its_readers(project, declared):
    project.write(
        consts=CONSTS,
        settings="import dataclasses\n\nimport attrs\nimport pydantic\n\nimport consts\n\n\n@"
        + declared
        + "\n",
        flow=FLOW
        + """
import settings

@pipeline.task()
def scale(r: raw) -> out:
    return r.with_columns(y=pl.col("x") * settings.Settings().k)
""",
    )
    assert column(run(project)) == [2, 4, 6]
    assert status(run(project)) == "skipped"  # nothing changed: the default has a digest
    project.edit("consts", "FACTOR = 2", "FACTOR = 10")
    project.edit("consts", "return 2", "return 10")
    again = run(project)
    assert status(again) == "succeeded" and column(again) == [10, 20, 30]


def test_an_edit_to_a_singledispatch_implementation_reruns_its_callers(project):
    project.write(
        helpers="""
        import functools

        @functools.singledispatch
        def factor(value):
            return 1

        @factor.register
        def _(value: int):
            return 2
        """,
        flow=FLOW
        + """
import helpers

@pipeline.task()
def scale(r: raw) -> out:
    return r.with_columns(y=pl.col("x") * helpers.factor(0))
""",
    )
    assert column(run(project)) == [2, 4, 6]
    project.edit("helpers", "return 2", "return 10")
    again = run(project)
    assert status(again) == "succeeded" and column(again) == [10, 20, 30]


@pytest.fixture
def units() -> Iterator[None]:
    """The ``units`` namespace the test registers on pl.Expr is removed afterwards."""
    yield
    if "units" in vars(pl.Expr):
        delattr(pl.Expr, "units")


@pytest.mark.filterwarnings("ignore:overriding existing custom namespace")
def test_an_edit_to_a_custom_polars_namespace_reruns_its_users(project, units):
    project.write(
        namespaces="""
        import polars as pl

        @pl.api.register_expr_namespace("units")
        class Units:
            def __init__(self, expr):
                self._expr = expr

            def scaled(self):
                return self._expr * 2
        """,
        flow=FLOW
        + """
import namespaces  # registers pl.col(...).units

@pipeline.task()
def scale(r: raw) -> out:
    return r.with_columns(y=pl.col("x").units.scaled())
""",
    )
    assert column(run(project)) == [2, 4, 6]
    assert status(run(project)) == "skipped"
    project.edit("namespaces", "* 2", "* 10")  # the task's own code names no project object
    again = run(project)
    assert status(again) == "succeeded" and column(again) == [10, 20, 30]
    assert "code of namespaces.Units.scaled changed" in again.tasks["scale"].reason


def _env_pipeline(mode: str) -> Pipeline:
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    def scale(r: raw) -> out:
        import os

        return r.with_columns(y=pl.lit(os.environ["MODE"]))

    made = task(name="scale", compute=compute.container(env={"MODE": mode}))(scale)
    return Pipeline([made], name="env")


def test_a_changed_env_value_of_a_task_reruns_it(workdir):
    assert column(_env_pipeline("a").run(inputs={"raw": RAW})) == ["a"] * 3
    again = _env_pipeline("b").run(inputs={"raw": RAW})  # the task's code is the same
    assert status(again) == "succeeded" and column(again) == ["b"] * 3
    assert again.tasks["scale"].reason == "environment variable MODE changed"
    assert status(_env_pipeline("b").run(inputs={"raw": RAW})) == "skipped"


@pytest.mark.slow  # the timed task's attempt starts a worker process
def test_a_timed_task_computes_with_the_globals_this_process_set(project):
    project.write(
        flow=FLOW
        + """
FACTOR = 2

@pipeline.task(timeout=60)
def scale(r: raw) -> out:
    return r.with_columns(y=pl.col("x") * FACTOR)
"""
    )
    flow = project.session()
    flow.FACTOR = 5  # a script configures the module before it runs the pipeline
    result = flow.pipeline.run(inputs={"raw": RAW})
    assert column(result) == [5, 10, 15]  # a fresh import in a worker would compute 2, 4, 6


def test_common_settings_objects_still_skip(project):
    # a slotted dataclass (its fields are slot descriptors on the class) and a LoggerAdapter
    project.write(
        flow=FLOW
        + """
import dataclasses
import logging

log = logging.LoggerAdapter(logging.getLogger(__name__), {"job": "nightly"})

@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    k: int = 2

@pipeline.task()
def scale(r: raw) -> out:
    log.info("scaling")
    return r.with_columns(y=pl.col("x") * Settings().k)
"""
    )
    assert column(run(project)) == [2, 4, 6]
    again = run(project)
    assert status(again) == "skipped", again.tasks["scale"].reason


def test_a_dataframe_param_is_the_tasks_own_copy(workdir):
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())

    @task()
    def rename(r: raw, lookup: pl.DataFrame | None = None) -> out:
        assert lookup is not None
        lookup.columns = ["renamed"]
        return r

    mine = pl.DataFrame({"k": [1]})
    Pipeline([rename], name="params").run(inputs={"raw": RAW}, params={"rename.lookup": mine})
    assert mine.columns == ["k"]


def _clip_pipeline(bound: float) -> Pipeline:
    raw, out = Dataset("raw"), Dataset("out", storage=ObjectStorage())
    fill = pl.col("x").fill_null(bound).alias("y")  # an expression read from a closure

    @task(name="scale")
    def scale(r: raw) -> out:
        return r.with_columns(fill)

    return Pipeline([scale], name="clip")


def test_an_expression_holding_another_infinity_reruns_its_reader(workdir):
    holes = pl.DataFrame({"x": [1.0, None]})
    first = _clip_pipeline(float("inf")).run(inputs={"raw": holes})
    assert column(first) == [1.0, float("inf")]
    again = _clip_pipeline(float("-inf")).run(inputs={"raw": holes})  # JSON shows both as null
    assert status(again) == "succeeded" and column(again) == [1.0, float("-inf")]
    assert status(_clip_pipeline(float("-inf")).run(inputs={"raw": holes})) == "skipped"


INTERRUPTED_TASKS = """
raw = Dataset("raw")
a, b = Dataset("a", storage=ObjectStorage()), Dataset("b", storage=ObjectStorage())

@task(timeout=60)
def slow(r: raw) -> a:
    Path("started").write_text(str(os.getpid()))
    for _ in range(300):  # 3 s, stoppable between two sleeps
        time.sleep(0.01)
    Path("landed").touch()  # a side effect the interrupted run must never see
    return r

@task()
def interrupt(r: raw) -> b:  # Ctrl-C while slow runs
    for _ in range(3000):
        if Path("started").exists():
            raise KeyboardInterrupt
        time.sleep(0.01)
    raise AssertionError("slow never started")

pipeline = Pipeline([slow, interrupt], name="interrupted")
"""
INTERRUPTED_HEAD = """
import os
import time
from pathlib import Path

from glacier import Dataset, Pipeline, task
from glacier.storage import ObjectStorage
"""


@pytest.mark.parametrize(
    "where",
    [pytest.param("worker", marks=pytest.mark.slow), "thread"],
    ids=["worker-process", "in-process"],
)
def test_an_interrupted_run_ends_its_timed_attempts_before_it_returns(project, where):
    if where == "worker":  # at module level, a worker process can import the timed task
        project.write(flow=INTERRUPTED_HEAD + INTERRUPTED_TASKS)
    else:  # made in a function, it cannot: the attempt runs in a thread of this process
        made = textwrap.indent(INTERRUPTED_TASKS, "    ") + "    return pipeline\n"
        project.write(flow=INTERRUPTED_HEAD + "\ndef build():" + made + "\npipeline = build()\n")
    with pytest.raises(KeyboardInterrupt):
        project.session().pipeline.run(inputs={"raw": RAW})
    ran_in = int(Path("started").read_text())
    assert (ran_in != os.getpid()) == (where == "worker")
    time.sleep(3.5)  # the attempt would have finished by now
    assert not Path("landed").exists()
