"""A pipeline whose tasks form a cycle: a -> b -> c -> a."""

from __future__ import annotations

from glacier import Dataset, Pipeline

x = Dataset("x")
y = Dataset("y")
z = Dataset("z")

pipeline = Pipeline(name="cyclic")


@pipeline.task()
def a(data: z) -> x:
    return data


@pipeline.task()
def b(data: x) -> y:
    return data


@pipeline.task()
def c(data: y) -> z:
    return data
