"""Two pipelines in one module: a REF to it must say which one."""

from __future__ import annotations

from glacier import Dataset, Pipeline

a_in = Dataset("a_in")
a_out = Dataset("a_out")

first = Pipeline(name="first")
second = Pipeline(name="second")
alias = first  # the same object under two names counts once


@first.task()
def make_a(data: a_in) -> a_out:
    return data


@second.task()
def make_b(data: a_out) -> None:
    return None


def not_a_pipeline() -> int:
    return 3
