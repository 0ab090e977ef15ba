"""The Logic App definition read back: its order is the DAG, its retries are the tasks', its
jobs are started and polled; its control flow executed by a small interpreter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure_compile import compile_ref
from logic_interpreter import execute
from logic_order import finished_before

from glacier import Dataset, Pipeline, compute
from glacier.errors import CompilationError
from glacier.storage import ObjectStorage
from glacier_azure.parts import definitions
from glacier_azure.schedule import recurrence
from glacier_azure.workflow import Target, count_actions, definition

OUTCOMES = "https://work.blob.core.windows.net/work"


def _definition(pipeline: Pipeline) -> dict[str, Any]:
    """The definition of ``pipeline`` (its container tasks as jobs, the others as functions),
    placeholders left as they are."""
    spec = pipeline.spec()
    targets = {
        t.name: Target("job" if t.compute.type == "container" else "function", t.name, 60,
                       t.retries, 1.0, 2048, OUTCOMES)
        for t in spec.tasks
    }  # fmt: skip
    document = definition(spec, targets, None)
    return json.loads(json.dumps(document))


def _diamond(a_retries: int = 0, c_retries: int = 0) -> Pipeline:
    """a -> (b, c) -> d, plus an independent e; c is a container task (a job)."""
    p = Pipeline(name="diamond")
    short = compute.serverless(timeout=60)
    src = Dataset("src", storage=ObjectStorage())
    ab, ac, bd, cd = (Dataset(n) for n in ("ab", "ac", "bd", "cd"))
    out, lone = Dataset("out", storage=ObjectStorage()), Dataset("lone", storage=ObjectStorage())

    @p.task(compute=short, retries=a_retries)
    def a(x: src) -> tuple[ab, ac]:  # type: ignore[valid-type]
        return x, x

    @p.task(compute=short)
    def b(x: ab) -> bd:  # type: ignore[valid-type]
        return x

    @p.task(compute=compute.container(), retries=c_retries)
    def c(x: ac) -> cd:  # type: ignore[valid-type]
        return x

    @p.task(compute=short)
    def d(x: bd, y: cd) -> out:  # type: ignore[valid-type]
        return x

    @p.task(compute=short)
    def e(x: src) -> lone:  # type: ignore[valid-type]
        return x

    return p


def _ok(method: str, uri: str, body: Any) -> tuple[int, Any]:
    if uri.startswith(OUTCOMES):
        return 404, "<Error><Code>BlobNotFound</Code></Error>"
    if uri.endswith("/start?api-version=2024-03-01"):
        return 202, {"id": "/subscriptions/s/jobs/j/executions/x1", "name": "x1"}
    if "/executions/" in uri:
        return 200, {"properties": {"status": "Succeeded"}}
    return 200, {"task": body["task"]}


def test_run_after_lists_exactly_each_tasks_producers() -> None:
    actions = _definition(_diamond())["actions"]
    after = {n: sorted(a["runAfter"]) for n, a in actions.items()}
    assert after["task_a"] == ["run_id"] and after["task_e"] == ["run_id"]
    assert after["task_b"] == ["task_a"] and after["task_c_run"] == ["task_a"]
    assert after["task_d"] == ["task_b", "task_c"]  # fan-in on the job's final check
    assert after["task_c"] == ["task_c_run"]


def test_the_interpreter_runs_producers_first_and_siblings_together() -> None:
    run = execute(_definition(_diamond()), _ok)
    assert run.failed is None
    waves = run.waves
    assert waves["task_a"] == waves["task_e"]  # independent roots start together
    assert waves["task_b"] == waves["task_c_run"] > waves["task_a"]  # siblings in parallel
    assert waves["task_d"] > max(waves["task_b"], waves["task_c"])
    called = [json.dumps(b) for _, _, b in run.calls if b and "task" in b]
    assert len(called) == 4  # the four functions, once each
    run_ids = {b["run_id"] for _, _, b in run.calls if b and "run_id" in b}
    assert run_ids == {run.run_name}


def test_a_given_run_id_reaches_every_task_including_jobs() -> None:
    run = execute(_definition(_diamond()), _ok, trigger_body={"run_id": "resume-7"})
    bodies = [b for _, _, b in run.calls if b]
    assert {b["run_id"] for b in bodies if "run_id" in b} == {"resume-7"}
    (start,) = [b for b in bodies if "containers" in b]
    assert start["containers"][0]["args"] == ["--task", "c", "--run-id", "resume-7"]


def test_retries_follow_the_task_and_permanent_failures_are_not_retried() -> None:
    definition = _definition(_diamond(a_retries=3))
    policy = definition["actions"]["task_a"]["inputs"]["retryPolicy"]
    assert policy["type"] == "exponential" and policy["count"] == 3
    assert definition["actions"]["task_b"]["inputs"]["retryPolicy"] == {"type": "none"}
    attempts: list[str] = []

    def flaky(status: int) -> Any:
        def http(method: str, uri: str, body: Any) -> tuple[int, Any]:
            if body and body.get("task") == "a":
                attempts.append("a")
                return status, {"retryable": status >= 500}
            return _ok(method, uri, body)

        return http

    run = execute(definition, flaky(500))
    assert attempts == ["a"] * 4 and "task_b" not in run.status
    attempts.clear()
    execute(definition, flaky(422))  # the runtime's answer to a deterministic failure
    assert attempts == ["a"]


def test_a_job_is_polled_until_it_ends_and_retried_when_it_fails() -> None:
    definition = _definition(_diamond())
    states = iter(["Running", "Running", "Failed", "Running", "Succeeded"])
    starts: list[str] = []

    def http(method: str, uri: str, body: Any) -> tuple[int, Any]:
        if uri.endswith("/start?api-version=2024-03-01"):
            starts.append(uri)
            return 202, {
                "id": f"/subscriptions/s/jobs/c/executions/x{len(starts)}",
                "name": f"x{len(starts)}",
            }
        if "/executions/" in uri:
            assert method == "GET" and uri.endswith(f"x{len(starts)}?api-version=2024-03-01")
            return 200, {"properties": {"status": next(states)}}
        return _ok(method, uri, body)

    no_retries = execute(definition, http)
    assert len(starts) == 1 and no_retries.failed is not None
    assert "task c" in no_retries.failed and "task_d" not in no_retries.status
    loop = definition["actions"]["task_c_run"]
    wait = loop["actions"]["task_c_wait"]
    assert wait["actions"]["task_c_delay"]["inputs"]["interval"] == {"count": 30, "unit": "Second"}
    start = loop["actions"]["task_c_start"]["inputs"]
    assert start["authentication"]["type"] == "ManagedServiceIdentity"
    assert start["authentication"]["audience"] == "https://management.azure.com/"


def test_a_failed_job_is_started_again_within_its_retries() -> None:
    definition = _definition(_diamond(c_retries=1))
    states = iter(["Failed", "Succeeded"])
    starts: list[str] = []

    def http(method: str, uri: str, body: Any) -> tuple[int, Any]:
        if uri.endswith("/start?api-version=2024-03-01"):
            starts.append(uri)
            return 202, {"id": f"/x/executions/x{len(starts)}", "name": f"x{len(starts)}"}
        if "/executions/" in uri:
            return 200, {"properties": {"status": next(states)}}
        return _ok(method, uri, body)

    run = execute(definition, http)
    assert len(starts) == 2 and run.failed is None and run.status["task_d"] == "Succeeded"


@pytest.mark.slow
def test_the_schedule_is_a_recurrence_in_the_configured_time_zone(orders_infra: Any) -> None:
    definition = json.loads(orders_infra.stacks["azure"].files["workflow.json"])
    (trigger,) = definition["triggers"].values()
    assert trigger["type"] == "Recurrence"
    assert trigger["recurrence"] == {
        "frequency": "Week", "interval": 1, "timeZone": "<<time_zone>>",
        "schedule": {"hours": [2], "minutes": [0],
                     "weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("0 2 * 6 *", "month of the year"),
        ("0 2 1 * 1", "both the day of the month and of the week"),
    ],
)
def test_schedules_a_recurrence_cannot_hold_are_refused(schedule: str, problem: str) -> None:
    with pytest.raises(CompilationError, match=problem):
        recurrence(schedule)


def test_too_many_actions_for_one_logic_app_is_a_clear_error() -> None:
    p = Pipeline(name="wide")
    src = Dataset("src", storage=ObjectStorage())
    for i in range(80):  # 80 jobs x 7 actions > 500

        def body(x: Any) -> Any:
            return x

        body.__name__ = f"t{i}"
        out = Dataset(f"o{i}", storage=ObjectStorage())
        body.__annotations__ = {"x": src, "return": out}
        p.task(compute=compute.container(), name=f"t{i}")(body)
    with pytest.raises(CompilationError, match=r"721 actions .* over the 500 Logic Apps allows"):
        _definition(p)


@pytest.mark.slow
def test_the_orders_definition_is_stable(orders_infra: Any) -> None:
    again = compile_ref("azure_orders").stacks["azure"].files
    assert again == orders_infra.stacks["azure"].files


def _tree(n: int, job_every: int) -> Pipeline:
    """A binary tree of ``n`` tasks (every ``job_every``-th a job), then ``gather`` reading
    every leaf: the conformance suite's scale shape."""
    p = Pipeline(name=f"tree{n}")
    data = {0: Dataset("d0", storage=ObjectStorage())}
    root = Dataset("root", storage=ObjectStorage())

    def add(i: int, source: Any) -> None:
        out = Dataset(f"d{i}", storage=ObjectStorage()) if i else data[0]
        data[i] = out

        def body(x: Any) -> Any:
            return x

        body.__annotations__ = {"x": source, "return": out}
        kind = compute.container() if i % job_every == 0 else compute.serverless(timeout=60)
        p.task(compute=kind, name=f"t{i}")(body)

    add(0, root)
    for i in range(1, n):
        add(i, data[(i - 1) // 2])
    leaves = [i for i in range(n) if 2 * i + 1 >= n]

    scope: dict[str, Any] = {}
    exec(f"def gather({', '.join(f'x{i}' for i in leaves)}):\n    return x{leaves[0]}\n", scope)
    gather = scope["gather"]
    gather.__annotations__ = {f"x{i}": data[i] for i in leaves}
    gather.__annotations__["return"] = Dataset("all", storage=ObjectStorage())
    p.task(compute=compute.container(), name="gather")(gather)
    return p


def _split(pipeline: Pipeline) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = pipeline.spec()
    targets = {
        t.name: Target("job" if t.compute.type == "container" else "function", t.name, 60,
                       t.retries, 1.0, 2048, OUTCOMES)
        for t in spec.tasks
    }  # fmt: skip
    main, children = definitions(spec, targets, None)
    main, children = json.loads(json.dumps(main)), json.loads(json.dumps(children))
    return main, {f"<<logic_part_{n}.id>>": c for n, c in enumerate(children, start=1)}


def _ancestors(pipeline: Pipeline) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for task in pipeline.tasks:
        parents = [u.name for u in pipeline.upstream(task, direct=True)]
        found[task.name] = frozenset(parents).union(*(found[u] for u in parents))
    return found


@pytest.mark.parametrize(("size", "job_every"), [(1000, 1), (1000, 3), (600, 1000)])
def test_a_large_pipeline_is_split_over_nested_logic_apps_in_exact_order(
    size: int, job_every: int
) -> None:
    pipeline = _tree(size, job_every)
    main, children = _split(pipeline)
    assert children, "a pipeline this large needs child Logic Apps"
    for doc in [main, *children.values()]:
        assert count_actions(doc["actions"]) <= 500
        assert len(json.dumps(doc).encode()) < 4_000_000  # ARM's request limit
    order = finished_before(main, children)
    assert sorted(t for t, _ in order) == sorted(t.name for t in pipeline.tasks)
    assert dict(order) == _ancestors(pipeline)  # producers first, nothing else waited for
    run = execute(main, _ok, children=children)
    assert run.failed is None and run.status[next(iter(main["actions"]))] == "Succeeded"
    started = [b["task"] if "task" in b else b["containers"][0]["args"][1]
               for _, _, b in run.calls if b and ("task" in b or "containers" in b)]  # fmt: skip
    assert sorted(started) == sorted(t.name for t in pipeline.tasks)
    position = {t: i for i, t in enumerate(started)}
    for task, ancestors in _ancestors(pipeline).items():
        assert all(position[a] < position[task] for a in ancestors), task
