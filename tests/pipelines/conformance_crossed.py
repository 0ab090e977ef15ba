"""A DAG that is not series-parallel (an "N"): no orchestrator of sequences and parallel
branches can avoid every needless wait, but each task must still follow its producers.

    left  -> a -> a_out ---------> join -> joined
    right -> b -> b_out --------/
                      \\--------> solo -> solo_out
"""

from __future__ import annotations

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

left = Dataset("left", storage=ObjectStorage())
right = Dataset("right", storage=ObjectStorage())
a_out = Dataset("a_out", storage=ObjectStorage())
b_out = Dataset("b_out")
joined = Dataset("joined", storage=ObjectStorage())
solo_out = Dataset("solo_out", storage=ObjectStorage())

pipeline = Pipeline(name="crossed")


@pipeline.task()
def a(data: left) -> a_out:
    return data


@pipeline.task()
def b(data: right) -> b_out:
    return data


@pipeline.task()
def join(x: a_out, y: b_out) -> joined:
    return x.join(y, on="id")


@pipeline.task()
def solo(y: b_out) -> solo_out:
    return y
