"""@task: inputs and outputs from every annotation form, parameters, and task-local errors."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Annotated, Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline, Task, compute, task
from glacier.errors import DefinitionError
from glacier.ir import PipelineIR

raw = Dataset("raw")
out = Dataset("out")
other = Dataset("other")


def _io(t: Task) -> tuple[list[tuple[str, str, str]], list[str], tuple[str, ...]]:
    inputs = [(i.param, i.dataset.name, i.frame) for i in t.inputs]
    return inputs, [d.name for d in t.outputs], t.output_frames


# -- every annotation form, with and without `from __future__ import annotations` -------------


def test_bare_dataset_input_and_output(sample_module: ModuleType) -> None:
    t = sample_module.clean_orders
    assert _io(t) == ([("data", "orders", "lazy")], ["clean"], ("any",))
    assert t.compute == compute.serverless(memory=512) and t.retries == 2
    assert t.description == "Drop non-positive amounts."


def test_annotated_lazyframe_and_dataframe(sample_module: ModuleType) -> None:
    inputs, outputs, frames = _io(sample_module.enrich)
    assert inputs == [("rows", "clean", "lazy"), ("people", "customers", "eager")]
    assert (outputs, frames) == (["enriched"], ("lazy",))


def test_tuple_output_params_and_depends_on(sample_module: ModuleType) -> None:
    t = sample_module.split
    assert _io(t) == ([("data", "enriched", "lazy")], ["big", "small"], ("any", "any"))
    assert [(p.name, p.default, p.annotation) for p in t.params] == [
        ("min_total", 10.0, "float"),
        ("label", "x", "str"),
    ]
    assert t.depends_on == (sample_module.clean_orders,)


def test_none_output_is_a_sink_only_task(sample_module: ModuleType) -> None:
    assert _io(sample_module.report) == ([("data", "big", "lazy")], [], ())


def test_datasets_declared_inside_a_builder_function(sample_module: ModuleType) -> None:
    built = sample_module.build()
    assert [t.name for t in built.tasks] == ["first", "second"]
    second = built.tasks[1]
    assert _io(second) == ([("data", "middle", "eager")], ["final"], ("any",))
    assert [d.name for d in built.sources] == ["source"]


def test_both_modules_give_the_same_dag(pipelines_dir: Any) -> None:
    import sys

    from glacier.loader import load_pipeline

    future = load_pipeline(str(pipelines_dir / "core_future.py"))
    plain = load_pipeline(str(pipelines_dir / "core_plain.py"))
    assert sys.modules["core_future"].pipeline is future

    def strip(spec: PipelineIR) -> PipelineIR:
        tasks = tuple(replace(t, module="", code_hash="") for t in spec.tasks)
        return replace(spec, name="", source=None, tasks=tasks)

    assert strip(future.spec()) == strip(plain.spec())


def test_nested_builder_in_this_future_module() -> None:
    def build() -> Pipeline:
        local_in = Dataset("local_in")
        local_out = Dataset("local_out", schema={"x": pl.Int64})

        @task()
        def step(data: Annotated[pl.LazyFrame, local_in]) -> local_out:
            return data

        return Pipeline([step], name="nested")

    p = build()
    assert [d.name for d in p.datasets] == ["local_in", "local_out"]


# -- the task is still the plain function ------------------------------------------------------


def test_task_is_callable_as_the_plain_function() -> None:
    @task(compute=compute.local())
    def double(data: raw, factor: int = 2) -> out:
        """Multiply x."""
        return data.with_columns(pl.col("x") * factor)

    assert isinstance(double, Task)
    result = double(pl.LazyFrame({"x": [1, 2]}), factor=3).collect()
    assert result["x"].to_list() == [3, 6]
    assert double.__name__ == "double" and double.__doc__ == "Multiply x."
    assert double.__wrapped__ is double.fn


def test_bare_decorator_and_name_override() -> None:
    @task
    def plain(data: raw) -> out:
        return data

    named = task(name="renamed")(plain.fn)
    assert plain.name == "plain" and named.name == "renamed"


def test_wrapped_function_signature_is_honoured() -> None:
    import functools

    def inner(data: raw, k: int = 1) -> out:
        return data

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return inner(*args, **kwargs)

    t = task(wrapper)
    assert [i.param for i in t.inputs] == ["data"] and [p.name for p in t.params] == ["k"]


def test_keyword_only_and_positional_defaults() -> None:
    @task()
    def kw(a: raw, b: int = 1, *, c: str = "z", d: other) -> out:
        return a

    assert [i.param for i in kw.inputs] == ["a", "d"]
    assert [(p.name, p.default) for p in kw.params] == [("b", 1), ("c", "z")]


# -- task-local errors: raised at decoration, each message pinned ------------------------------


def test_parameter_with_neither_dataset_nor_default() -> None:
    with pytest.raises(DefinitionError, match=r"parameter 'n' has no annotation and no default"):

        @task()
        def f(data: raw, n) -> out:  # type: ignore[no-untyped-def]
            return data


def test_non_dataset_annotation_without_default() -> None:
    with pytest.raises(
        DefinitionError,
        match=r"parameter 'data' has annotation <class 'polars.*LazyFrame'> and no default; "
        r"expected a Dataset annotation",
    ):

        @task()
        def f(data: pl.LazyFrame) -> out:
            return data


def test_string_in_depends_on() -> None:
    with pytest.raises(
        DefinitionError,
        match=r"task 'f': depends_on accepts Task objects only, found 'upstream' "
        r"\(pass the Task object `upstream` itself, not its name\)",
    ):

        @task(depends_on=["upstream"])  # type: ignore[list-item]
        def f(data: raw) -> out:
            return data


def test_bad_output_annotation() -> None:
    with pytest.raises(
        DefinitionError,
        match=r"return annotation <class 'int'> is not a Dataset; expected a Dataset",
    ):

        @task()
        def f(data: raw) -> int:
            return 1

    with pytest.raises(DefinitionError, match=r"return annotation tuple\[.*\] is not a Dataset"):

        @task()
        def g(data: raw) -> tuple[out, int]:  # type: ignore[valid-type]
            return data, 1


def test_missing_return_annotation() -> None:
    with pytest.raises(DefinitionError, match=r"task 'f' .*: missing return annotation; expected"):

        @task()
        def f(data: raw):  # type: ignore[no-untyped-def]
            return data


def test_unresolvable_annotation() -> None:
    with pytest.raises(DefinitionError, match=r"cannot resolve annotation: name 'nowhere' is not"):

        @task()
        def f(data: nowhere) -> out:  # type: ignore[name-defined] # noqa: F821
            return data


def test_varargs_are_rejected() -> None:
    with pytest.raises(DefinitionError, match=r"\*rest / \*\*rest are not supported"):

        @task()
        def f(data: raw, *rest: Any) -> out:
            return data


def test_non_json_default() -> None:
    with pytest.raises(
        DefinitionError, match=r"parameter 'when' has default .* must be JSON values"
    ):

        @task()
        def f(data: raw, when: object = object()) -> out:
            return data


def test_annotated_with_two_datasets() -> None:
    with pytest.raises(DefinitionError, match=r"names several Datasets in Annotated\[...\]"):

        @task()
        def f(data: Annotated[pl.LazyFrame, raw, other]) -> out:
            return data


def test_same_dataset_in_and_out_and_twice_out() -> None:
    with pytest.raises(DefinitionError, match=r"'raw' is both an input and an output"):

        @task()
        def f(data: raw) -> raw:
            return data

    with pytest.raises(DefinitionError, match=r"dataset 'out' appears twice in the return"):

        @task()
        def g(data: raw) -> tuple[out, out]:
            return data, data


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"compute": "lambda"}, r"compute must be a compute resource such as compute.serverless"),
        ({"retries": -1}, r"retries must be an int >= 0, found -1"),
        ({"retries": True}, r"retries must be an int >= 0, found True"),
        ({"timeout": 0}, r"timeout must be a number of seconds > 0, found 0"),
        (
            {"name": "Bad-Name"},
            r"Task name 'Bad-Name' is invalid: expected 1-63 .*; try 'bad_name'",
        ),
    ],
)
def test_bad_task_options(kwargs: dict[str, Any], pattern: str) -> None:
    def f(data: raw) -> out:
        return data

    with pytest.raises(DefinitionError, match=pattern):
        task(**kwargs)(f)


def test_task_requires_a_function() -> None:
    with pytest.raises(DefinitionError, match=r"@task expects a function, found 3"):
        task(3)  # type: ignore[arg-type]
