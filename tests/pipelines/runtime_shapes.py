"""DAG shapes for the state machine tests: linear, diamond, wide fan-out, multi-stage,
uneven chains and a shape that is not series-parallel.

The tasks are built from (name, inputs, output) triples so each shape is one readable edge
list; every task concatenates its inputs (or makes a one-row frame when it has none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from glacier import Dataset, Pipeline, Task, compute, task


def _node(name: str, inputs: Sequence[Dataset], output: Dataset, options: dict[str, Any]) -> Task:
    """A task ``name(in_0: inputs[0], ...) -> output`` built from its edges."""
    params = ", ".join(f"in_{i}" for i in range(len(inputs)))
    body = f"pl.concat([{params}])" if inputs else "pl.LazyFrame({'x': [1]})"
    namespace: dict[str, object] = {"pl": pl, "__name__": __name__}
    exec(f"def {name}({params}):\n    return {body}", namespace)
    fn = namespace[name]
    fn.__annotations__ = {**{f"in_{i}": d for i, d in enumerate(inputs)}, "return": output}  # type: ignore[attr-defined]
    return task(**options)(fn)  # type: ignore[arg-type]


def _pipeline(
    name: str, edges: Mapping[str, Sequence[str]], options: Mapping[str, dict[str, Any]]
) -> Pipeline:
    """A pipeline whose task ``t`` reads the outputs of ``edges[t]`` and writes ``ds_<t>``."""
    data = {t: Dataset(f"ds_{t}") for t in edges}
    return Pipeline(
        [_node(t, [data[u] for u in ups], data[t], options.get(t, {})) for t, ups in edges.items()],
        name=name,
    )


def linear(n: int = 4) -> Pipeline:
    """step_0 -> step_1 -> ... -> step_{n-1}; step_i retries i % 3 times."""
    edges = {f"step_{i}": [f"step_{i - 1}"] if i else [] for i in range(n)}
    return _pipeline("linear", edges, {f"step_{i}": {"retries": i % 3} for i in range(n)})


def diamond() -> Pipeline:
    """extract -> (left, right) -> join; right runs in a container."""
    edges = {"extract": [], "left": ["extract"], "right": ["extract"], "join": ["left", "right"]}
    options = {
        "extract": {"retries": 2, "timeout": 30},
        "right": {"compute": compute.container()},
        "join": {"retries": 1},
    }
    return _pipeline("diamond", edges, options)


def wide(n: int = 12) -> Pipeline:
    """seed fanning out to ``n`` parallel branches, gathered by one task."""
    branches = [f"branch_{i:02d}" for i in range(n)]
    edges = {"seed": [], **{b: ["seed"] for b in branches}, "gather": branches}
    return _pipeline("wide", edges, {b: {"retries": i % 2} for i, b in enumerate(branches)})


def multi_stage() -> Pipeline:
    """a -> (b, c, d); b -> e; (c, e) -> f; d -> g: stages of width 1, 3, 2, 1 and a skip edge."""
    edges = {"a": [], "b": ["a"], "c": ["a"], "d": ["a"], "e": ["b"], "f": ["c", "e"], "g": ["d"]}
    return _pipeline("stages", edges, {"f": {"retries": 3}})


def uneven_chains() -> Pipeline:
    """Two independent chains of different lengths (long_1..long_4, short_1..short_2), joined by
    ``report``: short_2 must not wait for long_2, as a stage-by-stage run would make it."""
    edges = {
        "long_1": [],
        "long_2": ["long_1"],
        "long_3": ["long_2"],
        "long_4": ["long_3"],
        "short_1": [],
        "short_2": ["short_1"],
        "report": ["long_4", "short_2"],
    }
    return _pipeline("chains", edges, {})


def n_shape() -> Pipeline:
    """a -> c, b -> c, b -> d, c -> e, d -> e: not series-parallel (the N inside), so one
    wait is added: d waits for a, which it does not depend on."""
    edges = {"a": [], "b": [], "c": ["a", "b"], "d": ["b"], "e": ["c", "d"]}
    return _pipeline("nshape", edges, {})


def audited_chain(n: int = 60) -> Pipeline:
    """A chain step_i, each step with a side task audit_i, all audits gathered by ``final``:
    series-parallel, and its plan nests ``n`` Parallel states deep."""
    edges: dict[str, list[str]] = {}
    for i in range(n):
        edges[f"step_{i}"] = [f"step_{i - 1}"] if i else []
        edges[f"audit_{i}"] = [f"step_{i}"]
    edges["final"] = [f"audit_{i}" for i in range(n)]
    return _pipeline("audited", edges, {})
